import { baseDialect } from '../../schema/dialect.js';
import { INT32_MAX, INT32_MIN } from '../../schema/coerce.js';
import { FILE_ID, type Table } from '../../schema/tables.js';
import type { RecordFormat } from '../../sources/records.js';
import type { DuckDBSession } from './duckdb-exact.js';
import { typedFields, type StagingTargets } from './duckdb-staging-sql.js';

/**
 * The fast path: DuckDB's own JSON reader (`read_json`, parallel, C++) reads
 * whole files into the staging table in one statement, every field read as
 * text and typed by `typedFields`. It takes a file only whole and only when
 * every record of it is clean: a record that needs the full rules makes the
 * statement fail (`error()`), and so does anything `read_json` refuses
 * (invalid JSON or UTF-8, a BOM, duplicate keys, a non-object). The failed
 * statement changes nothing (it runs on its own, outside any transaction), and
 * the caller sends the file it names to the exact path. Clean files never pay
 * for line numbers: only rejects need them.
 */

/**
 * How `read_json` splits a file into records: one per line (event logs, and
 * song files written one object per line, the fast case), or any JSON values
 * one after another (pretty-printed song files).
 */
export type JsonLayout = 'newline_delimited' | 'unstructured';

/** The layouts to try, in order, for a record format. */
export function layoutsFor(format: RecordFormat): JsonLayout[] {
  return format === 'ndjson' ? ['newline_delimited'] : ['newline_delimited', 'unstructured'];
}

/** Marks a record that needs the full rules, with the file it is in. */
const EXACT_MARK = 'sparkify-exact-path:';

/** Largest record `read_json` reads; larger ones go to the exact path (its default is 16 MB). */
const MAX_OBJECT_BYTES = 64 << 20;

/** What a failed fast statement says about the file that failed it. */
export type FastFailure =
  /** A record of `path` needs the exact path (or `read_json` refused it). */
  | { kind: 'exact'; path: string }
  /** `path` could not be opened: it vanished or is unreadable. */
  | { kind: 'unreadable'; path: string; message: string }
  /** Something the message does not tie to one file. */
  | { kind: 'unknown'; message: string };

/**
 * Where the fast statement finds each row's file_id (the staging table's
 * trailing column), when it fills it:
 * - `byPath`: the id of each of `paths`, in order, picked by the index of
 *   the row's file in the list `read_json` reads (its `file_index`), once the
 *   path at that index is checked to be the one it names for the row: two
 *   lookups in constant lists and a compare, no cost that shows (a CASE over
 *   the paths cost 8% on 1,000 files of 1,000 songs);
 * - `injected`: the records carry it themselves, as their first key
 *   (`SPOOL_FILE_ID_KEY`, written by the spool, duckdb-scratch.ts).
 * A row whose id cannot be told (a name the CASE does not know, a record
 * without the key) fails the statement like a record that needs the exact
 * path, which attributes every record by its file: no row is loaded with a
 * wrong or missing id.
 */
export type FastFileIds = { byPath: readonly number[] } | 'injected';

/** The key the spool writes first into every record of a spooled file: its file_id. */
export const SPOOL_FILE_ID_KEY = '_sparkify_file_id';

/**
 * `INSERT INTO <rows> SELECT … FROM read_json([paths], …)`; every path must be
 * one DuckDB reads literally (no glob characters). With `fileIds`, file_id is
 * filled too (see FastFileIds).
 *
 * @example
 *   await db.execute(fastInsertSql(stagingEvents, { rows: 'staging_events', rejects: 'etl_rejects' }, ['/data/log/2018-11-01-events.json'], 'newline_delimited'));
 */
