import { stat } from 'node:fs/promises';
import { num, plural, SparkifyError } from '../../errors.js';
import type { Table } from '../../schema/tables.js';
import { changedWhileRead } from '../../sources/read-files.js';
import type { Source, SourceFile } from '../../sources/source.js';
import type { PlannedStatement, StagingInput, StagingLoadResult } from '../warehouse.js';
import { loadExact, type DuckDBSession, type ExactOptions } from './duckdb-exact.js';
import { fastInsertSql, layoutsFor, runFast, sqlFileId } from './duckdb-fast.js';
import { spool, type Scratch } from './duckdb-scratch.js';

/**
 * A DuckDB staging load: every file goes whole through the fast path (DuckDB's
 * own reader, duckdb-fast.ts) when all its records are clean, else through the
 * exact path (Node splits, SQL applies the full rules, rejects get file and
 * line; duckdb-exact.ts). Large local files are read in place; small ones
 * (song files) and S3 objects are first joined into spool files. Every listed
 * file is read exactly once: one that vanishes, or changes while it is read,
 * fails the load naming it.
 *
 * With the input's fileIds every row gets its file's id in file_id, on every
 * path: read in place, by the path `read_json` names for the row; spooled, by
 * the id the spool writes into each record (a file it cannot do that for
 * takes the exact path); on the exact path, by the file index each record
 * already carries.
 */

export interface DuckDBLoadOptions extends ExactOptions {
  /** Local files at least this large are read in place; smaller ones are spooled when there are many. Default 64 KiB. */
  directMinBytes?: number;
  /** Small local files are spooled only when there are more than this many. Default 1,000. */
  spoolMinFiles?: number;
  /** Source bytes per fast statement over files read in place. Default: no limit (DuckDB reads a large group far faster than many small ones). */
  groupBytes?: number;
  /** Source bytes per spool file. Default 64 MiB. */
  spoolBytes?: number;
}

/** After this many files of a group fail the fast path, the rest of the group is split in two. */
const RETRIES_BEFORE_SPLIT = 3;

interface Group {
  kind: 'direct' | 'spool';
  /** Indexes into the input's files. */
  files: number[];
  bytes: number;
}

/**
 * Loads `input` into its tables; see the module comment.
 *
 * @example
 *   const r = await loadStagingDuckDB(session, () => scratch, stagingEvents, input, {});
 */
export async function loadStagingDuckDB(
  db: DuckDBSession,
  scratch: () => Promise<Scratch>,
  table: Table,
  input: StagingInput,
  options: DuckDBLoadOptions,
): Promise<StagingLoadResult> {
  const { source, files } = input;
  const fileIds = checkedFileIds(input);
  const result: StagingLoadResult = { rows: 0, rejected: 0, bytes: 0 };
  const progress = { records: 0, files: 0 };
  const report = () => input.onProgress?.({ records: progress.records, bytes: result.bytes, files: progress.files });
  const done = (indexes: readonly number[], rows: number) => {
    result.rows += rows;
    progress.records += rows;
    progress.files += indexes.length;
    for (const i of indexes) result.bytes += files[i]!.size;
    report();
  };
  const exact: number[] = [];

  for (const group of plan(source, files, options)) {
    input.signal?.throwIfAborted();
    if (options.fastPath === false) exact.push(...group.files);
    else if (group.kind === 'spool') {
      const file = (await scratch()).file('.json');
      const left = await spool(source, group.files.map((i) => files[i]!), file, fileIds && group.files.map((i) => fileIds[i]!));
      const out = new Set(left);
      const spooled = out.size === 0 ? group.files : group.files.filter((_, k) => !out.has(k));
      exact.push(...left.map((k) => group.files[k]!));
      if (spooled.length === 0) continue;
      const r = await runFast(db, table, input.into, [file], input.format, fileIds && 'injected');
      input.signal?.throwIfAborted();
      if ('rows' in r) done(spooled, r.rows);
      else exact.push(...spooled);
    } else {
      const paths = new Map<string, number>();
      for (const i of group.files) {
        const p = await (await scratch()).literalPath(source.localPath(files[i]!)!);
        if (p === undefined) exact.push(i);
        else paths.set(p, i);
      }
      exact.push(...(await readInPlace(paths)));
    }
  }

  /**
   * One fast statement over every file of `paths`. A file that fails it goes
   * to the exact path and the rest is read again; after a few such failures
   * the rest is split in two, so dirty data costs a few re-reads, not one per
   * file. Returns the files for the exact path.
   */
  async function readInPlace(paths: Map<string, number>): Promise<number[]> {
    const toExact: number[] = [];
    for (let failures = 0; paths.size > 0; failures++) {
      if (failures >= RETRIES_BEFORE_SPLIT && paths.size > 1) {
        const entries = [...paths];
        const half = Math.ceil(entries.length / 2);
        toExact.push(...(await readInPlace(new Map(entries.slice(0, half)))), ...(await readInPlace(new Map(entries.slice(half)))));
        break;
      }
      const r = await runFast(db, table, input.into, [...paths.keys()], input.format, fileIds && { byPath: [...paths.values()].map((i) => fileIds[i]!) });
      // An interrupted statement fails like a bad file would: never retry it.
      input.signal?.throwIfAborted();
      if ('rows' in r) {
        await assertUnchanged(source, [...paths.values()].map((i) => files[i]!));
        done([...paths.values()], r.rows);
        break;
      }
      const failed = r.kind === 'unknown' ? undefined : paths.get(r.path);
      if (r.kind === 'unreadable' && failed !== undefined) throw unreadable(source, files[failed]!, r.message);
      if (failed === undefined) {
        // A failure that names no file of ours: split at once, until a file alone takes the exact path.
        if (paths.size === 1) {
          toExact.push(...paths.values());
          break;
        }
        failures = RETRIES_BEFORE_SPLIT - 1;
        continue;
      }
      toExact.push(failed);
      paths.delete((r as { path: string }).path);
    }
    return toExact;
  }

  if (exact.length > 0) {
    exact.sort((a, b) => a - b);
    const before = progress.records;
    const r = await loadExact(db, table, input.into, source, exact.map((i) => files[i]!), input.format, {
      ...options,
      fileIds: fileIds && exact.map((i) => fileIds[i]!),
      signal: input.signal,
      onRecords: (n) => {
        progress.records = before + n;
        report();
      },
    });
    result.rows += r.rows;
    result.rejected += r.rejected;
    result.invalidUtf8 = r.invalidUtf8;
    progress.records = before + r.records;
    done(exact, 0);
  }
  return { ...result, exactFiles: exact.length };
}

