import type { DuckDBAppender, DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Table } from '../../schema/tables.js';
import { coerceRecord, rejectRawText } from '../../schema/coerce.js';
import { baseDialect } from '../../schema/dialect.js';
import { readRecords, type RecordBatch } from '../../sources/records.js';
import type { Source, SourceFile } from '../../sources/source.js';
import type { Row, StagingInput } from '../warehouse.js';
import { duckdb } from './duckdb-api.js';
import { duckdbStagingSql, type DuckDBStagingOptions, type DuckDBStagingSql, type StagingTargets } from './duckdb-staging-sql.js';

const VECTOR_SIZE = 2048;

/**
 * Records longer than this (in UTF-16 units) are checked in Node by the
 * reference rules (coerce.ts) instead of DuckDB's SQL: a huge record with
 * millions of keys or brackets makes DuckDB's JSON functions allocate far
 * beyond the memory limit, where JSON.parse copes. A rejected one is kept
 * with its reason; a good one goes on as its coerced values only, a small
 * JSON object the SQL types to the same values. Real records are < 2 KB.
 */
const HUGE_RECORD = 1 << 20;

/** What the loaders need of a DuckDB warehouse. */
export interface DuckDBSession {
  conn: DuckDBConnection;
  execute(sql: string): Promise<void>;
  query<T extends Row = Row>(sql: string): Promise<T[]>;
}

export interface ExactOptions extends DuckDBStagingOptions {
  /** Records typed per round trip; bounds memory whatever the input size. Default 500,000. */
  chunkRecords?: number;
}

/** What one exact load is told besides ExactOptions. */
export interface ExactLoadOptions extends ExactOptions {
  /** The id of each of the files, in order: each row gets its file's in file_id (else NULL). */
  fileIds?: readonly number[];
  onRecords?: (records: number) => void;
  signal?: AbortSignal;
}

/** Counts of an exact load. */
export interface ExactResult {
  rows: number;
  rejected: number;
  records: number;
  /** Records whose bytes were not valid UTF-8. */
  invalidUtf8: number;
}

/**
 * The exact path, for files the fast path cannot take whole (a record that
 * needs the full rules, invalid JSON or UTF-8, a BOM, a name DuckDB would read
 * as a glob): Node splits the files into records with their line numbers
 * (records.ts, which reads every listed file or fails naming it), appends them
 * to a temp table `_raw(file, line, raw)` in bounded chunks, and DuckDB parses
 * and types each chunk with the full rules in SQL (duckdb-staging-sql.ts),
 * rejects with their file, line and reason.
 *
 * @example
 *   const r = await loadExact(session, stagingEvents, { rows: 'staging_events', rejects: 'etl_rejects' }, source, files, 'ndjson', {});
 */
