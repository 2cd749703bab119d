/**
 * What the pipeline tells its caller: events while it works, and what each
 * stage did when it is done (rows, rejects, files, bytes, seconds).
 */

export type StageName = 'create-tables' | 'load staging_songs' | 'load staging_events' | 'transform' | 'publish';

export interface StageInfo {
  stage: StageName;
  seconds: number;
  /** Rows written (loads: staging rows; transform: all star rows). */
  rows: number;
  rejected?: number;
  files?: number;
  bytes?: number;
  /** Loads: files that needed the warehouse's slow, exact path (DuckDB: a record to reject or coerce). */
  exactFiles?: number;
  /** Loads: records whose bytes were not valid UTF-8, read with U+FFFD in their place. */
  invalidUtf8?: number;
  /** Rows per table written by this stage. */
  tables?: Record<string, number>;
  /** Transform: distinct mis-encoded titles and artist names repaired in songplays (staging keeps them as they were). */
  repaired?: number;
  /** Loads: the source's files compared with what earlier runs loaded (etl_files). */
  changes?: FileChanges;
}

/**
 * What one load found in its source, compared with the ledger of loaded files:
 * files new since the last run, changed (their records replaced), unchanged
 * (not read at all), missing from the source (their records kept), pruned
 * (their records removed, with --prune); and records loaded and removed. In a
 * full run every file counts as new.
 */
export interface FileChanges {
  new: number;
  changed: number;
  unchanged: number;
  missing: number;
  pruned: number;
  /** Rows the new and changed files gave. */
  newRecords: number;
  /** Rows removed with the old versions of changed files, and with pruned files. */
  removedRecords: number;
  /** Files left out by --since/--until. */
  outOfRange?: number;
}

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName }
  /**
   * A load's progress: records, bytes and files read so far, of `totalFiles` files
   * (`totalBytes` bytes, as listed). Sent when a load starts (all zero) and as it goes;
   * a warehouse that reads many files in one statement (DuckDB) sends it when the statement ends.
   */
  | { type: 'progress'; stage: StageName; records: number; bytes: number; files: number; totalFiles: number; totalBytes?: number }
  /** A stage made of steps (transform: one statement per star table) starts step `step`, `done` of `total` being done. */
  | { type: 'step'; stage: StageName; step: string; done: number; total: number }
  | { type: 'stage-end'; info: StageInfo }
  /** Something the user should look at; the run goes on. */
  | { type: 'warning'; stage: StageName; message: string }
  /** A transient fault ended an attempt; the run starts again after a pause (retry.ts). */
  | ({ type: 'retry' } & RetryInfo);

/** One retry of a run after a transient fault. */
export interface RetryInfo {
  /** The attempt about to start (2 for the first retry), of `attempts` at most. */
  attempt: number;
  attempts: number;
  /** The pause before it. */
  delaySeconds: number;
  /** The fault that ended the previous attempt. */
  code: string;
  message: string;
  stage?: string;
}

export interface PipelineOptions {
  onEvent?: (event: PipelineEvent) => void;
  /**
   * Stops the run when aborted (Ctrl-C): the running statement is cancelled,
   * the run's copies dropped and the lock released; it fails with ABORTED and
   * no table is changed.
   */
  signal?: AbortSignal;
}

export interface EtlReport {
  /** The warehouse, described as `describeTarget` does (no password). */
  warehouse: string;
  /** `full`: every table rebuilt from the sources; `incremental`: only new and changed files folded in. */
  mode: 'full' | 'incremental';
  /** Why a run was full (`--full-refresh`, `the tables are new`, …). */
  modeReason?: string;
  /** This run's id in etl_runs. */
  runId: number;
  stages: StageInfo[];
  /** Rows per table after the run. */
  counts: Record<string, number>;
  rejected: number;
  /** What the run warned about (also sent as `warning` events). */
  warnings: string[];
  /** Transient faults the run recovered from by starting again (also sent as `retry` events). */
  retries: RetryInfo[];
  seconds: number;
}
