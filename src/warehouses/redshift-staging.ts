import type { Table } from '../schema/tables.js';
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
  sourceRegion,
} from './redshift-copy.js';
import { classifyCopyError, insertRejectsSql, loadErrorRejects, loadErrorsSql, type LoadErrorRow, type LoadErrorTable } from './redshift-load-errors.js';
import type { StagingInput, StagingLoadResult, Warehouse } from './warehouse.js';

/** What the Redshift staging load needs of a warehouse: one session running SQL. */
export type RedshiftSql = Pick<Warehouse, 'execute' | 'query' | 'dialect'>;

export interface RedshiftStagingOptions {
  /** The role COPY assumes to read S3; `undefined` is the cluster's default IAM role. */
  iamRoleArn?: string;
  /** The bucket's region when the source does not know it. */
  region?: string;
  /** Where load errors are read back: STL_LOAD_ERRORS (provisioned) or SYS_LOAD_ERROR_DETAIL (Serverless). */
  loadErrors: LoadErrorTable;
}

/**
 * Loads a staging table with Redshift's own COPY from S3, inside the caller's
 * transaction: COPY into a temporary landing table (bad records skipped up to
 * MAXERROR and read back from the system table into etl_rejects with file,
 * line and reason), then the rules COPY cannot apply (numbers written as
 * strings, required fields) in one INSERT … SELECT, their rejects alongside.
 * Nothing passes through this machine but SQL.
 *
 * @example
 *   await wh.transaction(() => loadStagingRedshift(wh, stagingEvents, { source, files, format: 'ndjson', jsonPaths }, { loadErrors: 'stl' }));
 */
export async function loadStagingRedshift(db: RedshiftSql, table: Table, input: StagingInput, options: RedshiftStagingOptions): Promise<StagingLoadResult> {
  const d = db.dialect;
  const from = copyLocation(input.source);
  const json = jsonOption(table, input.jsonPaths, from);
  const maxError = maxErrorFor(input.maxRejects);
  const land = landingTableName(table);

  await db.execute(`DROP TABLE IF EXISTS ${land}`);
  await db.execute(createLandingSql(table, d));
  const copy = copySql({ table, from, iamRoleArn: options.iamRoleArn, region: sourceRegion(input.source) ?? options.region, json, maxError }, d);
  try {
    await db.execute(copy);
  } catch (err) {
    throw classifyCopyError(err, {
      table,
      from,
      iamRoleArn: options.iamRoleArn,
      jsonPaths: input.jsonPaths,
      maxRejects: input.maxRejects,
      maxError,
      loadErrors: options.loadErrors,
    });
  }

  const copyRejects = loadErrorRejects(await db.query<LoadErrorRow>(loadErrorsSql(options.loadErrors)), table, from);
  for (const sql of insertRejectsSql(copyRejects, d)) await db.execute(sql);
  const rowRejects = insertRowRejectsSql(table, from, d);
  if (rowRejects) await db.execute(rowRejects);
  await db.execute(insertStagingSql(table, d));
  const [counts] = await db.query<{ total: number; bad: number }>(landingCountsSql(table, d));
  await db.execute(`DROP TABLE ${land}`);

  const total = Number(counts?.total ?? 0);
  const bad = Number(counts?.bad ?? 0);
  const bytes = input.files.reduce((n, f) => n + f.size, 0);
  input.onProgress?.({ records: total + copyRejects.length, bytes, files: input.files.length });
  return { rows: total - bad, rejected: copyRejects.length + bad, bytes };
}
