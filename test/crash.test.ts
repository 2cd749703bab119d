/**
 * A run killed with SIGKILL in the middle of a staging load, a full refresh or
 * a daily (incremental) run, leaves every table as it was last committed, and
 * the next etl gives exactly the tables of a clean run. The run goes in a
 * child process (Node on a build of src/), on an input large enough that the
 * load takes a few seconds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarehouseTarget } from '../src/warehouses/open-warehouse.js';
import { createTables } from '../src/pipeline/create-tables.js';
import { etl, type EtlOptions } from '../src/pipeline/etl.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import { DuckDBWarehouse } from '../src/warehouses/duckdb/duckdb-warehouse.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { copiedSampleLogs } from './helpers/faults.js';
import { SAMPLE_SONGS } from './helpers/oracle.js';
import { DIST } from './helpers/paths.js';
import { TEST_PG, comparedColumns, dropSchema, runsHere, testWarehouse, uniqueSchema, type TestWarehouseName } from './warehouses.js';

/** Copies of the sample's 30 log files: 10 × 8,056 = 80,560 events, 38 MB. */
const COPIES = 10;
const CHILD = path.resolve(import.meta.dirname, 'helpers/crash-child.mjs');

type Tables = Record<string, { rows: number; md5: string }>;
type ChildEvent = { type: 'stage-start' | 'progress' | 'done'; stage?: string; records?: number; rss?: number };

const big = copiedSampleLogs(COPIES, 'crash');

/**
 * Every table as its row count and a hash of its sorted rows, computed by the
 * warehouse itself (fetching and comparing 80,000-row tables in JS is slow).
 * Hashes compare runs on the same warehouse, never across warehouses.
 */
async function dumpAll(wh: Warehouse, { ids = true } = {}): Promise<Tables> {
  const out: Tables = {};
  for (const t of ALL_TABLES) {
    // Run times differ from run to run; file and play ids between a daily and a full run.
    if (t.name === 'etl_runs' || (!ids && t.name === 'etl_files')) continue;
    const columns = comparedColumns(t).filter((c) => ids || c !== 'songplay_id');
    const [row] = await wh.query<{ n: number; h: string }>(testWarehouse(wh.kind as TestWarehouseName).digestSql(`(SELECT ${columns.join(', ')} FROM ${t.name})`));
    out[t.name] = { rows: Number(row!.n), md5: row!.h };
  }
  return out;
}

/**
 * Starts the child's etl and kills it with SIGKILL once `killWhen` says so.
 * Resolves with what it printed, after it is gone.
 */
async function runAndKill(target: WarehouseTarget, options: Partial<EtlOptions>, killWhen: (e: ChildEvent) => boolean | Promise<boolean>): Promise<ChildEvent[]> {
  const child = spawn(process.execPath, [CHILD, DIST, JSON.stringify(target), SAMPLE_SONGS, big.logs(), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const events: ChildEvent[] = [];
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    const e = JSON.parse(line) as ChildEvent;
    events.push(e);
    if (!killed && (await killWhen(e))) {
      killed = true;
      child.kill('SIGKILL');
    }
  }
  const { signal } = await exited;
  expect(signal, `the child ended on its own before it was killed:\n${stderr}`).toBe('SIGKILL');
  expect(events.some((e) => e.type === 'done')).toBe(false);
  return events;
}

describe.skipIf(!runsHere('postgres'))('postgres: SIGKILL in the middle of a COPY', () => {
  const schema = uniqueSchema('sparkify_crash');
  let wh: PostgresWarehouse;
  afterAll(async () => {
    await wh?.close();
    await dropSchema(schema);
  });

  it('keeps the last committed tables, and the next etl gives those of a clean run', async () => {
    wh = await PostgresWarehouse.open({ connection: TEST_PG, schema });
    await createTables(wh);
    await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs() });
    const clean = await dumpAll(wh);
    expect(clean.staging_events!.rows).toBe(COPIES * 8056);

    let copying = false;
    const events = await runAndKill({ kind: 'postgres', connection: TEST_PG, schema }, { fullRefresh: true }, async (e) => {
      if (e.type !== 'progress' || e.stage !== 'load staging_events' || (e.records ?? 0) < 20_000) return false;
      // The child's COPY is running on the server right now.
      const active = await wh.query(
        `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'sparkify' AND pid <> pg_backend_pid() AND query LIKE 'COPY _sparkify_next_staging_events%' AND state = 'active'`,
      );
      copying = active[0]?.n === 1;
      return true;
    });
    expect(copying).toBe(true);
    const last = events.filter((e) => e.type === 'progress').at(-1)!;
    expect(last.records).toBeLessThan(COPIES * 8056);

    // The server rolls the dead session back and frees its lock as soon as it sees the socket close.
    await waitForLock(wh);
    expect(await dumpAll(wh)).toEqual(clean);
    await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs() });
    expect(await dumpAll(wh)).toEqual(clean);
  });
});

