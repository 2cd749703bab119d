/**
 * Whole-warehouse snapshots and injected faults, for tests of failed and
 * retried runs: a run that fails must leave every table as `dumpAll` saw it
 * before, and one that recovers must end as a clean run.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createTables } from '../../src/pipeline/create-tables.js';
import { etl } from '../../src/pipeline/etl.js';
import { ALL_TABLES, LEDGER_TABLES } from '../../src/schema/tables.js';
import type { Warehouse } from '../../src/warehouses/warehouse.js';
import { comparedColumns, dump, type OpenedTestWarehouse, type TestWarehouse } from '../warehouses.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './oracle.js';

/** A fresh warehouse of `kind` with every table built from the real sample: the state a failed run must leave. */
export async function openWithSample(kind: TestWarehouse): Promise<OpenedTestWarehouse> {
  const ctx = await kind.open();
  await createTables(ctx.warehouse);
  await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
  return ctx;
}

/**
 * Every row of every table, sorted (etl_runs without its times). Without the
 * ledger (etl_files, etl_runs): what any run over the same files ends with,
 * whichever run it was.
 */
export async function dumpAll(wh: Warehouse, { ledger = true } = {}): Promise<Record<string, unknown[][]>> {
  const out: Record<string, unknown[][]> = {};
  for (const t of ALL_TABLES) if (ledger || !LEDGER_TABLES.includes(t)) out[t.name] = await dump(wh, t.name, comparedColumns(t));
  return out;
}

export interface Faulty {
  warehouse: Warehouse;
  /** How often `reconnect` was called. */
  reconnects: number;
  /** How often a fault was thrown. */
  thrown: number;
}

/**
 * The warehouse with `fault(sql)` asked before every `execute`: an error it
 * returns is thrown instead of running the statement. Everything else is the
 * real warehouse; `reconnect` calls are counted.
 */
export function withFaults(wh: Warehouse, fault: (sql: string) => Error | undefined): Faulty {
  const state: Faulty = { warehouse: wh, reconnects: 0, thrown: 0 };
  state.warehouse = new Proxy(wh, {
    get(target, prop, receiver) {
      if (prop === 'execute') {
        return async (sql: string) => {
          const err = fault(sql);
          if (err) {
            state.thrown++;
            throw err;
          }
          return target.execute(sql);
        };
      }
      if (prop === 'reconnect') {
        return async () => {
          state.reconnects++;
          return target.reconnect();
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return state;
}

/** A fault on every statement that starts with `prefix`. */
export function failing(wh: Warehouse, prefix: string): Warehouse {
  return withFaults(wh, (sql) => (sql.trimStart().startsWith(prefix) ? new Error(`injected failure: ${prefix}`) : undefined)).warehouse;
}

/**
 * The sample's warehouse of `kind` for the describe block it is called in:
 * built before its tests, dropped after them.
 *
 * @example
 *   describe('…', () => { const wh = sampleWarehouse(kind); it('…', async () => { await wh().query('…'); }); });
 */
export function sampleWarehouse(kind: TestWarehouse): () => Warehouse {
  let ctx: OpenedTestWarehouse | undefined;
  beforeAll(async () => {
    ctx = await openWithSample(kind);
  });
  afterAll(async () => ctx?.cleanup());
  return () => ctx!.warehouse;
}

/**
 * For the test file it is called in: a temporary folder whose `log_data` holds
 * `copies` copies of the sample's logs (a load long enough to stop or kill in
 * the middle), made before its tests and removed after them.
 */
export function copiedSampleLogs(copies: number, name: string): { dir: () => string; logs: () => string } {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), `sparkify-${name}-`));
    for (let i = 0; i < copies; i++) cpSync(SAMPLE_LOGS, path.join(dir, 'log_data', `copy-${String(i).padStart(2, '0')}`), { recursive: true });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir: () => dir, logs: () => path.join(dir, 'log_data') };
}
