import { ConfigError, firstLine, num, plural, SparkifyError, type ConfigIssue } from '../../errors.js';
import { stagingEvents, type Table } from '../../schema/tables.js';
import type { Source, SourceFile, SourceOptions } from '../../sources/source.js';
import type { SqlDialect } from '../../schema/dialect.js';
import type { PlannedStatement, SqlValue, StagingInput, StagingLoadResult, Warehouse } from '../warehouse.js';
import {
  copyLocation,
  copySql,
  createLandingSql,
  insertRowRejectsSql,
  insertStagingSql,
  jsonOption,
  landingCountsSql,
  landingTableName,
  maxErrorFor,
} from './redshift-copy.js';
import {
  classifyCopyError,
  COPY_IDS_SQL,
  ERROR_VIEWS,
  insertLoadErrorsSql,
  loadErrorCountsSql,
  loadHistorySql,
  reconcileCopy,
  type LoadErrorTable,
  type CopyIds,
  type LoadHistoryRow,
} from './redshift-load-errors.js';
import { copyLocationIssues, type RedshiftCopyOptions } from './redshift-target.js';

/** What the Redshift staging load needs of a warehouse: one session running SQL. */
export type RedshiftSql = Pick<Warehouse, 'execute' | 'query' | 'dialect'>;