describe.skipIf(!runsHere('duckdb'))('duckdb: SIGKILL in the middle of a staging load', () => {
  let file: string;
  beforeAll(() => {
    file = path.join(big.dir(), 'crash.duckdb');
  });

  it('keeps the last committed tables, and the next etl gives those of a clean run', async () => {
    let wh = await DuckDBWarehouse.open(file);
    let clean: Tables;
    try {
      await createTables(wh);
      await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs() });
      clean = await dumpAll(wh);
    } finally {
      await wh.close();
    }

    await killDuckDBLoad(file, { fullRefresh: true });

    wh = await DuckDBWarehouse.open(file);
    try {
      expect(await dumpAll(wh)).toEqual(clean);
      await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs() });
      expect(await dumpAll(wh)).toEqual(clean);
    } finally {
      await wh.close();
    }
  });
});

describe.skipIf(!runsHere('duckdb'))('duckdb: SIGKILL in the middle of a daily run', () => {
  it('keeps the tables and the ledger of the runs before, and the next etl completes them as one full run would', async () => {
    const file = path.join(big.dir(), 'daily.duckdb');
    const clean = path.join(big.dir(), 'clean.duckdb');
    let wh = await DuckDBWarehouse.open(clean);
    let full: Tables;
    try {
      await createTables(wh);
      await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs() });
      full = await dumpAll(wh, { ids: false });
    } finally {
      await wh.close();
    }
    wh = await DuckDBWarehouse.open(file);
    let before: Tables;
    try {
      await createTables(wh);
      // Three days of every copy now; the other 27 days (72,000 events) are the daily run's new files.
      await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs(), until: '2018-11-03' });
      before = await dumpAll(wh);
    } finally {
      await wh.close();
    }

    await killDuckDBLoad(file, {});

    wh = await DuckDBWarehouse.open(file);
    try {
      expect(await dumpAll(wh)).toEqual(before);
      const report = await etl(wh, { songs: SAMPLE_SONGS, logs: big.logs() });
      expect(report.mode).toBe('incremental');
      expect(report.stages.find((s) => s.stage === 'load staging_events')?.changes).toMatchObject({ new: COPIES * 27, unchanged: COPIES * 3 });
      expect(await dumpAll(wh, { ids: false })).toEqual(full);
    } finally {
      await wh.close();
    }
  });
});

/** Runs the child's etl on the DuckDB file and kills it a little while into the events load. */
async function killDuckDBLoad(file: string, options: Partial<EtlOptions>): Promise<void> {
  let started = 0;
  await runAndKill({ kind: 'duckdb', path: file }, options, async (e) => {
    if (e.type === 'stage-start' && e.stage === 'load staging_events') started = performance.now();
    if (!started) return false;
    // DuckDB reports progress per group of files; kill a little while into the load.
    await new Promise((r) => setTimeout(r, Math.max(0, 150 - (performance.now() - started))));
    return true;
  });
}

/** Waits until the warehouse's lock is free (a killed holder's session may take a moment to end). */
async function waitForLock(wh: Warehouse, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    try {
      await (await wh.lock())();
      return;
    } catch (err) {
      if (performance.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