/**
 * Files in groups of about the size limit: large local files read in place, the
 * rest spooled (the order of rows in staging means nothing, so each kind is
 * grouped on its own, in listing order).
 */
function* plan(source: Source, files: readonly SourceFile[], options: DuckDBLoadOptions): Generator<Group> {
  const directMin = options.directMinBytes ?? 64 << 10;
  const limits = { direct: options.groupBytes ?? Number.POSITIVE_INFINITY, spool: options.spoolBytes ?? 64 << 20 };
  const maxFiles = 1000; // a statement names at most this many files
  const local = (f: SourceFile) => source.localPath(f) !== undefined;
  // Opening a file costs DuckDB more than Node; it only shows with thousands of small ones.
  const small = files.reduce((n, f) => n + (local(f) && f.size < directMin ? 1 : 0), 0);
  const spoolSmall = small > (options.spoolMinFiles ?? 1000);
  const open: Partial<Record<Group['kind'], Group>> = {};
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const kind = local(f) && (f.size >= directMin || !spoolSmall) ? 'direct' : 'spool';
    const group = (open[kind] ??= { kind, files: [], bytes: 0 });
    group.files.push(i);
    group.bytes += f.size;
    if (group.bytes >= limits[kind] || (kind === 'direct' && group.files.length >= maxFiles)) {
      yield group;
      delete open[kind];
    }
  }
  for (const g of [open.direct, open.spool]) if (g) yield g;
}

/**
 * A load's statements for a dry run: one fast statement per group, over the
 * files themselves or over the spool file their records are joined into. What
 * the run finds can only add statements: a file that fails the fast path is
 * read again by the exact path (Node splits the records, SQL applies the rules).
 */
export function duckdbLoadPlan(table: Table, input: StagingInput, options: DuckDBLoadOptions = {}): PlannedStatement[] {
  const { source, files } = input;
  const fileIds = checkedFileIds(input);
  const layout = layoutsFor(input.format)[0]!;
  const steps: PlannedStatement[] = [];
  let spools = 0;
  for (const group of plan(source, files, options)) {
    const n = group.files.length;
    if (group.kind === 'direct') {
      const paths = group.files.map((i) => source.localPath(files[i]!)!);
      const ids = fileIds && { byPath: group.files.map((i) => fileIds[i]!) };
      steps.push({ sql: fastInsertSql(table, input.into, paths, layout, ids), note: `${plural(n, 'file')} read in place` });
    } else {
      const spool = `{scratch}/spool-${++spools}.json`;
      const joined = `the records of ${plural(n, 'file')} under ${source.uri}, joined here into ${spool}`;
      const note = fileIds ? `${joined}, each with its file's id (a file not one record per line takes the exact path)` : joined;
      steps.push({ sql: fastInsertSql(table, input.into, [spool], layout, fileIds && 'injected'), note });
    }
  }
  steps.push({ note: `a file any statement above fails is loaded again by the exact path, its rejects into ${input.into.rejects} with file and line` });
  return steps;
}

/** The input's file ids, checked against its files: one 32-bit integer per file. */
function checkedFileIds(input: StagingInput): readonly number[] | undefined {
  const ids = input.fileIds;
  if (ids === undefined) return undefined;
  if (ids.length !== input.files.length) throw new SparkifyError('INTERNAL', `${plural(ids.length, 'file id')} for ${plural(input.files.length, 'file')}.`);
  for (const id of ids) sqlFileId(id);
  return ids;
}

/** A file read in place must still be what the listing said, or it changed under the read. */
async function assertUnchanged(source: Source, files: readonly SourceFile[]): Promise<void> {
  for (const f of files) {
    const st = await stat(source.localPath(f)!).catch(() => undefined);
    if (!st) throw unreadable(source, f, 'it no longer exists');
    if (st.size !== f.size || (f.modified !== undefined && st.mtimeMs !== f.modified)) {
      throw changedWhileRead(f, source, st.size !== f.size ? `${plural(f.size, 'byte')} when listed, ${num(st.size)} now` : 'modified since it was listed');
    }
  }
}

function unreadable(source: Source, file: SourceFile, why: string): SparkifyError {
  return new SparkifyError('SOURCE_READ_FAILED', `${file.uri} was listed but could not be read (${why}; source ${source.uri}).`, {
    hint: 'Something is changing the source during the run, or its permissions; run again once it is stable. No table was changed.',
  });
}
