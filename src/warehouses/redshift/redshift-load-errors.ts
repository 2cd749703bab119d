import { firstLine, messageOf, SparkifyError, type ErrorCode } from '../../errors.js';
import { cutCodePoints, REASON_VALUE_LIMIT } from '../../schema/coerce.js';
import type { SqlDialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
import type { SqlValue } from '../warehouse.js';

/**
 * The records a Redshift COPY skipped (up to MAXERROR), read back from the
 * system tables and turned into etl_rejects rows; and COPY failures sorted
 * into the errors users see.
 *
 * Provisioned clusters log load errors in STL_LOAD_ERRORS (with the raw line);
 * Serverless only has SYS_LOAD_ERROR_DETAIL (no raw line). Both are keyed by
 * the COPY's query id, `pg_last_copy_id()` of the same session.
 */

export type LoadErrorTable = 'stl' | 'sys';

/** One row of the query below. */
export type LoadErrorRow = {
  file: SqlValue;
  line: SqlValue;
  column: SqlValue;
  reason: SqlValue;
  value: SqlValue;
  raw: SqlValue;
};

export interface RejectRow {
  target_table: string;
  source: string;
  line: number | null;
  reason: string;
  raw: string | null;
}

/** The last COPY's load errors, one row per skipped record. */
export function loadErrorsSql(from: LoadErrorTable): string {
  return from === 'stl'
    ? `SELECT TRIM(filename) AS file, line_number AS line, TRIM(colname) AS "column", TRIM(err_reason) AS reason,
       TRIM(raw_field_value) AS value, TRIM(raw_line) AS raw
FROM stl_load_errors WHERE query = pg_last_copy_id() ORDER BY filename, line_number`
    : `SELECT TRIM(file_name) AS file, line_number AS line, TRIM(column_name) AS "column", TRIM(error_message) AS reason,
       CAST(NULL AS VARCHAR(1)) AS value, CAST(NULL AS VARCHAR(1)) AS raw
FROM sys_load_error_detail WHERE query_id = pg_last_copy_id() ORDER BY file_name, line_number`;
}

/** etl_rejects.reason and .raw sizes in bytes (tables.ts). */
const REASON_BYTES = 4096;
const RAW_BYTES = 65535;

/**
 * Load-error rows → etl_rejects rows: the file, the line (for JSON, Redshift
 * reports the object's last line, which for NDJSON is its only line), and a
 * reason naming the column as the table spells it (`userId`, not `userid`)
 * with the value that failed. One reject per record.
 *
 * @example
 *   loadErrorRejects([{ file: 's3://b/log/a.json', line: 3, column: 'sessionid', reason: 'Invalid digit, Value \'x\'', value: 'x', raw: '{…}' }], stagingEvents, 's3://b/log/')
 *   // [{ target_table: 'staging_events', source: 's3://b/log/a.json', line: 3, reason: 'sessionId: Invalid digit, Value \'x\' (value "x")', raw: '{…}' }]
 */
export function loadErrorRejects(rows: readonly LoadErrorRow[], table: Table, from: string): RejectRow[] {
  const seen = new Set<string>();
  const out: RejectRow[] = [];
  for (const r of rows) {
    const source = text(r.file) || from;
    const n = r.line === null ? Number.NaN : Number(r.line);
    const line = Number.isSafeInteger(n) && n > 0 ? n : null;
    const key = `${source}\n${line ?? `#${out.length}`}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const column = text(r.column);
    const name = column ? (table.columns.find((c) => c.name.toLowerCase() === column.toLowerCase())?.name ?? column) : '';
    const why = text(r.reason) || 'rejected by COPY';
    const value = text(r.value);
    const reason = `${name ? `${name}: ` : ''}${why}${value ? ` (value "${cutCodePoints(value, REASON_VALUE_LIMIT)}")` : ''}`;
    const raw = text(r.raw);
    out.push({ target_table: table.name, source, line, reason: cutBytes(reason, REASON_BYTES), raw: raw ? cutBytes(raw, RAW_BYTES) : null });
  }
  return out;
}

/**
 * `INSERT INTO etl_rejects … VALUES …` in statements of at most `maxChars`
 * (the Data API takes at most 100 KB of SQL per statement).
 */
export function insertRejectsSql(rows: readonly RejectRow[], d: SqlDialect, maxChars = 60_000, into = 'etl_rejects'): string[] {
  const q = d.quoteString;
  const head = `INSERT INTO ${into} (target_table, source, line, reason, ${d.columnName('raw')}) VALUES\n`;
  const statements: string[] = [];
  let values: string[] = [];
  let size = head.length;
  for (const r of rows) {
    const v = `(${q(r.target_table)}, ${q(r.source)}, ${r.line ?? 'NULL'}, ${q(r.reason)}, ${r.raw === null ? 'NULL' : q(r.raw)})`;
    if (values.length > 0 && size + v.length + 2 > maxChars) {
      statements.push(head + values.join(',\n'));
      values = [];
      size = head.length;
    }
    values.push(v);
    size += v.length + 2;
  }
  if (values.length > 0) statements.push(head + values.join(',\n'));
  return statements;
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
    const limit = c.maxRejects === undefined ? `Redshift's ceiling of ${c.maxError - 1}` : `the limit of ${c.maxRejects}`;
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

function text(v: SqlValue | undefined): string {
  return v === null || v === undefined ? '' : String(v).trim();
}

/** The longest prefix of `s` (whole code points) that fits in `n` bytes of UTF-8. */
export function cutBytes(s: string, n: number): string {
  if (Buffer.byteLength(s, 'utf8') <= n) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > n) break;
    out += ch;
    bytes += b;
  }
  return out;
}
