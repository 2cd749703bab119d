import { setTimeout as delay } from 'node:timers/promises';
import { SparkifyError } from '../errors.js';
import type { ClusterClients } from './clients.js';
import type { ClusterSettings } from './settings.js';

/**
 * What the cluster commands report while they work, and the clock they work
 * by. Nothing in src/cluster prints: every step goes through `onProgress`, and
 * time (sleep, now) is injectable so tests never wait.
 */

export type ClusterStep = 'role' | 'cluster' | 'namespace' | 'workgroup' | 'network' | 'wait' | 'config';

export interface ClusterEvent {
  step: ClusterStep;
  /** `start` before an AWS change, `done` after it, `skipped` when nothing was needed, `waiting` while polling. */
  status: 'start' | 'done' | 'skipped' | 'waiting' | 'warning';
  /** One line, safe to print: never contains a password. */
  message: string;
  /** The raw AWS state while waiting (`creating`, `MODIFYING`, …). */
  state?: string;
  /** Time spent in the current wait. */
  elapsedMs?: number;
}

/** Options every cluster command accepts besides its settings and clients. */
export interface ClusterRunOptions {
  onProgress?: (event: ClusterEvent) => void;
  /** Waits `ms`; rejects when `signal` aborts. Default: a real timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
  /** Cancels waiting (Ctrl-C); the command then throws an `ABORTED` error and can be re-run. */
  signal?: AbortSignal;
  /** Give up waiting after this long overall. Default: 45 minutes. */
  timeoutMs?: number;
  /** First and longest pause between two status polls. Default: 5 s, growing ×1.5 up to 30 s. */
  pollMs?: { initial: number; max: number };
}

export const DEFAULT_TIMEOUT_MS = 45 * 60_000;

/** Everything a step needs: clients, settings, the clock and the reporter. */
export interface ClusterContext {
  clients: ClusterClients;
  settings: ClusterSettings;
  emit(event: ClusterEvent): void;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** The moment (by `now`) after which waiting gives up. */
  deadline: number;
  pollMs: { initial: number; max: number };
  signal?: AbortSignal;
}

export function makeContext(clients: ClusterClients, settings: ClusterSettings, options: ClusterRunOptions): ClusterContext {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  const signal = options.signal;
  return {
    clients,
    settings,
    emit: (event) => options.onProgress?.(event),
    now,
    sleep: async (ms) => {
      throwIfAborted(signal);
      try {
        await sleep(ms, signal);
      } catch (err) {
        throwIfAborted(signal);
        throw err;
      }
      throwIfAborted(signal);
    },
    deadline: now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    pollMs: options.pollMs ?? { initial: 5_000, max: 30_000 },
    signal,
  };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new SparkifyError('ABORTED', 'Stopped waiting: the operation was cancelled.', {
      hint: 'AWS keeps working on its side; run `sparkify cluster status` to see where it is, or re-run the command to resume.',
    });
  }
}
