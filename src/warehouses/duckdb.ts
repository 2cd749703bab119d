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
import type { SourceFile } from '../sources/source.js';
import { duckdbStagingSql, type DuckDBStagingSql } from './duckdb-staging.js';
import { formatTimestampMs, normaliseBigint } from './values.js';
import { baseDialect, dialect, inTransaction, type Row, type SqlValue, type StagingInput, type StagingLoadResult, type Warehouse } from './warehouse.js';

const VECTOR_SIZE = 2048;
/** Largest file DuckDB reads whole; larger ones are streamed through Node. */
const MAX_FILE_BYTES = 512 << 20;

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
  /** Source bytes read and typed per group of files. */
  groupBytes?: number;
  /** Let DuckDB read local NDJSON itself (default true); false splits every file in Node. */
  readLocalFiles?: boolean;
  /** See DuckDBStagingOptions; for tests. */
  fastPath?: boolean;
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
  /** Rows typed by prepareStaging, waiting in temp tables for loadStaging. */
  private prepared?: { table: string; result: StagingLoadResult };

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

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return inTransaction((sql) => (sql === 'ROLLBACK' ? this.conn.run(sql) : this.execute(sql)), fn);
  }

  /**
   * Reads, parses and types every record into temp tables before the load's
   * transaction begins: DuckDB scans rows written inside an open transaction
   * about half as fast, so the transaction then only moves typed rows.
   */
  async prepareStaging(table: Table, input: StagingInput): Promise<void> {
    this.prepared = undefined;
    await this.execute(`CREATE OR REPLACE TEMP TABLE _staged AS SELECT * FROM ${table.name} WHERE false;
      CREATE OR REPLACE TEMP TABLE _staged_rejects AS SELECT * FROM etl_rejects WHERE false`);
    const result = await this.stage(table, input, { rowsTable: '_staged', rejectsTable: '_staged_rejects' });
    this.prepared = { table: table.name, result };
  }

  async loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared?.table !== table.name) return this.stage(table, input, {});
    await this.execute(`INSERT INTO ${table.name} SELECT * FROM _staged;
      INSERT INTO etl_rejects SELECT * FROM _staged_rejects;
      DROP TABLE _staged; DROP TABLE _staged_rejects`);
    return prepared.result;
  }

  /**
   * Raw records go into a temp table `_raw(file, line, raw)` in bounded groups;
   * DuckDB then parses and types each group in SQL (duckdb-staging.ts). Local
   * NDJSON is read and split by DuckDB itself (`read_blob`); other files (song
   * files, S3 objects) are split into records in Node and appended.
   */
  private async stage(table: Table, input: StagingInput, targets: { rowsTable?: string; rejectsTable?: string }): Promise<StagingLoadResult> {
    await this.execute(`CREATE OR REPLACE TEMP TABLE _files (file INTEGER, uri VARCHAR);
      CREATE OR REPLACE TEMP TABLE _raw (file INTEGER, line BIGINT, raw VARCHAR)`);
    const filesAppender = await this.conn.createAppender('_files', 'main', 'temp');
    appendColumns(filesAppender, [INTEGER, VARCHAR], [input.files.map((_, i) => i), input.files.map((f) => f.uri)]);
    filesAppender.closeSync();

    const stagingOptions = { fastPath: this.options.fastPath, ...targets };
    const fromRaw = duckdbStagingSql(table, '_raw', '_files', stagingOptions);
    const result: StagingLoadResult = { rows: 0, rejected: 0, bytes: 0 };
    const progress = { records: 0, files: 0 };
    /** Types and inserts the records of `sql`'s relation; returns how many there were. */
    const typeAndInsert = async (sql: DuckDBStagingSql): Promise<number> => {
      for (const statement of sql.statements) await this.execute(statement);
      const [counts] = await this.query<{ ok: number; bad: number }>(sql.counts);
      result.rows += Number(counts?.ok ?? 0);
      result.rejected += Number(counts?.bad ?? 0);
      return Number(counts?.ok ?? 0) + Number(counts?.bad ?? 0);
    };

    try {
      for (const group of fileGroups(input.files, this.options.groupBytes ?? 256 << 20)) {
        const files = input.files.slice(group.from, group.to);
        const local =
          this.options.readLocalFiles !== false &&
          input.format === 'ndjson' &&
          files.every((f) => input.source.localPath(f) !== undefined && f.size <= MAX_FILE_BYTES);
        let nodeFiles = files.map((_, i) => i);
        if (local) {
          // DuckDB reads and splits the files itself. The lines are materialised
          // first: typing then scans them in parallel, where a scan of a few
          // whole files would run on one thread.
          await this.execute(`INSERT INTO _raw SELECT file, line, raw FROM ${linesRelation(files, group.from)}`);
          const undecoded = await this.query<{ file: number }>('SELECT DISTINCT file FROM _raw WHERE raw IS NULL');
          nodeFiles = undecoded.map((u) => Number(u.file) - group.from);
          progress.records += await typeAndInsert(fromRaw);
          await this.execute(`DELETE FROM _raw; ${fromRaw.cleanup}`);
        }
        if (nodeFiles.length > 0) {
          // Node splits the records; appended in bounded chunks as they come.
          const subset = nodeFiles.map((i) => files[i]!);
          let n = 0;
          let appender = await this.conn.createAppender('_raw', 'main', 'temp');
          const flush = async () => {
            appender.closeSync();
            if (n > 0) progress.records += await typeAndInsert(fromRaw);
            await this.execute(`DELETE FROM _raw; ${fromRaw.cleanup}`);
            n = 0;
          };
          for await (const batch of readRecords(input.source, subset, input.format)) {
            if (batch.text.length > 0) {
              const fileIds = batch.file.map((i) => nodeFiles[i]! + group.from);
              appendColumns(appender, [INTEGER, BIGINT, VARCHAR], [fileIds, batch.line.map(BigInt), batch.text]);
              n += batch.text.length;
            }
            input.onProgress?.({ records: progress.records + n, bytes: result.bytes, files: progress.files });
            if (n >= (this.options.chunkRecords ?? 500_000)) {
              await flush();
              appender = await this.conn.createAppender('_raw', 'main', 'temp');
            }
          }
          await flush();
        }
        progress.files = group.to;
        result.bytes += group.bytes;
        input.onProgress?.({ records: progress.records, bytes: result.bytes, files: progress.files });
      }
    } finally {
      await this.conn.run(`DROP TABLE IF EXISTS _raw; DROP TABLE IF EXISTS _files; ${fromRaw.cleanup}`).catch(() => undefined);
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

/**
 * Local NDJSON files as a relation `(file, line, raw)`, read by DuckDB with the
 * same splitting rules as records.ts: LF ends a line; one CR before it and a
 * BOM at the start of a file are dropped; blank lines are skipped. Nothing here
 * can fail on content (a failed statement would abort the load's transaction):
 * a file that is not valid UTF-8 yields one marker row `(file, 0, NULL)`, and
 * the caller splits that file in Node, which replaces bad bytes and loses nothing.
 */
function linesRelation(files: readonly SourceFile[], offset: number): string {
  const list = files.map((f) => baseQuote(f.uri)).join(', ');
  const uris = files.map((f, i) => `(${offset + i}, ${baseQuote(f.uri)})`).join(', ');
  return `(
  SELECT file, line, raw FROM (
    SELECT file, line, CASE WHEN line = 1 AND starts_with(r, chr(65279)) THEN r[2:] ELSE r END AS raw
    FROM (
      SELECT file, line, CASE WHEN ends_with(l, chr(13)) THEN left(l, length(l) - 1) ELSE l END AS r
      FROM (
        SELECT file, unnest(parts) AS l, generate_subscripts(parts, 1) AS line
        FROM (
          SELECT f.file, CASE WHEN t.text IS NULL THEN [NULL] ELSE string_split(t.text, chr(10)) END AS parts
          FROM (SELECT filename, try(decode(content)) AS text FROM read_blob([${list}])) t
          JOIN (VALUES ${uris}) f(file, uri) ON f.uri = t.filename
        )
      )
    )
  )
  WHERE raw IS NULL OR trim(raw, ' ' || chr(9) || chr(13)) <> ''
)`;
}

/** Consecutive files in groups of about `limit` bytes (at least one file each). */
function* fileGroups(files: readonly SourceFile[], limit: number): Generator<{ from: number; to: number; bytes: number }> {
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < files.length; i++) {
    bytes += files[i]!.size;
    if (bytes >= limit || i === files.length - 1) {
      yield { from, to: i + 1, bytes };
      from = i + 1;
      bytes = 0;
    }
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

const baseQuote = baseDialect.quoteString;

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