export interface RedshiftStagingOptions {
  /** The role, the JSONPaths file and the region, from the target. */
  copy: RedshiftCopyOptions;
  /** Where load errors are read back: STL_LOAD_ERRORS (provisioned) or SYS_LOAD_ERROR_DETAIL (Serverless). */
  loadErrors: LoadErrorTable;
  /** How the load waits for Redshift's load history to show the COPY; injectable so tests never really wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Pauses while SYS_LOAD_HISTORY catches up with a COPY that just ended (about 8 s in all). */
const HISTORY_WAITS_MS = [250, 500, 1000, 2000, 4000];

/**
 * What stops a source from being loaded into `table` by COPY (both Redshift
 * transports ask this before a run takes its lock).
 */
export function redshiftSourceIssues(table: Table, source: Source, copy: RedshiftCopyOptions) {
  const where = table === stagingEvents ? 'the event logs (--logs, [S3] LOG_DATA)' : 'the song files (--songs, [S3] SONG_DATA)';
  return copyLocationIssues(source, where, copy, table === stagingEvents);
}

/**
 * redshiftSourceIssues, then what takes a request: the event log's JSONPaths
 * file must be where COPY will read it. COPY's REGION (the data's region)
 * applies to every file it reads, the JSONPaths file too, so a file in a
 * bucket of another region fails the COPY; say so before the run.
 */
export async function redshiftSourceChecks(table: Table, source: Source, copy: RedshiftCopyOptions, s3Options: Pick<SourceOptions, 's3Endpoint'> = {}): Promise<ConfigIssue[]> {
  const issues = redshiftSourceIssues(table, source, copy);
  const paths = copy.logJsonPaths;
  if (issues.length > 0 || table !== stagingEvents || !paths) return issues;
  const region = source.region || copy.region;
  const where = 'JSONPaths file ([S3] LOG_JSONPATH)';
  try {
    const found = await listJsonPaths(paths, { ...s3Options, s3Region: region });
    if (found.length === 0) issues.push({ where, message: `${paths} does not exist: COPY needs it to map the event fields to columns (or leave LOG_JSONPATH empty to map them by name)` });
  } catch (err) {
    if (err instanceof SparkifyError && err.code === 'S3_WRONG_REGION') {
      issues.push({
        where,
        message: `${paths} is in another region than the event logs (${region ?? 'the cluster’s'}), and COPY's REGION applies to the JSONPaths file too (${firstLine(err.message)}): copy it to a bucket in ${region ?? 'the data’s region'}`,
      });
    }
    // Anything else (no credentials here, access denied to this identity) cannot be decided from here: COPY reads it with its role.
  }
  return issues;
}

/** Lists the JSONPaths object by itself: [] when it does not exist. */
async function listJsonPaths(uri: string, options: SourceOptions): Promise<SourceFile[]> {
  const { S3Source } = await import('../../sources/s3.js');
  const source = await S3Source.create(uri, options);
  try {
    return await source.list();
  } finally {
    await source.close();
  }
}

/** The statements of one load that depend on nothing the run finds, after the checks that need no warehouse. */
export function redshiftLoadSql(d: SqlDialect, table: Table, input: StagingInput, options: RedshiftStagingOptions, fileId?: number) {
  // The pipeline asks before it locks; this guards callers of the library that did not.
  const issues = redshiftSourceIssues(table, input.source, options.copy);
  if (issues.length > 0) throw new ConfigError(issues);
  const from = copyLocation(input.source.uri);
  const jsonPaths = table === stagingEvents ? options.copy.logJsonPaths : undefined;
  const json = jsonOption(table, jsonPaths);
  const maxError = maxErrorFor(input.maxRejects);
  const land = landingTableName(table);
  const iamRoleArn = options.copy.iamRoleArn;
  // COPY's GZIP applies to every file it reads: all gzipped, or none.
  const gzipped = input.files.filter((f) => f.key.endsWith('.gz')).length;
  if (gzipped > 0 && gzipped < input.files.length) {
    throw new SparkifyError('LOAD_FAILED', `${from} holds ${num(gzipped)} gzipped and ${plural(input.files.length - gzipped, 'plain file')}; Redshift's COPY reads one kind at a time.`, {
      hint: 'Keep gzipped and plain files under different prefixes (or gzip them all). No table was changed.',
    });
  }
  const copy = copySql({ table, from, iamRoleArn, region: input.source.region || options.copy.region, json, maxError, gzip: gzipped > 0 }, d);
  return {
    from,
    land,
    jsonPaths,
    iamRoleArn,
    maxError,
    prepare: [`DROP TABLE IF EXISTS ${land}`, createLandingSql(table, d)],
    copy,
    rowRejects: insertRowRejectsSql(table, from, d, input.into.rejects),
    insertStaging: insertStagingSql(table, d, input.into.rows, fileId),
    landingCounts: landingCountsSql(table, d),
    drop: `DROP TABLE ${land}`,
  };
}

/**
 * Every statement of a load in the order it runs, for a dry run: the ids the
 * run reads back after the COPY are placeholders in braces.
 */
export function redshiftLoadPlan(d: SqlDialect, table: Table, input: StagingInput, options: RedshiftStagingOptions): PlannedStatement[] {
  const load = redshiftLoadSql(d, table, input, options);
  const ids = { copyId: '{copy_id}', pid: '{pid}' };
  const errorsId = options.loadErrors === 'stl' ? ids.copyId : '{query_id}';
  return [
    ...load.prepare.map((sql) => ({ sql })),
    { sql: load.copy, note: `COPY reads every file under ${load.from} (${input.files.some((f) => f.key === '{files}') ? 'not listed here' : `${plural(input.files.length, 'file')} listed now`})` },
    { sql: COPY_IDS_SQL, note: 'the COPY’s query id and this session’s process id: {copy_id} and {pid} below' },
    { sql: loadHistorySql(ids), note: 'Redshift’s account of the COPY, asked again for a few seconds while it is missing or running' + (options.loadErrors === 'sys' ? '; its query_id is {query_id} below' : '') },
    { sql: insertLoadErrorsSql(table, load.from, options.loadErrors, errorsId, d, input.into.rejects) },
    { sql: loadErrorCountsSql(options.loadErrors, errorsId) },
    ...(load.rowRejects ? [{ sql: load.rowRejects }] : []),
    { sql: load.insertStaging },
    { sql: load.landingCounts, note: 'the run fails, changing no table, unless Redshift’s loaded_rows and error_count match what landed and what was found' },
    { sql: load.drop },
  ];
}

/**
 * Loads a staging table (the run's copy of it) with Redshift's own COPY from
 * S3. A run that loads every file under the source's prefix (a full run) reads
 * them with one COPY of the prefix, in parallel; its rows cannot say which file
 * they came from (file_id stays NULL). A run that loads some files only (a
 * daily run: new and changed files) COPYs each by its own key, and stamps its
 * rows with its file id, so that a later correction of the file can replace
 * them. Each COPY goes into a temporary landing table (bad records skipped up to
 * MAXERROR and read back from the system table into etl_rejects with file,
 * line and reason), then the rules COPY cannot apply (numbers written as
 * strings, required fields) in one INSERT … SELECT, their rejects alongside.
 * Nothing passes through this machine but SQL.
 *
 * @example
 *   await loadStagingRedshift(wh, stagingEvents, { into: { rows: 'staging_events', rejects: 'etl_rejects' }, source, files, format: 'ndjson' }, { copy: { logJsonPaths }, loadErrors: 'stl' });
 */
export async function loadStagingRedshift(db: RedshiftSql, table: Table, input: StagingInput, options: RedshiftStagingOptions): Promise<StagingLoadResult> {
  if (!input.fileIds) return copyOnce(db, table, input, options);
  const listed = input.sourceFiles ?? (await input.source.list());
  if (readsWholePrefix(input.files, listed)) return copyOnce(db, table, input, options);
  // Some files only (a daily run): one COPY per file, from exactly its key, so each row is known to be its file's.
  const total: StagingLoadResult = { rows: 0, rejected: 0, bytes: 0 };
  for (const [i, file] of input.files.entries()) {
    input.signal?.throwIfAborted();
    const clash = listed.find((f) => f.key !== file.key && f.key.startsWith(file.key));
    if (clash) {
      throw new SparkifyError('LOAD_FAILED', `COPY from ${file.uri} would also read ${clash.uri} (COPY reads every object whose key begins with the one named); no table was changed.`, {
        hint: 'Rename one of them so that no key is the beginning of another, or run with --full-refresh (one COPY of the whole prefix).',
      });
    }
    const one: StagingInput = {
      ...input,
      source: Object.create(input.source, { uri: { value: file.uri } }) as Source,
      files: [file],
      fileIds: undefined,
      onProgress: (p) => input.onProgress?.({ records: p.records, bytes: total.bytes + p.bytes, files: i + p.files }),
    };
    const r = await copyOnce(db, table, one, options, input.fileIds[i]);
    total.rows += r.rows;
    total.rejected += r.rejected;
    total.bytes += r.bytes;
  }
  return total;
}

/** Whether the files to load are every file the source lists: one COPY of the prefix reads exactly them. */
function readsWholePrefix(files: readonly SourceFile[], listed: readonly SourceFile[]): boolean {
  const loading = new Set(files.map((f) => f.key));
  return listed.length === loading.size && listed.every((f) => loading.has(f.key));
}

/** One COPY of the input's location (its prefix, or one file's key, then stamped with `fileId`), its errors and its rules. */
async function copyOnce(db: RedshiftSql, table: Table, input: StagingInput, options: RedshiftStagingOptions, fileId?: number): Promise<StagingLoadResult> {
  const load = redshiftLoadSql(db.dialect, table, input, options, fileId);
  const { from, jsonPaths, iamRoleArn, maxError } = load;
  const d = db.dialect;

  for (const sql of load.prepare) await db.execute(sql);
  try {
    await db.execute(load.copy);
  } catch (err) {
    throw classifyCopyError(err, { table, from, iamRoleArn, jsonPaths, maxRejects: input.maxRejects, maxError, loadErrors: options.loadErrors });
  }

  const [ids] = await db.query<{ copy_id: SqlValue; pid: SqlValue }>(COPY_IDS_SQL);
  const copyId = sqlInteger(ids?.copy_id, 'pg_last_copy_id()');
  const pid = sqlInteger(ids?.pid, 'pg_backend_pid()');
  const history = await loadHistory(db, { copyId, pid }, options.sleep);
  // STL_LOAD_ERRORS is keyed by pg_last_copy_id() (documented); SYS_LOAD_ERROR_DETAIL by the history's query_id.
  const errorsId = options.loadErrors === 'stl' || !history ? copyId : sqlInteger(history.query_id, 'sys_load_history.query_id');
  await db.execute(insertLoadErrorsSql(table, from, options.loadErrors, errorsId, d, input.into.rejects));
  const [found] = await db.query<{ errors: SqlValue; rejects: SqlValue }>(loadErrorCountsSql(options.loadErrors, errorsId));
  if (load.rowRejects) await db.execute(load.rowRejects);
  await db.execute(load.insertStaging);
  const [counts] = await db.query<{ total: number; bad: number }>(load.landingCounts);
  await db.execute(load.drop);

  const total = Number(counts?.total ?? 0);
  const bad = Number(counts?.bad ?? 0);
  const copyRejects = Number(found?.rejects ?? 0);
  const problem = reconcileCopy(history, { landed: total, errors: Number(found?.errors ?? 0), rejects: copyRejects });
  if (problem) {
    const view = ERROR_VIEWS[options.loadErrors].name;
    throw new SparkifyError(
      'LOAD_FAILED',
      `The COPY into ${table.name} from ${from} cannot be accounted for: ${problem}. A record it skipped could be lost, so no table was changed.`,
      {
        hint: `Compare SELECT * FROM sys_load_history WHERE query_id = ${copyId} OR session_id = ${pid} with SELECT * FROM ${view} WHERE ${ERROR_VIEWS[options.loadErrors].key} = ${errorsId}, and report it (docs/redshift.md lists what is verified on a real cluster).`,
      },
    );
  }
  const bytes = input.files.reduce((n, f) => n + f.size, 0);
  input.onProgress?.({ records: total + copyRejects, bytes, files: input.files.length });
  return { rows: total - bad, rejected: copyRejects + bad, bytes };
}

/**
 * The COPY's row of SYS_LOAD_HISTORY, waiting while it is missing or still
 * running (system views can trail the statement by a moment).
 */
async function loadHistory(db: RedshiftSql, ids: CopyIds, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<LoadHistoryRow | undefined> {
  for (let attempt = 0; ; attempt++) {
    const [row] = await db.query<LoadHistoryRow>(loadHistorySql(ids));
    const settled = row !== undefined && String(row.status).toLowerCase() !== 'running';
    if (settled || attempt >= HISTORY_WAITS_MS.length) return row;
    await sleep(HISTORY_WAITS_MS[attempt]!);
  }
}

/** An id from Redshift, as the integer literal the next statements are keyed by. */
function sqlInteger(v: SqlValue | undefined, what: string): string {
  const text = v === null || v === undefined ? '' : String(v).trim();
  if (!/^-?\d{1,19}$/.test(text) || text === '-1') {
    throw new SparkifyError('LOAD_FAILED', `Redshift returned ${text === '' ? 'nothing' : `"${text}"`} for ${what} after a COPY, so its load errors cannot be found; no table was changed.`, {
      hint: 'Run the command again; if it happens again, report it with the output of SELECT pg_last_copy_id(), pg_backend_pid().',
    });
  }
  return text;
}
