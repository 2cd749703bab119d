import { SparkifyError, toSparkifyError } from '../errors.js';
import { ALL_TABLES, LEDGER_TABLES, type Table } from '../schema/tables.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import type { PipelineOptions, StageInfo, StageName } from './report.js';

/**
 * Runs one stage: announces it, times it, reports what it did, and names the
 * stage on any error. An error nobody classified becomes INTERNAL (a bug, to
 * report), never a plausible-looking failed load.
 */
export async function stage(name: StageName, options: PipelineOptions, body: () => Promise<Omit<StageInfo, 'stage' | 'seconds'>>): Promise<StageInfo> {
  const started = performance.now();
  try {
    options.signal?.throwIfAborted();
    options.onEvent?.({ type: 'stage-start', stage: name });
    const info: StageInfo = { stage: name, seconds: 0, ...(await body()) };
    // A stage that finished while the run was being stopped still stops it here.
    options.signal?.throwIfAborted();
    info.seconds = (performance.now() - started) / 1000;
    options.onEvent?.({ type: 'stage-end', info });
    return info;
  } catch (err) {
    const e = options.signal?.aborted ? stopped(name, err) : toSparkifyError(err);
    e.stage ??= name;
    throw e;
  }
}

/** The error of a run stopped on purpose, whatever the cancelled statement failed with. */
function stopped(name: StageName, cause: unknown): SparkifyError {
  return new SparkifyError('ABORTED', `Stopped during ${name}; no table was changed.`, {
    cause,
    hint: 'Run the command again when you are ready: it starts from the sources.',
  });
}

/**
 * Runs `fn` with the warehouse's running statement cancelled as soon as
 * `signal` aborts.
 */
export async function cancelOnAbort<T>(wh: Warehouse, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  if (!signal) return fn();
  const onAbort = () => void wh.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Holds the warehouse's lock while `fn` runs. */
export async function withLock<T>(wh: Warehouse, fn: () => Promise<T>): Promise<T> {
  const release = await wh.lock();
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Fails with WAREHOUSE_NOT_READY (classified by the warehouse) when a table is missing. */
export async function assertTablesExist(wh: Warehouse, tables: readonly Table[] = ALL_TABLES): Promise<void> {
  for (const t of tables) await wh.query(`SELECT 1 AS one FROM ${t.name} WHERE 1 = 0`);
}

/**
 * One query counting the rows of `tables`. The names are cast to VARCHAR (a
 * bare literal may come back as a blank-padded CHAR on Redshift) and compared
 * trimmed; a table missing from the answer is an error, never a zero.
 */
export async function countTables(wh: Warehouse, tables: readonly { name: string }[]): Promise<Record<string, number>> {
  const sql = tables.map((t) => `SELECT CAST(${wh.dialect.quoteString(t.name)} AS VARCHAR(128)) AS name, COUNT(*) AS n FROM ${t.name}`).join('\nUNION ALL\n');
  const rows = await wh.query<{ name: string; n: number }>(sql);
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const row = rows.find((r) => String(r.name).trim() === t.name);
    if (!row) throw new SparkifyError('INTERNAL', `Counting the rows of ${t.name} returned no row for it.`, { sql });
    counts[t.name] = Number(row.n);
  }
  return counts;
}

/** The tables sparkify-dwh made before it kept a ledger of loaded files: all of them but etl_files and etl_runs. */
export const PRE_LEDGER_TABLES: readonly Table[] = ALL_TABLES.filter((t) => !LEDGER_TABLES.includes(t));

/**
 * Whether every one of `tables` exists: false when one is missing
 * (WAREHOUSE_NOT_READY, as assertTablesExist fails); any other error is thrown.
 */
export async function tablesExist(wh: Warehouse, tables: readonly Table[]): Promise<boolean> {
  try {
    await assertTablesExist(wh, tables);
    return true;
  } catch (err) {
    if (err instanceof SparkifyError && err.code === 'WAREHOUSE_NOT_READY') return false;
    throw err;
  }
}

/**
 * Whether the ledger's tables are there, once the others are known to be: a
 * warehouse built by an earlier sparkify-dwh has the others only, until its
 * next etl (or run) rebuilds it.
 */
export function hasLedger(wh: Warehouse): Promise<boolean> {
  return tablesExist(wh, LEDGER_TABLES);
}
