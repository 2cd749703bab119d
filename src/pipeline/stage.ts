import { toSparkifyError } from '../errors.js';
import { ALL_TABLES } from '../schema/tables.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import type { PipelineOptions, StageInfo, StageName } from './report.js';

/**
 * Runs one stage: announces it, times it, reports what it did, and names the
 * stage on any error. An error nobody classified becomes INTERNAL (a bug, to
 * report), never a plausible-looking failed load.
 */
export async function stage(name: StageName, options: PipelineOptions, body: () => Promise<Omit<StageInfo, 'stage' | 'seconds'>>): Promise<StageInfo> {
  const started = performance.now();
  options.onEvent?.({ type: 'stage-start', stage: name });
  try {
    const info: StageInfo = { stage: name, seconds: 0, ...(await body()) };
    info.seconds = (performance.now() - started) / 1000;
    options.onEvent?.({ type: 'stage-end', info });
    return info;
  } catch (err) {
    const e = toSparkifyError(err);
    e.stage ??= name;
    throw e;
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
export async function assertTablesExist(wh: Warehouse): Promise<void> {
  for (const t of ALL_TABLES) await wh.query(`SELECT 1 AS one FROM ${t.name} WHERE 1 = 0`);
}

/** One query counting the rows of `tables`. */
export async function countTables(wh: Warehouse, tables: readonly { name: string }[]): Promise<Record<string, number>> {
  const sql = tables.map((t) => `SELECT ${wh.dialect.quoteString(t.name)} AS name, COUNT(*) AS n FROM ${t.name}`).join('\nUNION ALL\n');
  const rows = await wh.query<{ name: string; n: number }>(sql);
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t.name] = Number(rows.find((r) => r.name === t.name)?.n ?? 0);
  return counts;
}
