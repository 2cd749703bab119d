import { SparkifyError, type ConfigIssue } from '../errors.js';
import type { SqlDialect } from '../schema/dialect.js';
import type { Table } from '../schema/tables.js';
import type { RecordFormat } from '../sources/records.js';
import type { Source, SourceFile } from '../sources/source.js';

/**
 * The seam between the pipeline and a database. A warehouse is a small object:
 * its dialect (facts as data), `execute`, `query`, `transaction`,
 * `loadStaging`, `lock` and `close`. Everything else (schema, transforms,
 * counts) is written once on top of it.
 */
export interface Warehouse {
  /** `duckdb`, `postgres`, `redshift`. */
  readonly kind: string;
  /** Where it is, safe to print (no password). */
  readonly description: string;
  readonly dialect: SqlDialect;
  /** Runs one or more statements that return nothing. */
  execute(sql: string): Promise<void>;
  /** Runs a query; values come back normalised (see `SqlValue`). */
  query<T extends Row = Row>(sql: string): Promise<T[]>;
  /** Runs `fn` in one transaction: all of it commits, or none of it. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * What stops `source` from being loaded into `table` here, known before
   * anything runs (Redshift's COPY reads Amazon S3 only, and its JSONPaths file
   * in the data's region). The pipeline asks before it takes the lock, so such
   * a problem never touches a table.
   */
  sourceIssues(table: Table, source: Source): Promise<ConfigIssue[]>;
  /**
   * Appends every record of `input` to `input.into.rows` (an empty table shaped
   * like `table`) and its rejects to `input.into.rejects` (shaped like
   * etl_rejects). Runs outside any transaction: the pipeline fills copies of
   * the tables and publishes them at the end, all at once.
   */
  loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult>;
  /**
   * Makes sure no other sparkify run is writing to this warehouse until the
   * returned release function is called. Throws WAREHOUSE_LOCKED when it cannot.
   */
  lock(): Promise<() => Promise<void>>;
  /**
   * Asks the statement running now to stop (Ctrl-C): the call it belongs to
   * then fails, and the pipeline cleans up. Best effort; never throws.
   */
  cancel(): Promise<void>;
  /**
   * Replaces a connection lost to a transient fault (a reset, a server
   * restart, an ended Data API session) with a new one, set up as the first
   * was. The pipeline calls it before it retries a run; an embedded warehouse
   * has nothing to do.
   */
  reconnect(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Values as every warehouse returns them, so results compare across warehouses:
 * integers as `number` (or `bigint` beyond 2^53), floats as `number`,
 * timestamps as `YYYY-MM-DD HH:MM:SS.mmm` strings in UTC.
 */
export type SqlValue = string | number | bigint | boolean | null;

/** One step of a dry run: a statement as it would be sent, and/or a note on what happens there. */
export interface PlannedStatement {
  sql?: string;
  note?: string;
}
export type Row = Record<string, SqlValue>;

export interface StagingInput {
  /** The tables to append to: the run's copies of the staging table and of etl_rejects. */
  into: { rows: string; rejects: string };
  source: Source;
  files: readonly SourceFile[];
  /**
   * Every file the source lists, when the caller has listed it already (the
   * pipeline has), `files` being those to load: a loader that must know what
   * else is there (Redshift's COPY reads a whole prefix) need not list again.
   */
  sourceFiles?: readonly SourceFile[];
  /**
   * The id of each file (etl_files.file_id), in the order of `files`: every row
   * read from `files[i]` gets `file_id = fileIds[i]`, so that a changed file's
   * rows can be found and replaced. Without it, file_id stays NULL.
   */
  fileIds?: readonly number[];
  format: RecordFormat;
  /** Called as records are read, for progress. */
  onProgress?: (progress: { records: number; bytes: number; files: number }) => void;
  /**
   * The pipeline's reject limit (it fails the load past it). A warehouse that
   * loads in bulk may stop early with it (Redshift's COPY MAXERROR).
   */
  maxRejects?: number;
  /** Aborted when the run is stopped: a loader that works in Node stops between batches. */
  signal?: AbortSignal;
}

export interface StagingLoadResult {
  rows: number;
  rejected: number;
  bytes: number;
  /** Files that needed the slow, exact path (a record to reject or to coerce), where a warehouse has a faster one. */
  exactFiles?: number;
  /** Records whose bytes were not valid UTF-8, read with U+FFFD in their place (where the warehouse reads bytes itself, none). */
  invalidUtf8?: number;
}

/**
 * The error of a command that only reads (`counts`) when the database file or
 * schema it would read does not exist: it is never created for a read.
 */
export function notCreatedForReading(what: string): SparkifyError {
  return new SparkifyError('WAREHOUSE_NOT_READY', `${what} does not exist; nothing was created, since this command only reads.`, {
    hint: 'Check --warehouse and --schema for a typo; or build the tables with `sparkify run` (or `sparkify create-tables`).',
  });
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK (whose own failure is ignored, the first error
 * wins) when anything throws. Every warehouse's `transaction` is this.
 */
export async function inTransaction<T>(run: (sql: string) => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  await run('BEGIN');
  try {
    const result = await fn();
    await run('COMMIT');
    return result;
  } catch (err) {
    await run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
