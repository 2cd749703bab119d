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
  /** Rows per table written by this stage. */
  tables?: Record<string, number>;
}

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName }
  | { type: 'progress'; stage: StageName; records: number; bytes: number; files: number; totalFiles: number }
  | { type: 'stage-end'; info: StageInfo };

export interface PipelineOptions {
  onEvent?: (event: PipelineEvent) => void;
}

export interface EtlReport {
  /** The warehouse, described as `describeTarget` does (no password). */
  warehouse: string;
  stages: StageInfo[];
  /** Rows per table after the run. */
  counts: Record<string, number>;
  rejected: number;
  seconds: number;
}
