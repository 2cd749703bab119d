import { SparkifyError } from '../errors.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import type { PipelineOptions, RetryInfo } from './report.js';

/**
 * Transient faults (a connection reset, a server restarting, S3 throttling or
 * 5xx after the SDK's own retries, Redshift's serializable isolation
 * violation, too many Data API statements) retry the whole attempt, a bounded
 * number of times, with a growing pause, on a new connection. That is safe
 * because an attempt changes nothing until its last transaction commits
 * (publish.ts) and builds every table from the sources: a retried run ends
 * exactly as a clean one. Anything else fails at once.
 */

export interface RetryOptions {
  /** Attempts after the first, for transient faults only. Default 2; 0 turns retrying off. */
  retries?: number;
  /** The first pause; each next one doubles (with jitter), up to 30 s. Default 2000 ms. */
  retryDelayMs?: number;
}

export const DEFAULT_RETRIES = 2;
const DEFAULT_DELAY_MS = 2000;
const MAX_DELAY_MS = 30_000;

/**
 * Runs `attempt` until it succeeds, fails with an error that is not
 * transient, or has been tried `1 + retries` times. Before each retry the
 * warehouse reconnects (a failure to reconnect uses up that attempt too).
 * Each retry is reported as a `retry` event and added to `retried`.
 *
 * @example
 *   const retried: RetryInfo[] = [];
 *   await withRetries(wh, { retries: 2 }, retried, () => withLock(wh, () => load()));
 */
export async function withRetries<T>(wh: Warehouse, options: PipelineOptions & RetryOptions, retried: RetryInfo[], attempt: () => Promise<T>): Promise<T> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  for (let n = 1; ; n++) {
    try {
      if (n > 1) await wh.reconnect();
      return await attempt();
    } catch (err) {
      const transient = err instanceof SparkifyError && err.transient && !options.signal?.aborted;
      if (!transient) throw err;
      if (n > retries) throw retries > 0 ? gaveUp(err, n) : err;
      const delayMs = pause(n, options.retryDelayMs ?? DEFAULT_DELAY_MS);
      const info: RetryInfo = { attempt: n + 1, attempts: retries + 1, delaySeconds: delayMs / 1000, code: err.code, message: err.message, stage: err.stage };
      retried.push(info);
      options.onEvent?.({ type: 'retry', ...info });
      await sleep(delayMs, options.signal);
    }
  }
}

/** The n-th pause: `base` × 2^(n-1), between half and all of it (so that runs that failed together do not retry together). */
function pause(n: number, base: number): number {
  const full = Math.min(base * 2 ** (n - 1), MAX_DELAY_MS);
  return Math.round(full * (0.5 + Math.random() / 2));
}

function gaveUp(err: SparkifyError, attempts: number): SparkifyError {
  return new SparkifyError(err.code, `${err.message} (failed ${attempts} times; no table was changed)`, {
    cause: err.cause ?? err,
    hint: `${err.hint ? `${err.hint} ` : ''}(It was tried ${attempts} times; --retries sets how often.)`,
    sql: err.sql,
    stage: err.stage,
    transient: true,
  });
}

/** Waits `ms`, or fails with ABORTED as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const stopped = () =>
    new SparkifyError('ABORTED', 'Stopped while waiting to retry; no table was changed.', {
      hint: 'Run the command again when you are ready: it starts from the sources.',
    });
  if (signal?.aborted) return Promise.reject(stopped());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(stopped());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
