import { SparkifyError } from '../errors.js';
import type { StagingTableName } from '../schema/tables.js';
import type { SqlValue, Warehouse } from '../warehouses/warehouse.js';
import { assertTablesExist, countTables, hasLedger, PRE_LEDGER_TABLES } from './stage.js';
import { dayOf } from './ledger.js';

/**
 * What has been loaded into a warehouse, read from its ledger (etl_files:
 * the files whose records are in the staging tables; etl_runs: the runs that
 * changed the tables). Only reads: a warehouse without the tables is
 * WAREHOUSE_NOT_READY, as for `countRows`, and nothing is created.
 *
 * The SQL is plain SELECTs with GROUP BY, the same on every warehouse; the
 * days and the gaps between them are worked out here, from the file names.
 */

/** How many runs `recentRuns` holds at most. */
export const RECENT_RUNS = 10;

export interface LoadStatus {
  /** Nothing loaded yet: the tables exist, but no file or run is recorded and staging is empty (`sparkify etl` fills them). */
  empty: boolean;
  /** Event log files (staging_events), with the days their names cover. */
  logs: LogFilesStatus;
  /** Song files (staging_songs). */
  songs: FilesStatus;
  /** The newest run (highest run_id), or null when none is recorded. */
  lastRun: RunStatus | null;
  /** The newest runs, newest first: at most RECENT_RUNS. */
  recentRuns: RunStatus[];
  /** Every run recorded. */
  runs: number;
}

/** The files of one source the warehouse holds now. Counts are exact below 2^53. */
export interface FilesStatus {
  table: StagingTableName;
  files: number;
  /** Rows the staging table holds now (its COUNT(*)): every loaded file's, counted one by one or not. */
  stagingRows: number;
  /** Rows these files gave the staging table, by the ledger, over the files whose rows were counted. */
  rows: number;
  /** Files whose rows were not counted one by one (a bulk load, Redshift's COPY): `rows` leaves them out. */
  rowsUncounted: number;
  /** Records rejected, over the files whose rejects were counted. */
  rejected: number;
  /** Files whose rejects were not counted one by one: `rejected` leaves them out. */
  rejectedUncounted: number;
  /** Their size in bytes, as listed when loaded. */
  bytes: number;
  /** The newest run that loaded one of them, or null when there are none. */
  lastLoadedBy: number | null;
}

/** Missing days in a row, both ends included. */
export interface DayRange {
  from: string;
  to: string;
  days: number;
}

export interface LogFilesStatus extends FilesStatus {
  /** Distinct days the loaded log files are of (a `YYYY-MM-DD` in the file's name). */
  days: number;
  /** The first and last of those days (`YYYY-MM-DD`), null when there are none. */
  firstDay: string | null;
  lastDay: string | null;
  /** Days between the first and the last with no file loaded: a backfill is due. */
  missingDays: number;
  /** The missing days as runs of consecutive days, oldest first. */
  gaps: DayRange[];
  /** Loaded log files whose name holds no day (they count in `files`, not in `days`). */
  undatedFiles: number;
}

/** One row of etl_runs. A value the run did not record is null. */
export interface RunStatus {
  runId: number;
  /** `full` (every table rebuilt) or `incremental` (only new and changed files loaded). */
  mode: string;
  /** `YYYY-MM-DD HH:MM:SS.mmm`, in UTC, as every warehouse returns timestamps. */
  startedAt: string | null;
  finishedAt: string | null;
  /** From start to finish. */
  seconds: number | null;
  files: { new: number | null; changed: number | null; unchanged: number | null; missing: number | null; pruned: number | null };
  recordsLoaded: number | null;
  recordsRemoved: number | null;
  rejected: number | null;
  songplaysAdded: number | null;
  lastSongplayId: number | null;
}

/**
 * What has been loaded: files, rows and bytes per source, the days the event
 * logs cover and the days missing between them, and the recent runs.
 *
 * @example
 *   const status = await loadStatus(wh);
 *   if (status.logs.missingDays > 0) console.log('backfill:', status.logs.gaps);
 */
