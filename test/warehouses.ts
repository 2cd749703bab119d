/**
 * The one place that decides which warehouses the behaviour suites run
 * against here, and how each is set up, torn down and inspected. Every suite
 * loops over `testWarehouses()` and names its `describe` after the warehouse.
 * A warehouse the global set-up found unreachable is left out (its reason was
 * printed); `SPARKIFY_TEST_WAREHOUSES=duckdb,postgres` narrows the list.
 * SQL that differs between warehouses in the tests lives here, on each one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { DuckDBWarehouse } from '../src/warehouses/duckdb/duckdb-warehouse.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import type { PostgresConnection } from '../src/warehouses/postgres/postgres-target.js';
import type { Table } from '../src/schema/tables.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { TEST_PG_HOST, TEST_PG_PORT } from './helpers/paths.js';

export type TestWarehouseName = 'duckdb' | 'postgres';

export interface TestWarehouse {
  name: TestWarehouseName;
  /** A fresh, empty warehouse of this kind (its own file, schema or database). */
  open(): Promise<OpenedTestWarehouse>;
  /**
   * One row `{ n, h }`: the row count of `table` and a hash of its sorted rows,
   * computed by the warehouse itself (fetching 80,000-row tables into JS is
   * slow). Hashes compare runs on the same warehouse, never across warehouses.
   */
  digestSql(table: string): string;
  /** One row `{ name }` per table of this warehouse's own space (its file, or its schema). */
  tablesSql: string;
}

export interface OpenedTestWarehouse {
  warehouse: Warehouse;
  /** What `--warehouse` would take to reach the same place (for CLI tests). */
  target: string;
  /** Extra environment the CLI needs to reach it (e.g. schema). */
  env: Record<string, string>;
  /** Closes the warehouse and removes everything it created. Idempotent. */
  cleanup(): Promise<void>;
}

const duckdb: TestWarehouse = {
  name: 'duckdb',
  async open() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-duckdb-'));
    const file = path.join(dir, 'test.duckdb');
    const warehouse = await DuckDBWarehouse.open(file);
    return {
      warehouse,
      target: file,
      env: {},
      async cleanup() {
        await warehouse.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  digestSql: (table) =>
    `SELECT COUNT(*) AS n, md5(COALESCE(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)), '')) AS h FROM ${table} t`,
  tablesSql: 'SELECT table_name AS name FROM duckdb_tables()',
};

/** The local test server: trust auth, database `test`. `SPARKIFY_TEST_PG` overrides host and port. */
export const TEST_PG: PostgresConnection = { host: TEST_PG_HOST, port: TEST_PG_PORT, database: 'test', user: 'postgres' };

/** A schema name no other test run uses. */
export function uniqueSchema(prefix = 'sparkify_test'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Drops a test schema with everything in it, through a connection of its own. */
export async function dropSchema(schema: string): Promise<void> {
  const admin = await PostgresWarehouse.open({ connection: TEST_PG, schema: 'public' });
  try {
    await admin.execute(`DROP SCHEMA IF EXISTS ${admin.dialect.quoteIdent(schema)} CASCADE`);
  } finally {
    await admin.close();
  }
}

const postgres: TestWarehouse = {
  name: 'postgres',
  async open() {
    const schema = uniqueSchema();
    const warehouse = await PostgresWarehouse.open({ connection: TEST_PG, schema });
    let done = false;
    return {
      warehouse,
      target: `postgres://${TEST_PG.user}@${TEST_PG.host}:${TEST_PG.port}/${TEST_PG.database}`,
      env: { SPARKIFY_SCHEMA: schema },
      async cleanup() {
        if (done) return;
        done = true;
        await warehouse.close();
        await dropSchema(schema);
      },
    };
  },
  digestSql: (table) => `SELECT COUNT(*) AS n, md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C"), '')) AS h FROM ${table} t`,
  tablesSql: 'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()',
};

const ALL: TestWarehouse[] = [duckdb, postgres];

/** The warehouses that run here: reachable, and named by SPARKIFY_TEST_WAREHOUSES when it is set. */
export function testWarehouses(): TestWarehouse[] {
  const unavailable = inject('unavailable');
  const only = process.env.SPARKIFY_TEST_WAREHOUSES?.split(',').map((s) => s.trim()).filter(Boolean);
  return ALL.filter((w) => !unavailable[w.name] && (!only || only.includes(w.name)));
}

/** Whether the named warehouse runs here (for suites about one warehouse). */
export function runsHere(name: TestWarehouseName): boolean {
  return testWarehouses().some((w) => w.name === name);
}

/** The named test warehouse (its set-up and SQL), whether or not it runs here. */
export function testWarehouse(name: TestWarehouseName): TestWarehouse {
  return ALL.find((w) => w.name === name)!;
}

/**
 * The columns of `table` that two runs over the same files agree on: all of
 * them, but the times etl_runs records.
 */
export function comparedColumns(table: Table): string[] {
  return table.columns.map((c) => c.name).filter((c) => table.name !== 'etl_runs' || !c.endsWith('_at'));
}

/** Every row of a table as arrays of values in column order, sorted in JS (collation-independent). */
export async function dump(wh: Warehouse, table: string, columns: readonly string[]): Promise<unknown[][]> {
  const rows = await wh.query(`SELECT ${columns.join(', ')} FROM ${table}`);
  const keyed = rows.map((r) => {
    const values = Object.values(r);
    return { values, key: rowKey(values) };
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.values);
}

/** A row as text that tells every value apart (bigint, -0, Infinity and NaN included). */
export function rowKey(values: readonly unknown[]): string {
  return JSON.stringify(values, (_k, x: unknown) =>
    typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && (!Number.isFinite(x) || Object.is(x, -0)) ? `${Object.is(x, -0) ? '-0' : x}` : x,
  );
}
