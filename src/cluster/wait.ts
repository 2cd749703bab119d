import { SparkifyError } from '../errors.js';
import { isTransientAwsError } from '../aws/aws-errors.js';
import type { ClusterContext, ClusterStep } from './progress.js';

/**
 * Bounded polling: the pause grows ×1.5 from `pollMs.initial` to `pollMs.max`,
 * and waiting stops at the context's deadline. A transient failure of the
 * status call (throttling, a network blip) counts as "not yet", not as an error.
 */

export type PollResult<T> = { done: true; value: T } | { done: false; state: string };

export interface PollOptions<T> {
  step: ClusterStep;
  /** `Redshift cluster sparkify-dwh to become available`, for messages. */
  what: string;
  /** Looks once; throws to stop waiting with an error. */
  check(): Promise<PollResult<T>>;
}

/**
 * Polls until `check` is done, reporting each wait through the context.
 *
 * @example
 *   const cluster = await pollUntil(ctx, { step: 'wait', what: 'cluster to become available', check: async () => … });
 */
export async function pollUntil<T>(ctx: ClusterContext, options: PollOptions<T>): Promise<T> {
  const started = ctx.now();
  let pause = ctx.pollMs.initial;
  for (;;) {
    let state: string;
    try {
      const result = await options.check();
      if (result.done) return result.value;
      state = result.state;
    } catch (err) {
      if (!isTransientAwsError(err)) throw err;
      state = 'unknown (AWS did not answer; retrying)';
    }
    const elapsedMs = ctx.now() - started;
    if (ctx.now() + pause > ctx.deadline) {
      throw new SparkifyError('CLUSTER_FAILED', `Timed out after ${formatDuration(elapsedMs)} waiting for ${options.what} (last state: ${state}).`, {
        hint: 'AWS may still finish: run `sparkify cluster status`, or re-run the command to keep waiting (it resumes).',
        transient: true,
      });
    }
    ctx.emit({ step: options.step, status: 'waiting', message: `waiting for ${options.what}: ${state} (${formatDuration(elapsedMs)})`, state, elapsedMs });
    await ctx.sleep(pause);
    pause = Math.min(Math.round(pause * 1.5), ctx.pollMs.max);
  }
}

/**
 * Retries `call` while `retryable(err)` says so, at most `attempts` times with
 * a fixed pause: for IAM's eventual consistency right after a role is created.
 */
export async function retrying<T>(ctx: ClusterContext, attempts: number, pauseMs: number, retryable: (err: unknown) => boolean, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !retryable(err) || ctx.now() + pauseMs > ctx.deadline) throw err;
      await ctx.sleep(pauseMs);
    }
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