export async function loadStatus(wh: Warehouse): Promise<LoadStatus> {
  await assertTablesExist(wh, PRE_LEDGER_TABLES);
  if (!(await hasLedger(wh))) {
    throw new SparkifyError('WAREHOUSE_NOT_READY', 'These tables were built before sparkify-dwh kept a ledger of loaded files (etl_files, etl_runs), so what they hold came from no recorded run.', {
      hint: 'The next `sparkify etl` (or `sparkify run`) rebuilds them from the sources, with the ledger; `sparkify counts` reads them meanwhile.',
    });
  }
  const d = wh.dialect;
  const perTable = await wh.query(
    `SELECT target_table, COUNT(*) AS files, COUNT(loaded_rows) AS rows_counted, SUM(loaded_rows) AS loaded_rows, ` +
      `COUNT(rejected_rows) AS rejected_counted, SUM(rejected_rows) AS rejected_rows, SUM(${d.columnName('size')}) AS bytes, MAX(run_id) AS last_run_id ` +
      'FROM etl_files GROUP BY target_table',
  );
  const logKeys = await wh.query(`SELECT file_key FROM etl_files WHERE target_table = ${d.quoteString('staging_events')}`);
  const staged = await countTables(wh, [{ name: 'staging_events' }, { name: 'staging_songs' }]);
  const [total] = await wh.query('SELECT COUNT(*) AS n FROM etl_runs');
  const recent = await wh.query(
    `SELECT run_id, ${d.columnName('mode')} AS mode, started_at, finished_at, files_new, files_changed, files_unchanged, files_missing, files_pruned, ` +
      `records_loaded, records_removed, rejected, songplays_added, last_songplay_id FROM etl_runs ORDER BY run_id DESC LIMIT ${RECENT_RUNS}`,
  );

  const files = (table: StagingTableName): FilesStatus => {
    const r = perTable.find((row) => String(row.target_table).trim() === table);
    const n = count(r?.files);
    return {
      table,
      files: n,
      stagingRows: staged[table] ?? 0,
      rows: count(r?.loaded_rows),
      rowsUncounted: n - count(r?.rows_counted),
      rejected: count(r?.rejected_rows),
      rejectedUncounted: n - count(r?.rejected_counted),
      bytes: count(r?.bytes),
      lastLoadedBy: r ? integer(r.last_run_id) : null,
    };
  };
  const recentRuns = recent.map(runOf);
  const runs = count(total?.n);
  const logs: LogFilesStatus = { ...files('staging_events'), ...dayCoverage(logKeys.map((r) => String(r.file_key))) };
  const songs = files('staging_songs');
  const empty = runs === 0 && [logs, songs].every((t) => t.files === 0 && t.stagingRows === 0);
  return { empty, logs, songs, lastRun: recentRuns[0] ?? null, recentRuns, runs };
}

/** The day a log file is of (ledger.ts's rule, the one --since/--until go by). */
export const dayOfKey = dayOf;

/** The days file keys cover, and the gaps between the first and the last. */
export function dayCoverage(keys: readonly string[]): Pick<LogFilesStatus, 'days' | 'firstDay' | 'lastDay' | 'missingDays' | 'gaps' | 'undatedFiles'> {
  const days = new Set<number>();
  let undatedFiles = 0;
  for (const key of keys) {
    const day = dayOfKey(key);
    if (day === undefined) undatedFiles++;
    else days.add(dayNumber(day)!);
  }
  const sorted = [...days].sort((a, b) => a - b);
  const gaps: DayRange[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const [before, after] = [sorted[i - 1]!, sorted[i]!];
    if (after - before > 1) gaps.push({ from: dayText(before + 1), to: dayText(after - 1), days: after - before - 1 });
  }
  const first = sorted[0];
  const last = sorted.at(-1);
  return {
    days: sorted.length,
    firstDay: first === undefined ? null : dayText(first),
    lastDay: last === undefined ? null : dayText(last),
    missingDays: gaps.reduce((n, g) => n + g.days, 0),
    gaps,
    undatedFiles,
  };
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD`, or undefined when there is no such day (2018-02-30). */
function dayNumber(day: string): number | undefined {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return undefined;
  return ms / DAY_MS;
}

function dayText(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

function runOf(r: Record<string, SqlValue>): RunStatus {
  const startedAt = timestamp(r.started_at);
  const finishedAt = timestamp(r.finished_at);
  const started = startedAt === null ? NaN : Date.parse(`${startedAt.replace(' ', 'T')}Z`);
  const finished = finishedAt === null ? NaN : Date.parse(`${finishedAt.replace(' ', 'T')}Z`);
  return {
    runId: count(r.run_id),
    mode: String(r.mode).trim(),
    startedAt,
    finishedAt,
    seconds: Number.isNaN(started) || Number.isNaN(finished) ? null : (finished - started) / 1000,
    files: {
      new: integer(r.files_new),
      changed: integer(r.files_changed),
      unchanged: integer(r.files_unchanged),
      missing: integer(r.files_missing),
      pruned: integer(r.files_pruned),
    },
    recordsLoaded: integer(r.records_loaded),
    recordsRemoved: integer(r.records_removed),
    rejected: integer(r.rejected),
    songplaysAdded: integer(r.songplays_added),
    lastSongplayId: integer(r.last_songplay_id),
  };
}

/** An integer as the warehouse returned it (a number, or a bigint beyond 2^53), or null. */
function integer(v: SqlValue | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new SparkifyError('INTERNAL', `The ledger holds ${String(v)} where a whole number belongs.`);
  return n;
}

/** A count or a sum: NULL (a sum over no rows) is 0. */
function count(v: SqlValue | undefined): number {
  return integer(v) ?? 0;
}

function timestamp(v: SqlValue | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
