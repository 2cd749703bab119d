import {
  BIGINT,
  DuckDBAppender,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTimestampValue,
  INTEGER,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SparkifyError } from '../errors.js';
import type { Table } from '../schema/tables.js';
import { readRecords } from '../sources/records.js';
import { duckdbStagingSql } from './duckdb-staging.js';
import { formatTimestampMs, normaliseBigint } from './values.js';
import { dialect, type Row, type SqlValue, type StagingInput, type StagingLoadResult, type Warehouse } from './warehouse.js';

const VECTOR_SIZE = 2048;

export const duckdbDialect = dialect({
  name: 'duckdb',
  epochMsToTimestamp: (expr) => `epoch_ms(CAST(${expr} AS BIGINT))`,
  // DuckDB checks keys eagerly, which costs time on bulk loads; the transforms
  // produce unique keys by construction and the quality checks verify them.
  declaresPrimaryKeys: false,
});

export interface DuckDBWarehouseOptions {
  /** Records typed per round trip; bounds memory whatever the input size. */
  chunkRecords?: number;
}

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

  private constructor(
    readonly description: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly options: DuckDBWarehouseOptions,
  ) {}

  static async open(file: string, options: DuckDBWarehouseOptions = {}): Promise<DuckDBWarehouse> {
    const location = file === ':memory:' ? file : path.resolve(file);
    if (location !== ':memory:') await mkdir(path.dirname(location), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(location);
    } catch (err) {
      throw classifyOpenError(err, location);
    }
    const conn = await instance.connect();
    return new DuckDBWarehouse(`duckdb:${location}`, instance, conn, options);
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

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.execute('BEGIN TRANSACTION');
    try {
      const result = await fn();
      await this.execute('COMMIT');
      return result;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    const chunkRecords = this.options.chunkRecords ?? 500_000;
    await this.execute(`CREATE OR REPLACE TEMP TABLE _files (file INTEGER, uri VARCHAR);
      CREATE OR REPLACE TEMP TABLE _raw (file INTEGER, line BIGINT, raw VARCHAR)`);
    const filesAppender = await this.conn.createAppender('_files', 'main', 'temp');
    appendColumns(filesAppender, [INTEGER, VARCHAR], [input.files.map((_, i) => i), input.files.map((f) => f.uri)]);
    filesAppender.closeSync();

    const sql = duckdbStagingSql(table, '_raw', '_files');
    const result: StagingLoadResult = { rows: 0, rejected: 0, bytes: 0 };
    let records = 0;
    let pendingRecords = 0;
    let maxFile = -1;
    let appender = await this.conn.createAppender('_raw', 'main', 'temp');

    const typeAndInsert = async () => {
      appender.closeSync();
      if (pendingRecords > 0) {
        await this.execute(sql.typed);
        const counts = await this.query<{ ok: number; bad: number }>(
          `SELECT count(*) FILTER (WHERE reason IS NULL) AS ok, count(*) FILTER (WHERE reason IS NOT NULL) AS bad FROM _typed`,
        );
        await this.execute(sql.insert);
        await this.execute(sql.rejects);
        result.rows += Number(counts[0]?.ok ?? 0);
        result.rejected += Number(counts[0]?.bad ?? 0);
        await this.execute('DELETE FROM _raw; DROP TABLE IF EXISTS _typed');
      }
      pendingRecords = 0;
    };

    try {
      for await (const batch of readRecords(input.source, input.files, input.format)) {
        result.bytes += batch.bytes;
        const n = batch.text.length;
        if (n > 0) {
          appendColumns(appender, [INTEGER, BIGINT, VARCHAR], [batch.file, batch.line.map(BigInt), batch.text]);
          records += n;
          pendingRecords += n;
          maxFile = batch.file[n - 1]!;
        }
        input.onProgress?.({ records, bytes: result.bytes, files: maxFile + 1 });
        if (pendingRecords >= chunkRecords) {
          await typeAndInsert();
          appender = await this.conn.createAppender('_raw', 'main', 'temp');
        }
      }
      await typeAndInsert();
    } finally {
      await this.conn.run('DROP TABLE IF EXISTS _raw; DROP TABLE IF EXISTS _files; DROP TABLE IF EXISTS _typed').catch(() => undefined);
    }
    return result;
  }

  async lock(): Promise<() => Promise<void>> {
    // DuckDB itself lets only one process open a database file for writing; see classifyOpenError.
    return async () => undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** Appends column arrays in data chunks of at most DuckDB's vector size. */
function appendColumns(appender: DuckDBAppender, types: DuckDBType[], columns: DuckDBValue[][]): void {
  const total = columns[0]?.length ?? 0;
  for (let from = 0; from < total; from += VECTOR_SIZE) {
    const to = Math.min(total, from + VECTOR_SIZE);
    const chunk = DuckDBDataChunk.create(types, to - from);
    chunk.setColumns(columns.map((c) => (from === 0 && to === total ? c : c.slice(from, to))));
    appender.appendDataChunk(chunk);
  }
}

function normalise(v: DuckDBValue): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return normaliseBigint(v);
  if (v instanceof DuckDBTimestampValue) return formatTimestampMs(Number(v.micros / 1000n));
  return String(v);
}

function classifyOpenError(err: unknown, location: string): SparkifyError {
  const message = err instanceof Error ? err.message : String(err);
  if (/Could not set lock|Conflicting lock/i.test(message)) {
    const pid = /PID (\d+)/.exec(message)?.[1];
    return new SparkifyError('WAREHOUSE_LOCKED', `The DuckDB file ${location} is in use by another process${pid ? ` (PID ${pid})` : ''}.`, {
      cause: err,
      hint: 'Wait for the other sparkify run (or program holding the file) to finish, or use another --warehouse file.',
    });
  }
  return new SparkifyError('WAREHOUSE_UNREACHABLE', `Could not open the DuckDB file ${location}: ${firstLine(message)}`, {
    cause: err,
    hint: 'Check that the path is writable and is a DuckDB database (not another kind of file).',
  });
}

function queryError(err: unknown, sql: string): SparkifyError {
  const message = err instanceof Error ? err.message : String(err);
  const missing = /Table with name (\w+) does not exist/i.exec(message);
  if (missing) {
    return new SparkifyError('WAREHOUSE_NOT_READY', `Table ${missing[1]} does not exist in this warehouse.`, {
      cause: err,
      hint: 'Run `sparkify create-tables` first (or `sparkify run`, which does both).',
    });
  }
  return new SparkifyError('WAREHOUSE_QUERY_FAILED', `DuckDB: ${firstLine(message)}`, {
    cause: Object.assign(err instanceof Error ? err : new Error(message), { sql }),
  });
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
