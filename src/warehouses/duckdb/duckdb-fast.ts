import { baseDialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
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
 * `INSERT INTO <rows> SELECT … FROM read_json([paths], …)`; every path must be
 * one DuckDB reads literally (no glob characters).
 *
 * @example
 *   await db.execute(fastInsertSql(stagingEvents, { rows: 'staging_events', rejects: 'etl_rejects' }, ['/data/log/2018-11-01-events.json'], 'newline_delimited'));
 */
export function fastInsertSql(table: Table, into: StagingTargets, paths: readonly string[], layout: JsonLayout): string {
  const q = baseDialect.quoteString;
  const typed = typedFields(table, (c) => `j.${baseDialect.quoteIdent(c.name)}`);
  const columns = `{${table.columns.map((c) => `${q(c.name)}: 'VARCHAR'`).join(', ')}}`;
  return `INSERT INTO ${into.rows} (${table.columns.map((c) => c.name).join(', ')})
SELECT ${typed.values.join(',\n       ')}
FROM read_json([${paths.map(q).join(', ')}], format = ${q(layout)}, records = true,
               columns = ${columns}, filename = '_sparkify_file', maximum_object_size = ${MAX_OBJECT_BYTES}) j
WHERE CASE WHEN ${typed.clean} THEN true ELSE error(${q(EXACT_MARK)} || j._sparkify_file) END`;
}

/**
 * Runs the fast statement over `paths` in each layout of `format` until one
 * succeeds; resolves with the rows it inserted, or with what the last failure
 * says about which file caused it.
 */
export async function runFast(db: DuckDBSession, table: Table, into: StagingTargets, paths: readonly string[], format: RecordFormat): Promise<{ rows: number } | FastFailure> {
  let failure: FastFailure = { kind: 'unknown', message: 'no layout to try' };
  for (const layout of layoutsFor(format)) {
    try {
      const result = await db.conn.run(fastInsertSql(table, into, paths, layout));
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
