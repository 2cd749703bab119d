import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ConfigIssue } from '../../errors.js';
import { dialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
import { formatTimestampMs, normaliseBigint } from '../values.js';
import { inTransaction, notCreatedForReading, type Row, type SqlValue, type StagingInput, type StagingLoadResult, type Warehouse } from '../warehouse.js';
import { duckdb } from './duckdb-api.js';
import { classifyOpenError, queryError } from './duckdb-errors.js';
import type { DuckDBSession } from './duckdb-exact.js';
import { loadStagingDuckDB, type DuckDBLoadOptions } from './duckdb-load.js';
import { Scratch } from './duckdb-scratch.js';
import { DEFAULT_MEMORY_LIMIT, describeDuckDB, type DuckDBTarget } from './duckdb-target.js';

export const duckdbDialect = dialect({
  name: 'duckdb',
  epochMsToTimestamp: (expr) => `epoch_ms(CAST(${expr} AS BIGINT))`,
  // DuckDB checks keys eagerly, which costs time on bulk loads; the transforms
  // produce unique keys by construction, and the tests check that they do.
  primaryKeys: 'none',
  analyzeAfterLoad: false,
  rowId: 'rowid',
});

/** How DuckDB loads staging (see DuckDBLoadOptions); the defaults suit every input size. */
export type DuckDBWarehouseOptions = DuckDBLoadOptions;

/**
 * DuckDB, embedded: a file (default `./sparkify.duckdb`) or `:memory:`.
 *
 * @example
 *   const wh = await DuckDBWarehouse.open('sparkify.duckdb');
 *   try { console.log(await wh.query('SELECT count(*) AS n FROM songplays')); } finally { await wh.close(); }
 */
export class DuckDBWarehouse implements Warehouse {
  readonly kind = 'duckdb';
  readonly dialect = duckdbDialect;
  private closed = false;
  private scratch: Promise<Scratch> | undefined;

  /** The connection and verbs the loader (duckdb-load.ts) uses. */
  private get session(): DuckDBSession {
    return { conn: this.conn, execute: (sql) => this.execute(sql), query: (sql) => this.query(sql) };
  }

  private constructor(
    readonly description: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly options: DuckDBWarehouseOptions,
  ) {}

  /**
   * Opens (creating when missing) a DuckDB file, or `:memory:`, with a bounded
   * memory (`memoryLimit`, spilling to `tempDirectory` beyond it).
   */
  static async open(target: string | Omit<DuckDBTarget, 'kind'>, options: DuckDBWarehouseOptions & { readOnly?: boolean } = {}): Promise<DuckDBWarehouse> {
    const t = typeof target === 'string' ? { path: target } : target;
    const location = t.path === ':memory:' ? t.path : path.resolve(t.path);
    // A command that only reads never creates the file (nor its folder).
    if (options.readOnly && location !== ':memory:' && !existsSync(location)) throw notCreatedForReading(`The DuckDB database ${location}`);
    if (location !== ':memory:' && !options.readOnly) await mkdir(path.dirname(location), { recursive: true });
    // In memory, DuckDB would spill into ./.tmp of wherever it runs; a file database spills next to itself.
    const tempDirectory = t.tempDirectory ?? (location === ':memory:' ? path.join(os.tmpdir(), `sparkify-duckdb-spill-${process.pid}`) : undefined);
    let instance: DuckDBInstance;
    try {
      instance = await duckdb.DuckDBInstance.create(location, {
        memory_limit: t.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
        ...(tempDirectory ? { temp_directory: tempDirectory } : {}),
        // Row order in the staging copies means nothing (the transforms order what they need), and keeping it costs memory.
        preserve_insertion_order: 'false',
        ...(options.readOnly && location !== ':memory:' ? { access_mode: 'READ_ONLY' } : {}),
      });
    } catch (err) {
      throw classifyOpenError(err, location);
    }
    const conn = await instance.connect();
    return new DuckDBWarehouse(describeDuckDB(location), instance, conn, options);
  }

  async execute(sql: string): Promise<void> {
    try {
      await this.conn.run(sql);
    } catch (err) {
      throw queryError(err, sql);
    }
  }

  async query<T extends Row = Row>(sql: string): Promise<T[]> {
    let reader;
    try {
      reader = await this.conn.runAndReadAll(sql);
    } catch (err) {
      throw queryError(err, sql);
    }
    return reader.getRowObjects().map((row) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(row)) out[k] = normalise(v);
      return out as T;
    });
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return inTransaction((sql) => (sql === 'ROLLBACK' ? this.conn.run(sql) : this.execute(sql)), fn);
  }

  async sourceIssues(): Promise<ConfigIssue[]> {
    return []; // DuckDB reads folders and S3 alike
  }

  loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    return loadStagingDuckDB(this.session, () => (this.scratch ??= Scratch.create()), table, input, this.options);
  }

  async lock(): Promise<() => Promise<void>> {
    // DuckDB itself lets only one process open a database file for writing; see classifyOpenError.
    return async () => undefined;
  }

  async cancel(): Promise<void> {
    if (!this.closed) this.conn.interrupt();
  }

  async reconnect(): Promise<void> {
    // Embedded: there is no connection to lose.
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
    await (await this.scratch?.catch(() => undefined))?.dispose();
  }
}

/** The largest time a JS Date represents, in ms from the epoch. */
const MAX_DATE_MS = 8.64e15;

function normalise(v: DuckDBValue): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return normaliseBigint(v);
  if (v instanceof duckdb.DuckDBTimestampValue) {
    const ms = Number(v.micros / 1000n);
    // Beyond what a JS Date holds (year 275760), DuckDB's own text is the best there is.
    return Math.abs(ms) <= MAX_DATE_MS ? formatTimestampMs(ms) : v.toString();
  }
  return String(v);
}

