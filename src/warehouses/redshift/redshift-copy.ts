import { REASON_VALUE_LIMIT } from '../../schema/coerce.js';
import type { SqlDialect } from '../../schema/dialect.js';
import type { Column, Table } from '../../schema/tables.js';
import { isJsonName } from '../../sources/source.js';

/**
 * The SQL of a Redshift staging load, as pure functions of the table data:
 * where COPY reads, how it maps JSON to columns, the landing table it fills,
 * and the checks COPY cannot make, applied afterwards in SQL.
 *
 * COPY writes into a temporary landing table shaped like the staging table,
 * except that a number field the source writes as a JSON string (Sparkify's
 * `userId`, `""` for a logged-out user) lands as VARCHAR. An INSERT … SELECT
 * then applies the shared coercion rules to those fields (`""` → NULL, digits
 * → integer, anything else rejected) and to required fields, in the same
 * transaction as the COPY.
 */

/** Redshift's ceiling for COPY's MAXERROR. */
export const REDSHIFT_MAX_ERROR = 100_000;
/** Landing VARCHAR for a number field written as a JSON string; longer values are load errors. */
export const LANDING_NUMBER_TEXT_BYTES = 256;

const INTEGER_RANGE = { integer: ['-2147483648', '2147483647', 10], bigint: ['-9007199254740991', '9007199254740991', 16] } as const;
/** `NUMBER_TEXT` of coerce.ts without backslashes (`[.]`), which Redshift literals would treat as escapes. */
const NUMBER_TEXT_REGEX = '^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?$';

/**
 * COPY's `FROM` for a source URI (checked beforehand by `copyLocationIssues`):
 * the folder as a prefix with a trailing `/`, so `song_data` never matches
 * `song_data_old/`, or the one object.
 *
 * @example
 *   copyLocation('s3://udacity-dend/log_data'); // 's3://udacity-dend/log_data/'
 */
export function copyLocation(uri: string): string {
  const trimmed = uri.replace(/\/+$/, '');
  if (/^s3:\/\/[^/]+$/.test(trimmed)) return `${trimmed}/`;
  return isJsonName(trimmed) ? trimmed : `${trimmed}/`;
}

/**
 * COPY's JSON option. A JSONPaths file when given (one path per column, in
 * table order, like the course's `log_json_path.json`); otherwise `'auto'`,
 * which matches keys to column names case-sensitively, and Redshift folds
 * column names to lower case. So a table with camelCase fields (`userId`)
 * needs `'auto ignorecase'`, or six event columns would silently load NULL.
 */
export function jsonOption(table: Table, jsonPaths: string | undefined): string {
  if (jsonPaths !== undefined && jsonPaths !== '') return jsonPaths;
  return table.columns.every((c) => c.name === c.name.toLowerCase()) ? 'auto' : 'auto ignorecase';
}

/**
 * COPY's MAXERROR for the pipeline's reject limit. COPY fails once errors reach
 * MAXERROR, so allowing n rejects takes n + 1; without a limit, Redshift's
 * ceiling (a COPY never tolerates more than 99,999 bad records).
 */
export function maxErrorFor(maxRejects: number | undefined): number {
  if (maxRejects === undefined || !Number.isFinite(maxRejects)) return REDSHIFT_MAX_ERROR;
  return Math.min(Math.max(0, Math.floor(maxRejects)) + 1, REDSHIFT_MAX_ERROR);
}

/** A number column that the source writes as a JSON string: it lands as text and is converted in SQL. */
function landsAsText(c: Column): boolean {
  return c.json === 'string' && c.type !== 'text' && c.type !== 'timestamp';
}

/** The landing table: the staging table's columns, number-as-string fields as VARCHAR. */
export function landingTable(table: Table): Table {
  return {
    name: table.name,
    role: 'staging',
    columns: table.columns.map((c) =>
      landsAsText(c) ? { name: c.name, type: 'text', maxBytes: LANDING_NUMBER_TEXT_BYTES } : { name: c.name, type: c.type, maxBytes: c.maxBytes },
    ),
  };
}

export function landingTableName(table: Table): string {
  return `_sparkify_copy_${table.name}`;
}

export function createLandingSql(table: Table, d: SqlDialect): string {
  const land = landingTable(table);
  const cols = land.columns.map((c) => `${d.columnName(c.name)} ${d.typeName(c.type, c)}`).join(', ');
  return `CREATE TEMP TABLE ${landingTableName(table)} (${cols})`;
}

export interface CopyStatement {
  table: Table;
  from: string;
  /** `undefined`: the cluster's default IAM role (`IAM_ROLE default`). */
  iamRoleArn?: string;
  /** The bucket's region; omitted, Redshift assumes the cluster's. */
  region?: string;
  json: string;
  maxError: number;
  /** The files are gzipped (`*.json.gz`). */
  gzip?: boolean;
}

/**
 * `COPY <landing> (cols) FROM 's3://…' IAM_ROLE … FORMAT AS JSON … MAXERROR n`.
 * Compression analysis and statistics are skipped: the landing table lives
 * for one load. TIMEFORMAT 'epochmillisecs' only where a column is a
 * TIMESTAMP; staging keeps `ts` as BIGINT milliseconds, converted in the transform.
 */
