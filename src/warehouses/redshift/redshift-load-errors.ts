import { firstLine, messageOf, num, plural, SparkifyError, type ErrorCode } from '../../errors.js';
import { REASON_VALUE_LIMIT } from '../../schema/coerce.js';
import type { SqlDialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
import type { SqlValue } from '../warehouse.js';

/**
 * The records a Redshift COPY skipped (up to MAXERROR), moved from the system
 * view into etl_rejects inside the warehouse (one INSERT … SELECT: nothing
 * passes through this machine, so no statement or result limit of the Data API
 * applies); Redshift's own account of the COPY, against which the load
 * reconciles; and COPY failures sorted into the errors users see.
 *
 * Provisioned clusters log load errors in STL_LOAD_ERRORS (with the raw line),
 * keyed by `query` = `pg_last_copy_id()`, as PG_LAST_COPY_ID's documentation
 * says. Serverless only has SYS_LOAD_ERROR_DETAIL (no raw line), keyed by
 * `query_id`. SYS_LOAD_HISTORY (both deployments) holds each COPY's
 * `loaded_rows` and `error_count`; the COPY's row is found by its query id
 * (SYS_LOAD_DETAIL's documentation filters `query_id = pg_last_copy_id()`),
 * or else as this session's latest COPY (`session_id` = `pg_backend_pid()`).
 * The errors of SYS_LOAD_ERROR_DETAIL are then read by that row's query_id.
 * If Redshift's counts and what was found differ, the load fails: a record
 * COPY skipped is never lost silently.
 */

export type LoadErrorTable = 'stl' | 'sys';

/** The columns of a deployment's load-error view. */
interface ErrorView {
  name: string;
  key: string;
  file: string;
  column: string;
  reason: string;
  /** The field's text (STL only). */
  value?: string;
  /** The record's text, its first 1,024 bytes (STL only). */
  raw?: string;
}

export const ERROR_VIEWS: Record<LoadErrorTable, ErrorView> = {
  stl: { name: 'stl_load_errors', key: 'query', file: 'filename', column: 'colname', reason: 'err_reason', value: 'raw_field_value', raw: 'raw_line' },
  sys: { name: 'sys_load_error_detail', key: 'query_id', file: 'file_name', column: 'column_name', reason: 'error_message' },
};

/** Run right after a COPY in the same session: its query id, and the session's process id. */
export const COPY_IDS_SQL = 'SELECT pg_last_copy_id() AS copy_id, pg_backend_pid() AS pid';

/** The ids a load's SQL is keyed by: integers from COPY_IDS_SQL, or placeholders in a dry run. */
export interface CopyIds {
  copyId: string;
  pid: string;
}

/** Redshift's account of the COPY: its row of SYS_LOAD_HISTORY, found by query id or as the session's latest. */
export function loadHistorySql(ids: CopyIds): string {
  return `SELECT query_id, loaded_rows, error_count, TRIM(status) AS status
FROM sys_load_history
WHERE query_id = ${ids.copyId} OR session_id = ${ids.pid}
ORDER BY CASE WHEN query_id = ${ids.copyId} THEN 0 ELSE 1 END, start_time DESC
LIMIT 1`;
}

export type LoadHistoryRow = {
  query_id: SqlValue;
  loaded_rows: SqlValue;
  error_count: SqlValue;
  status: SqlValue;
};

/**
 * The view's error rows of one COPY, each with `keep`: the first row of a
 * record (a record with several bad fields has one row each), or a row with no
 * line (an error about the file, e.g. a JSONPaths mismatch), which is its own.
 */
function errorRowsSql(view: ErrorView, errorsId: string): string {
  const line = 'line_number';
  return `SELECT e.*, CASE WHEN ${line} IS NULL OR ${line} <= 0 OR ROW_NUMBER() OVER (PARTITION BY ${view.file}, ${line} ORDER BY ${view.column}, ${view.reason}) = 1 THEN 1 ELSE 0 END AS keep
  FROM ${view.name} e WHERE ${view.key} = ${errorsId}`;
}

/**
 * The reject's reason: the column as the table spells it (`userId`, not
 * Redshift's folded `userid`), COPY's message, and the field's text where the
 * view has it, cut to REASON_VALUE_LIMIT characters. At most 127 + 512 + 260
 * characters of the view's columns: well within etl_rejects.reason.
 */
function reasonSql(view: ErrorView, table: Table, d: SqlDialect): string {
  const q = d.quoteString;
  const col = `TRIM(${view.column})`;
  const renamed = table.columns.filter((c) => c.name !== c.name.toLowerCase());
  const name = renamed.length === 0 ? col : `CASE LOWER(${col}) ${renamed.map((c) => `WHEN ${q(c.name.toLowerCase())} THEN ${q(c.name)}`).join(' ')} ELSE ${col} END`;
  const value = view.value
    ? ` || CASE WHEN COALESCE(TRIM(${view.value}), '') = '' THEN '' ELSE ' (value "' || LEFT(TRIM(${view.value}), ${REASON_VALUE_LIMIT}) || '")' END`
    : '';
  return `CASE WHEN COALESCE(${col}, '') = '' THEN '' ELSE ${name} || ': ' END || COALESCE(NULLIF(TRIM(${view.reason}), ''), 'rejected by COPY')${value}`;
}

/**
 * Moves one COPY's load errors into etl_rejects (the run's copy of it): one
 * reject per record, with its file (the COPY location when the view has none),
 * its line (for JSON, Redshift gives the object's last line, which for NDJSON
 * is its only one), the reason, and the raw line where the view keeps it.
 */
export function insertLoadErrorsSql(table: Table, from: string, errors: LoadErrorTable, errorsId: string, d: SqlDialect, into = 'etl_rejects'): string {
  const view = ERROR_VIEWS[errors];
  const q = d.quoteString;
  const raw = view.raw ? `NULLIF(TRIM(${view.raw}), '')` : 'CAST(NULL AS VARCHAR(1))';
  return `INSERT INTO ${into} (target_table, source, line, reason, ${d.columnName('raw')})
SELECT ${q(table.name)}, COALESCE(NULLIF(TRIM(${view.file}), ''), ${q(from)}), CASE WHEN line_number > 0 THEN CAST(line_number AS BIGINT) END,
       ${reasonSql(view, table, d)}, ${raw}
FROM (${errorRowsSql(view, errorsId)}) x
WHERE keep = 1`;
}

/** How many error rows the view holds for the COPY, and how many records (rejects) they make. */
export function loadErrorCountsSql(errors: LoadErrorTable, errorsId: string): string {
  return `SELECT COUNT(*) AS errors, COALESCE(SUM(keep), 0) AS rejects FROM (${errorRowsSql(ERROR_VIEWS[errors], errorsId)}) x`;
}

/**
 * The check that every record COPY read is accounted for: Redshift's
 * loaded_rows are the landed rows, and its error_count is what the error view
 * holds (counted as rows or as records). Returns the problem, or undefined.
 */
export function reconcileCopy(
  history: LoadHistoryRow | undefined,
  found: { landed: number; errors: number; rejects: number },
): string | undefined {
  if (!history) return 'Redshift has no load history for it (sys_load_history)';
  const loaded = Number(history.loaded_rows);
  const skipped = Number(history.error_count);
  if (loaded !== found.landed) return `Redshift says it loaded ${plural(loaded, 'row')}, and ${num(found.landed)} landed`;
  if (skipped !== found.errors && skipped !== found.rejects) {
    return `Redshift says it skipped ${plural(skipped, 'record')}, and its error view holds ${num(found.rejects)} (${plural(found.errors, 'error row')})`;
  }
  return undefined;
}

export interface CopyContext {
  table: Table;
  from: string;
  iamRoleArn?: string;
  jsonPaths?: string;
  maxRejects?: number;
  maxError: number;
  loadErrors: LoadErrorTable;
}

/**
 * Sorts a failed COPY: too many bad records, S3 access, a role Redshift cannot
 * assume, a missing bucket or prefix, a wrong region, an unusable JSONPaths
 * file. Anything else is returned as it came (already classified at the seam).
 */
export function classifyCopyError(err: unknown, c: CopyContext): unknown {
  const message = messageOf(err);
  if (err instanceof SparkifyError && err.code !== 'WAREHOUSE_QUERY_FAILED') return err;
  const table = c.table.name;
  const role = c.iamRoleArn ?? "the cluster's default IAM role";
  const errorsView = c.loadErrors === 'stl' ? 'stl_load_errors' : 'sys_load_error_detail';
  const sql = err instanceof SparkifyError ? err.sql : undefined;
  const make = (code: ErrorCode, text: string, hint: string) => new SparkifyError(code, text, { cause: err, hint, sql });
  if (/Load into table .* failed|Check '(stl_load_errors|sys_load_error_detail)'/i.test(message)) {
    const limit = c.maxRejects === undefined ? `Redshift's ceiling of ${num(c.maxError - 1)}` : `the limit of ${num(c.maxRejects)}`;
    return make(
      'REJECT_LIMIT_EXCEEDED',
      `COPY into ${table} from ${c.from} met more bad records than ${limit}; nothing was loaded.`,
      `See them with SELECT * FROM ${errorsView} ORDER BY ${c.loadErrors === 'stl' ? 'starttime' : 'start_time'} DESC LIMIT 20; fix the source files${c.maxRejects === undefined ? '' : ', or raise --max-rejects'}.`,
    );
  }
  if (/not authorized to assume|AssumeRole|default IAM role|no default IAM role|IAM_ROLE default/i.test(message)) {
    return make(
      'WAREHOUSE_PERMISSION_DENIED',
      `Redshift could not assume ${role} to read ${c.from}: ${firstLine(message)}`,
      'Attach the role to the cluster (Serverless: the namespace) and let redshift.amazonaws.com assume it, or set [IAM_ROLE] ARN (SPARKIFY_IAM_ROLE_ARN) to a role that is attached.',
    );
  }
  if (/jsonpath/i.test(message)) {
    return make(
      'LOAD_FAILED',
      `COPY could not use the JSONPaths file ${c.jsonPaths ?? ''} for ${table}: ${firstLine(message)}`,
      `It must be one JSON object {"jsonpaths": [...]} with one path per column of ${table}, in the table's order (the course's log_json_path.json is); or leave [S3] LOG_JSONPATH empty to map fields by name.`,
    );
  }
  if (/NoSuchBucket|bucket does not exist/i.test(message)) {
    return make('S3_BUCKET_NOT_FOUND', `Redshift found no bucket for ${c.from}: ${firstLine(message)}`, 'Check the bucket name in --songs/--logs or [S3] SONG_DATA/LOG_DATA.');
  }
  if (/PermanentRedirect|must be addressed using the specified endpoint|Status 301/i.test(message)) {
    return make(
      'S3_WRONG_REGION',
      `Redshift could not read ${c.from} from the region it asked: ${firstLine(message)}`,
      "Set the bucket's region with --region, AWS_REGION or [AWS] REGION of dwh.cfg (the course's udacity-dend bucket is in us-west-2).",
    );
  }
  if (/Access ?Denied|403|not authorized/i.test(message)) {
    return make(
      'S3_ACCESS_DENIED',
      `Redshift may not read ${c.from} with ${role}: ${firstLine(message)}`,
      'Give the role s3:GetObject and s3:ListBucket on the bucket (for the course bucket, AmazonS3ReadOnlyAccess), and make sure it is attached to the cluster.',
    );
  }
  if (/prefix .* does not exist|does not exist.*s3:\/\/|no files found|The specified S3 prefix/i.test(message)) {
    return make('SOURCE_NOT_FOUND', `Redshift found no files at ${c.from}: ${firstLine(message)}`, 'Check the location given with --songs/--logs or in [S3] SONG_DATA/LOG_DATA.');
  }
  return err;
}
