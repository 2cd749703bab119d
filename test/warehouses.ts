/**
 * Which warehouses the behaviour suites run against here, and how each one is
 * set up and torn down. Every suite loops over `testWarehouses()` and names its
 * `describe` after the warehouse. `SPARKIFY_TEST_WAREHOUSES=duckdb,postgres`
 * narrows the list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { DuckDBWarehouse } from '../src/warehouses/duckdb.js';
import { PostgresWarehouse } from '../src/warehouses/postgres.js';
import type { PostgresConnection } from '../src/config.js';

export interface TestWarehouse {
  name: string;
  /** A fresh, empty warehouse of this kind (its own file, schema or database). */
  open(): Promise<OpenedTestWarehouse>;
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
};

/** The local test server: trust auth, database `test`. `SPARKIFY_TEST_PG` overrides host and port. */
export const TEST_PG: PostgresConnection = {
  host: process.env.SPARKIFY_TEST_PG?.split(':')[0] ?? '127.0.0.1',
  port: Number(process.env.SPARKIFY_TEST_PG?.split(':')[1] ?? 5432),
  database: 'test',
  user: 'postgres',
};

/** A schema name no other test run uses. */
export function uniqueSchema(prefix = 'sparkify_test'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Drops a test schema with everything in it, through a connection of its own. */
export async function dropSchema(schema: string): Promise<void> {
  const admin = await PostgresWarehouse.open(TEST_PG, { schema: 'public' });
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
    const warehouse = await PostgresWarehouse.open(TEST_PG, { schema });
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
};

export const ALL_TEST_WAREHOUSES: TestWarehouse[] = [duckdb, postgres];

export function testWarehouses(): TestWarehouse[] {
  const only = process.env.SPARKIFY_TEST_WAREHOUSES?.split(',').map((s) => s.trim()).filter(Boolean);
  return only ? ALL_TEST_WAREHOUSES.filter((w) => only.includes(w.name)) : ALL_TEST_WAREHOUSES;
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