export function fastInsertSql(table: Table, into: StagingTargets, paths: readonly string[], layout: JsonLayout, fileIds?: FastFileIds): string {
  const q = baseDialect.quoteString;
  const typed = typedFields(table, (c) => `j.${baseDialect.quoteIdent(c.name)}`);
  const fields = table.columns.map((c) => `${q(c.name)}: 'VARCHAR'`);
  const names = table.columns.map((c) => c.name);
  const values = [...typed.values];
  let clean = typed.clean;
  const needsExact = `error(${q(EXACT_MARK)} || j._sparkify_file)`;
  if (fileIds === 'injected') {
    const key = baseDialect.quoteIdent(SPOOL_FILE_ID_KEY);
    fields.push(`${q(SPOOL_FILE_ID_KEY)}: 'INTEGER'`);
    names.push(FILE_ID.name);
    values.push(`j.${key}`);
    clean = `${clean} AND j.${key} IS NOT NULL`;
  } else if (fileIds) {
    if (fileIds.byPath.length !== paths.length) throw new Error(`${fileIds.byPath.length} file ids for ${paths.length} paths`);
    const at = `CAST(j.file_index AS BIGINT) + 1`; // a virtual column of DuckDB's multi-file readers, from 0 (no staging field has its name)
    const pathList = `[${paths.map(q).join(', ')}]`;
    const idList = `[${fileIds.byPath.map(sqlFileId).join(', ')}]`;
    names.push(FILE_ID.name);
    values.push(`CASE WHEN ${pathList}[${at}] = j._sparkify_file THEN ${idList}[${at}] ELSE CAST(${needsExact} AS INTEGER) END`);
  }
  return `INSERT INTO ${into.rows} (${names.join(', ')})
SELECT ${values.join(',\n       ')}
FROM read_json([${paths.map(q).join(', ')}], format = ${q(layout)}, records = true,
               columns = {${fields.join(', ')}}, filename = '_sparkify_file', maximum_object_size = ${MAX_OBJECT_BYTES}) j
WHERE CASE WHEN ${clean} THEN true ELSE ${needsExact} END`;
}

/** A file id as an SQL literal; anything but a 32-bit integer (the column's type) is a bug of the caller. */
export function sqlFileId(id: number): string {
  if (!Number.isInteger(id) || id < INT32_MIN || id > INT32_MAX) throw new Error(`file id ${id} is not a 32-bit integer`);
  return String(id);
}

/**
 * Runs the fast statement over `paths` in each layout of `format` until one
 * succeeds; resolves with the rows it inserted, or with what the last failure
 * says about which file caused it. Records with injected file ids (the spool)
 * are one per line, so only that layout is tried for them.
 */
export async function runFast(
  db: DuckDBSession,
  table: Table,
  into: StagingTargets,
  paths: readonly string[],
  format: RecordFormat,
  fileIds?: FastFileIds,
): Promise<{ rows: number } | FastFailure> {
  let failure: FastFailure = { kind: 'unknown', message: 'no layout to try' };
  const layouts: JsonLayout[] = fileIds === 'injected' ? ['newline_delimited'] : layoutsFor(format);
  for (const layout of layouts) {
    try {
      const result = await db.conn.run(fastInsertSql(table, into, paths, layout, fileIds));
      return { rows: Number(result.rowsChanged) };
    } catch (err) {
      failure = classifyFastFailure(err instanceof Error ? err.message : String(err));
      if (failure.kind === 'unreadable') break;
    }
  }
  return failure;
}

/** Reads DuckDB's message for the file it names. */
export function classifyFastFailure(message: string): FastFailure {
  const marked = message.indexOf(EXACT_MARK);
  if (marked !== -1) return { kind: 'exact', path: message.slice(marked + EXACT_MARK.length).split('\n', 1)[0]!.trim() };
  const missing = /No files found that match the pattern "([^"]+)"|Cannot open file "([^"]+)"|Could not (?:read|open) (?:file )?"([^"]+)"/.exec(message);
  if (missing) return { kind: 'unreadable', path: (missing[1] ?? missing[2] ?? missing[3])!, message: message.split('\n', 1)[0]! };
  const inFile = /in file "([^"]+)"/.exec(message);
  if (inFile) return { kind: 'exact', path: inFile[1]! };
  return { kind: 'unknown', message: message.split('\n', 1)[0]! };
}
