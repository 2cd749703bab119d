import { ConfigError, SparkifyError } from '../../errors.js';
import { stagingEvents, type Table } from '../../schema/tables.js';
import type { Source } from '../../sources/source.js';
import type { StagingInput, StagingLoadResult, Warehouse } from '../warehouse.js';
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
import { classifyCopyError, insertRejectsSql, loadErrorRejects, loadErrorsSql, type LoadErrorRow, type LoadErrorTable } from './redshift-load-errors.js';
import { copyLocationIssues, type RedshiftCopyOptions } from './redshift-target.js';

/** What the Redshift staging load needs of a warehouse: one session running SQL. */
export type RedshiftSql = Pick<Warehouse, 'execute' | 'query' | 'dialect'>;

export interface RedshiftStagingOptions {
  /** The role, the JSONPaths file and the region, from the target. */
  copy: RedshiftCopyOptions;
  /** Where load errors are read back: STL_LOAD_ERRORS (provisioned) or SYS_LOAD_ERROR_DETAIL (Serverless). */
  loadErrors: LoadErrorTable;
}

/**
 * What stops a source from being loaded into `table` by COPY (both Redshift
 * transports ask this before a run takes its lock).
 */
export function redshiftSourceIssues(table: Table, source: Source, copy: RedshiftCopyOptions) {
  const where = table === stagingEvents ? 'the event logs (--logs, [S3] LOG_DATA)' : 'the song files (--songs, [S3] SONG_DATA)';
  return copyLocationIssues(source, where, copy, table === stagingEvents);
}

/**
 * Loads a staging table (the run's copy of it) with Redshift's own COPY from
 * S3: COPY into a temporary landing table (bad records skipped up to
 * MAXERROR and read back from the system table into etl_rejects with file,
 * line and reason), then the rules COPY cannot apply (numbers written as
 * strings, required fields) in one INSERT … SELECT, their rejects alongside.
 * Nothing passes through this machine but SQL.
 *
 * @example
 *   await loadStagingRedshift(wh, stagingEvents, { into: { rows: 'staging_events', rejects: 'etl_rejects' }, source, files, format: 'ndjson' }, { copy: { logJsonPaths }, loadErrors: 'stl' });
 */
export async function loadStagingRedshift(db: RedshiftSql, table: Table, input: StagingInput, options: RedshiftStagingOptions): Promise<StagingLoadResult> {
  // The pipeline asks before it locks; this guards callers of the library that did not.
  const issues = redshiftSourceIssues(table, input.source, options.copy);
  if (issues.length > 0) throw new ConfigError(issues);
  const d = db.dialect;
  const from = copyLocation(input.source.uri);
  const jsonPaths = table === stagingEvents ? options.copy.logJsonPaths : undefined;
  const json = jsonOption(table, jsonPaths);
  const maxError = maxErrorFor(input.maxRejects);
  const land = landingTableName(table);
  const iamRoleArn = options.copy.iamRoleArn;
  // COPY's GZIP applies to every file it reads: all gzipped, or none.
  const gzipped = input.files.filter((f) => f.key.endsWith('.gz')).length;
  if (gzipped > 0 && gzipped < input.files.length) {
    throw new SparkifyError('LOAD_FAILED', `${from} holds ${gzipped} gzipped and ${input.files.length - gzipped} plain files; Redshift's COPY reads one kind at a time.`, {
      hint: 'Keep gzipped and plain files under different prefixes (or gzip them all). No table was changed.',
    });
  }

  await db.execute(`DROP TABLE IF EXISTS ${land}`);
  await db.execute(createLandingSql(table, d));
  const copy = copySql({ table, from, iamRoleArn, region: input.source.region || options.copy.region, json, maxError, gzip: gzipped > 0 }, d);
  try {
    await db.execute(copy);
  } catch (err) {
    throw classifyCopyError(err, { table, from, iamRoleArn, jsonPaths, maxRejects: input.maxRejects, maxError, loadErrors: options.loadErrors });
  }

  const copyRejects = loadErrorRejects(await db.query<LoadErrorRow>(loadErrorsSql(options.loadErrors)), table, from);
  for (const sql of insertRejectsSql(copyRejects, d, undefined, input.into.rejects)) await db.execute(sql);
  const rowRejects = insertRowRejectsSql(table, from, d, input.into.rejects);
  if (rowRejects) await db.execute(rowRejects);
  await db.execute(insertStagingSql(table, d, input.into.rows));
  const [counts] = await db.query<{ total: number; bad: number }>(landingCountsSql(table, d));
  await db.execute(`DROP TABLE ${land}`);

  const total = Number(counts?.total ?? 0);
  const bad = Number(counts?.bad ?? 0);
  const bytes = input.files.reduce((n, f) => n + f.size, 0);
  input.onProgress?.({ records: total + copyRejects.length, bytes, files: input.files.length });
  return { rows: total - bad, rejected: copyRejects.length + bad, bytes };
}
