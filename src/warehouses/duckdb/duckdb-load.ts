import { BIGINT, DuckDBAppender, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { baseDialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
import { readRecords } from '../../sources/records.js';
import type { SourceFile } from '../../sources/source.js';
import type { Row, StagingInput, StagingLoadResult } from '../warehouse.js';
import { duckdbStagingSql, type DuckDBStagingOptions, type DuckDBStagingSql } from './duckdb-staging-sql.js';

const VECTOR_SIZE = 2048;
/** Largest file DuckDB reads whole; larger ones are streamed through Node. */
const MAX_FILE_BYTES = 512 << 20;
const baseQuote = baseDialect.quoteString;

/** What the loader needs of a DuckDB warehouse. */
export interface DuckDBSession {
  conn: DuckDBConnection;
  execute(sql: string): Promise<void>;
  query<T extends Row = Row>(sql: string): Promise<T[]>;
}

export interface LoadOptions extends DuckDBStagingOptions {
  /** Records typed per round trip; bounds memory whatever the input size. */
  chunkRecords?: number;
  /** Source bytes read and typed per group of files. */
  groupBytes?: number;
  /** Let DuckDB read local NDJSON itself (default true); false splits every file in Node. */
  readLocalFiles?: boolean;
}

/**
 * Raw records go into a temp table `_raw(file, line, raw)` in bounded groups;
 * DuckDB then parses and types each group in SQL (duckdb-staging.ts). Local
 * NDJSON is read and split by DuckDB itself (`read_blob`); other files (song
 * files, S3 objects) are split into records in Node and appended. Fills the
 * staging table and etl_rejects.
 */
export async function loadRecords(db: DuckDBSession, table: Table, input: StagingInput, options: LoadOptions): Promise<StagingLoadResult> {
  await db.execute(`CREATE OR REPLACE TEMP TABLE _files (file INTEGER, uri VARCHAR);
    CREATE OR REPLACE TEMP TABLE _raw (file INTEGER, line BIGINT, raw VARCHAR)`);
  const filesAppender = await db.conn.createAppender('_files', 'main', 'temp');
  appendColumns(filesAppender, [INTEGER, VARCHAR], [input.files.map((_, i) => i), input.files.map((f) => f.uri)]);
  filesAppender.closeSync();

  const fromRaw = duckdbStagingSql(table, '_raw', '_files', { fastPath: options.fastPath });
  const result: StagingLoadResult = { rows: 0, rejected: 0, bytes: 0 };
  const progress = { records: 0, files: 0 };
  /** Types and inserts the records of `sql`'s relation; returns how many there were. */
  const typeAndInsert = async (sql: DuckDBStagingSql): Promise<number> => {
    for (const statement of sql.statements) await db.execute(statement);
    const [counts] = await db.query<{ ok: number; bad: number }>(sql.counts);
    result.rows += Number(counts?.ok ?? 0);
    result.rejected += Number(counts?.bad ?? 0);
    return Number(counts?.ok ?? 0) + Number(counts?.bad ?? 0);
  };

  try {
    for (const group of fileGroups(input.files, options.groupBytes ?? 256 << 20)) {
      const files = input.files.slice(group.from, group.to);
      const local =
        options.readLocalFiles !== false &&
        input.format === 'ndjson' &&
        files.every((f) => input.source.localPath(f) !== undefined && f.size <= MAX_FILE_BYTES);
      let nodeFiles = files.map((_, i) => i);
      if (local) {
        // DuckDB reads and splits the files itself. The lines are materialised
        // first: typing then scans them in parallel, where a scan of a few
        // whole files would run on one thread.
        await db.execute(`INSERT INTO _raw SELECT file, line, raw FROM ${linesRelation(files, group.from)}`);
        const undecoded = await db.query<{ file: number }>('SELECT DISTINCT file FROM _raw WHERE raw IS NULL');
        nodeFiles = undecoded.map((u) => Number(u.file) - group.from);
        progress.records += await typeAndInsert(fromRaw);
        await db.execute(`DELETE FROM _raw; ${fromRaw.cleanup}`);
      }
      if (nodeFiles.length > 0) {
        // Node splits the records; appended in bounded chunks as they come.
        const subset = nodeFiles.map((i) => files[i]!);
        let n = 0;
        let appender = await db.conn.createAppender('_raw', 'main', 'temp');
        const flush = async () => {
          appender.closeSync();
          if (n > 0) progress.records += await typeAndInsert(fromRaw);
          await db.execute(`DELETE FROM _raw; ${fromRaw.cleanup}`);
          n = 0;
        };
        for await (const batch of readRecords(input.source, subset, input.format)) {
          if (batch.text.length > 0) {
            const fileIds = batch.file.map((i) => nodeFiles[i]! + group.from);
            appendColumns(appender, [INTEGER, BIGINT, VARCHAR], [fileIds, batch.line.map(BigInt), batch.text]);
            n += batch.text.length;
          }
          input.onProgress?.({ records: progress.records + n, bytes: result.bytes, files: progress.files });
          if (n >= (options.chunkRecords ?? 500_000)) {
            await flush();
            appender = await db.conn.createAppender('_raw', 'main', 'temp');
          }
        }
        await flush();
      }
      progress.files = group.to;
      result.bytes += group.bytes;
      input.onProgress?.({ records: progress.records, bytes: result.bytes, files: progress.files });
    }
  } finally {
    await db.conn.run(`DROP TABLE IF EXISTS _raw; DROP TABLE IF EXISTS _files; ${fromRaw.cleanup}`).catch(() => undefined);
  }
  return result;
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