export function copySql(c: CopyStatement, d: SqlDialect): string {
  const q = d.quoteString;
  const land = landingTable(c.table);
  const lines = [
    `COPY ${landingTableName(c.table)} (${land.columns.map((col) => d.columnName(col.name)).join(', ')})`,
    `FROM ${q(c.from)}`,
    `IAM_ROLE ${c.iamRoleArn ? q(c.iamRoleArn) : 'default'}`,
  ];
  if (c.region) lines.push(`REGION ${q(c.region)}`);
  lines.push(`FORMAT AS JSON ${q(c.json)}`);
  if (c.gzip) lines.push('GZIP');
  if (land.columns.some((col) => col.type === 'timestamp')) lines.push(`TIMEFORMAT 'epochmillisecs'`);
  lines.push(`MAXERROR ${c.maxError}`, 'COMPUPDATE OFF', 'STATUPDATE OFF');
  return lines.join('\n');
}

/** The shared coercion rule for a number written as text, as a SQL condition that the text `v` passes. */
function numberTextOk(c: Column, v: string): string {
  if (c.type === 'double') return `${v} ~ '${NUMBER_TEXT_REGEX}'`;
  const [lo, hi, digits] = INTEGER_RANGE[c.type === 'bigint' ? 'bigint' : 'integer'];
  // Nested CASE: the CAST runs only on text that is digits, whatever order the planner picks.
  return `(CASE WHEN ${v} ~ '^-?[0-9]{1,${digits}}$' THEN CAST(${v} AS BIGINT) BETWEEN ${lo} AND ${hi} ELSE FALSE END)`;
}

/** The value a landing column contributes to the staging row. */
function convertedValue(c: Column, d: SqlDialect): string {
  const v = d.columnName(c.name);
  if (!landsAsText(c)) return v;
  const target = c.type === 'double' ? 'DOUBLE PRECISION' : c.type === 'bigint' ? 'BIGINT' : 'INTEGER';
  const via = c.type === 'double' ? v : `CAST(${v} AS BIGINT)`;
  return `CASE WHEN ${numberTextOk(c, v)} THEN CAST(${via} AS ${target}) END`;
}

/**
 * A SQL expression naming why a landed row is rejected, NULL when it is good:
 * the first failing rule (the other warehouses list every failing field).
 */
export function rowRejectReasonSql(table: Table, d: SqlDialect): string | undefined {
  const q = d.quoteString;
  const checks: string[] = [];
  for (const c of table.columns) {
    const v = d.columnName(c.name);
    if (landsAsText(c)) {
      const label = c.type === 'double' ? 'number' : 'integer';
      const bad = `${q(`${c.name}: expected ${label}, got "`)} || LEFT(${v}, ${REASON_VALUE_LIMIT}) || '"'`;
      checks.push(`CASE WHEN ${v} IS NULL OR ${v} = '' THEN NULL WHEN NOT ${numberTextOk(c, v)} THEN ${bad} END`);
    }
    if (c.required) {
      const missing = landsAsText(c) ? `${v} IS NULL OR ${v} = ''` : `${v} IS NULL`;
      checks.push(`CASE WHEN ${missing} THEN ${q(`${c.name}: required field is missing`)} END`);
    }
  }
  if (checks.length === 0) return undefined;
  return checks.length === 1 ? checks[0] : `COALESCE(${checks.join(',\n  ')})`;
}

/**
 * Good landed rows into the staging table (or the run's copy of it, `into`);
 * with `fileId`, each row says it came from that file (a COPY of one file).
 */
export function insertStagingSql(table: Table, d: SqlDialect, into: string = table.name, fileId?: number): string {
  const reason = rowRejectReasonSql(table, d);
  const traced = fileId !== undefined && table.traced;
  const cols = [...table.columns.map((c) => d.columnName(c.name)), ...(traced ? ['file_id'] : [])].join(', ');
  const values = [...table.columns.map((c) => convertedValue(c, d)), ...(traced ? [String(Math.trunc(fileId))] : [])].join(',\n  ');
  return `INSERT INTO ${into} (${cols})\nSELECT ${values}\nFROM ${landingTableName(table)}${reason ? `\nWHERE (${reason}) IS NULL` : ''}`;
}

/**
 * Landed rows that break a rule into etl_rejects. COPY does not say which file
 * and line a loaded row came from, so `source` is the COPY location and `line`
 * is NULL.
 */
export function insertRowRejectsSql(table: Table, from: string, d: SqlDialect, into = 'etl_rejects'): string | undefined {
  const reason = rowRejectReasonSql(table, d);
  if (!reason) return undefined;
  const q = d.quoteString;
  return `INSERT INTO ${into} (target_table, source, line, reason, ${d.columnName('raw')})
SELECT ${q(table.name)}, ${q(from)}, CAST(NULL AS BIGINT), reason, CAST(NULL AS VARCHAR(1))
FROM (SELECT ${reason} AS reason FROM ${landingTableName(table)}) r
WHERE reason IS NOT NULL`;
}

/** How many rows landed, and how many of them break a rule. */
export function landingCountsSql(table: Table, d: SqlDialect): string {
  const reason = rowRejectReasonSql(table, d);
  const bad = reason ? `COALESCE(SUM(CASE WHEN (${reason}) IS NULL THEN 0 ELSE 1 END), 0)` : '0';
  return `SELECT COUNT(*) AS total, ${bad} AS bad FROM ${landingTableName(table)}`;
}