export async function loadExact(
  db: DuckDBSession,
  table: Table,
  into: StagingTargets,
  source: Source,
  files: readonly SourceFile[],
  format: StagingInput['format'],
  options: ExactLoadOptions,
): Promise<ExactResult> {
  const ids = options.fileIds;
  if (ids && ids.length !== files.length) throw new Error(`${ids.length} file ids for ${files.length} files`);
  await db.execute(`CREATE OR REPLACE TEMP TABLE _files (file INTEGER, uri VARCHAR, file_id INTEGER);
    CREATE OR REPLACE TEMP TABLE _raw (file INTEGER, line BIGINT, raw VARCHAR);
    CREATE OR REPLACE TEMP TABLE _huge_rejects (file INTEGER, line BIGINT, reason VARCHAR, raw VARCHAR)`);
  const filesAppender = await db.conn.createAppender('_files', 'main', 'temp');
  appendColumns(filesAppender, [duckdb.INTEGER, duckdb.VARCHAR, duckdb.INTEGER], [files.map((_, i) => i), files.map((f) => f.uri), files.map((_, i) => ids?.[i] ?? null)]);
  filesAppender.closeSync();

  const sql = duckdbStagingSql(table, into, '_raw', '_files', { fastPath: options.fastPath, fileIds: ids !== undefined });
  const result: ExactResult = { rows: 0, rejected: 0, records: 0, invalidUtf8: 0 };
  const typeAndInsert = async (s: DuckDBStagingSql): Promise<void> => {
    for (const statement of s.statements) await db.execute(statement);
    const [counts] = await db.query<{ ok: number; bad: number }>(s.counts);
    result.rows += Number(counts?.ok ?? 0);
    result.rejected += Number(counts?.bad ?? 0);
  };

  try {
    let n = 0;
    let appender = await db.conn.createAppender('_raw', 'main', 'temp');
    const flush = async () => {
      appender.closeSync();
      if (n > 0) await typeAndInsert(sql);
      await db.execute(`DELETE FROM _raw; ${sql.cleanup}`);
      result.records += n;
      n = 0;
    };
    for await (const batch of readRecords(source, files, format)) {
      options.signal?.throwIfAborted();
      result.invalidUtf8 += batch.invalidUtf8;
      result.rejected += await checkHuge(db, table, into, batch);
      if (batch.text.length > 0) {
        appendColumns(appender, [duckdb.INTEGER, duckdb.BIGINT, duckdb.VARCHAR], [batch.file, batch.line.map(BigInt), batch.text]);
        n += batch.text.length;
      }
      options.onRecords?.(result.records + n);
      if (n >= (options.chunkRecords ?? 500_000)) {
        await flush();
        appender = await db.conn.createAppender('_raw', 'main', 'temp');
      }
    }
    await flush();
  } finally {
    await db.conn.run(`DROP TABLE IF EXISTS _raw; DROP TABLE IF EXISTS _files; DROP TABLE IF EXISTS _huge_rejects; ${sql.cleanup}`).catch(() => undefined);
  }
  return result;
}

/**
 * Checks the batch's huge records in Node (see HUGE_RECORD): a rejected one
 * goes straight to the rejects and leaves the batch; a good one is replaced
 * by its coerced values. Returns how many were rejected.
 */
async function checkHuge(db: DuckDBSession, table: Table, into: StagingTargets, batch: RecordBatch): Promise<number> {
  let rejected = 0;
  for (let i = batch.text.length - 1; i >= 0; i--) {
    const text = batch.text[i]!;
    if (text.length <= HUGE_RECORD) continue;
    const r = coerceRecord(table, text);
    if (r.ok) {
      const fields = table.columns.flatMap((c, k) => (r.values[k] === null ? [] : [[c.name, r.values[k]] as const]));
      batch.text[i] = JSON.stringify(Object.fromEntries(fields));
      continue;
    }
    const appender = await db.conn.createAppender('_huge_rejects', 'main', 'temp');
    appendColumns(appender, [duckdb.INTEGER, duckdb.BIGINT, duckdb.VARCHAR, duckdb.VARCHAR], [[batch.file[i]!], [BigInt(batch.line[i]!)], [r.reason], [rejectRawText(text)]]);
    appender.closeSync();
    batch.file.splice(i, 1);
    batch.line.splice(i, 1);
    batch.text.splice(i, 1);
    rejected++;
  }
  if (rejected > 0) {
    await db.execute(`INSERT INTO ${into.rejects} (target_table, source, line, reason, raw)
      SELECT ${baseDialect.quoteString(table.name)}, f.uri, t.line, t.reason, t.raw FROM _huge_rejects t JOIN _files f USING (file) ORDER BY t.file, t.line;
      DELETE FROM _huge_rejects`);
  }
  return rejected;
}

/** Appends column arrays in data chunks of at most DuckDB's vector size. */
function appendColumns(appender: DuckDBAppender, types: DuckDBType[], columns: DuckDBValue[][]): void {
  const total = columns[0]?.length ?? 0;
  for (let from = 0; from < total; from += VECTOR_SIZE) {
    const to = Math.min(total, from + VECTOR_SIZE);
    const chunk = duckdb.DuckDBDataChunk.create(types, to - from);
    chunk.setColumns(columns.map((c) => (from === 0 && to === total ? c : c.slice(from, to))));
    appender.appendDataChunk(chunk);
  }
}
