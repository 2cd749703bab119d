import {
  INTEGER_TEXT_SQL,
  NUMBER_TEXT_SQL,
  REASON_VALUE_LIMIT,
  badValueReason,
  missingReason,
  nulReason,
  outOfRangeReason,
} from '../../schema/coerce.js';
import { baseDialect } from '../../schema/dialect.js';
import { FILE_ID, REJECT_RAW_LIMIT, type Column, type Table } from '../../schema/tables.js';

export interface DuckDBStagingOptions {
  /** Off sends every record through the full rules (tests compare both paths). Default on. */
  fastPath?: boolean;
}

export interface DuckDBStagingSqlOptions extends DuckDBStagingOptions {
  /** Fill file_id from the `file_id` column of the files table (see duckdbStagingSql). Default off: file_id stays NULL. */
  fileIds?: boolean;
}

/** The tables a load appends to: a staging table (or the run's copy of it) and etl_rejects (or its copy). */
export interface StagingTargets {
  rows: string;
  rejects: string;
}

export interface DuckDBStagingSql {
  /** Run in order: they fill the staging table and etl_rejects from the raw records. */
  statements: string[];
  /** One row `{ ok, bad }`: records loaded and rejected by the statements. */
  counts: string;
  /** Drops the scratch tables. */
  cleanup: string;
}

/**
 * The coercion rules of `schema/coerce.ts`, as DuckDB SQL over raw records, so
 * that DuckDB's C++ JSON parser does the parsing and typing. `raw` is a table or
 * a parenthesised query with columns `(file INTEGER, line BIGINT, raw VARCHAR)`
 * (rows whose raw is NULL are markers, ignored); `files` maps `file` to its uri
 * (and, with the `fileIds` option, to the `file_id` its rows get). Records
 * take the fast path when they can; the rest get the full rules, which also
 * say why a record is rejected.
 */
export function duckdbStagingSql(table: Table, into: StagingTargets, raw: string, files: string, options: DuckDBStagingSqlOptions = {}): DuckDBStagingSql {
  const q = baseDialect.quoteString;
  const traced = options.fileIds ?? false;
  const cols = table.columns.map((_, i) => `v${i}`).join(', ');
  const names = table.columns.map((c) => c.name).join(', ');
  // The rows of both inserts, with their file's id when it is filled (a join to the few files of the load).
  const rows = (from: string, where: string) =>
    traced
      ? `INSERT INTO ${into.rows} (${names}, ${FILE_ID.name}) SELECT ${table.columns.map((_, i) => `t.v${i}`).join(', ')}, f.file_id FROM ${from} t JOIN ${files} f USING (file) WHERE ${where}`
      : `INSERT INTO ${into.rows} (${names}) SELECT ${cols} FROM ${from} t WHERE ${where}`;
  const fast = fastPathSql(table, raw, options.fastPath ?? true);
  const paths = table.columns.map((c) => q(`$."${c.name}"`)).join(', ');
  const fields = table.columns.map((c, i) => `j[${i + 1}] AS x${i}`).join(', ');
  const values = table.columns.map((c, i) => `${valueSql(c, `x${i}`)} AS v${i}`).join(',\n      ');
  const problems = table.columns.map((c, i) => problemSql(c, `x${i}`, `v${i}`)).join(',\n        ');
  const slow = `
CREATE OR REPLACE TEMP TABLE _slow AS
WITH parsed AS (
  SELECT file, line, raw, json_valid(raw) AND NOT ${lenientJsonSql('raw')} AS valid,
         CASE WHEN object THEN json_extract(raw, [${paths}]) END AS j,
         -- The keys with their positions, sorted by key: a key given twice sits next to itself.
         CASE WHEN object THEN list_sort(list_transform(try(json_keys(raw)), (k, i) -> struct_pack(k := k, i := i))) END AS keys
  FROM (SELECT file, line, raw, json_valid(raw) AND try(json_type(raw)) = 'OBJECT' AS object FROM _fast WHERE NOT clean AND raw IS NOT NULL) r
), fields AS (
  SELECT file, line, raw, valid, j IS NOT NULL AS object,
         -- The key whose second occurrence comes first, as firstDuplicateKey (coerce.ts) finds it; linear
         -- in the keys (a lambda that calls json_keys(raw) runs it once per key: 110 s for 20,000 keys).
         list_sort(list_transform(list_filter(keys, (x, n) -> n > 1 AND x.k = keys[n - 1].k), x -> struct_pack(i := x.i, k := x.k)))[1].k AS duplicate,
         ${fields} FROM parsed
), typed AS (
  SELECT file, line, raw, valid, object, duplicate, ${table.columns.map((_, i) => `x${i}`).join(', ')},
      ${values}
  FROM fields
)
SELECT file, line, raw,
       CASE WHEN NOT valid THEN 'invalid JSON'
            WHEN NOT object THEN 'not a JSON object'
            WHEN duplicate IS NOT NULL THEN 'duplicate key "' || left(duplicate, ${REASON_VALUE_LIMIT}) || '"'
            ELSE NULLIF(concat_ws('; ',
        ${problems}), '') END AS reason,
       ${cols}
FROM typed`;
  return {
    statements: [
      fast,
      rows('_fast', 't.clean'),
      slow,
      rows('_slow', 't.reason IS NULL'),
      `INSERT INTO ${into.rejects} (target_table, source, line, reason, raw)
SELECT ${q(table.name)}, f.uri, t.line, t.reason, replace(left(t.raw, ${REJECT_RAW_LIMIT}), chr(0), chr(65533))
FROM _slow t JOIN ${files} f USING (file) WHERE t.reason IS NOT NULL ORDER BY t.file, t.line`,
    ],
    counts: `SELECT (SELECT count(*) FROM _fast WHERE clean) + (SELECT count(*) FROM _slow WHERE reason IS NULL) AS ok,
       (SELECT count(*) FROM _slow WHERE reason IS NOT NULL) AS bad`,
    cleanup: 'DROP TABLE IF EXISTS _fast; DROP TABLE IF EXISTS _slow',
  };
}

/**
 * Each field's text (`field(c)`: JSON text of the value, as DuckDB's JSON
 * transform to VARCHAR gives it) typed by plain SQL casts, and one condition,
 * `clean`, true when that text leaves no doubt about the full rules' result:
 * for an integer column, canonical digits; for a double, a JSON number (both
 * read the same whether the source wrote a number or a string); for a text
 * column, anything but a value that might have been a number written
 * differently (`1.0`, `1e5`, `-0`, 16+ digits), an object or array, or a NUL.
 * Required fields must be there. A clean record gets exactly what the full
 * rules would give; anything else is left to them.
 *
 * @example
 *   const { values, clean } = typedFields(stagingEvents, (c) => `s.${baseDialect.quoteIdent(c.name)}`);
 */
export function typedFields(table: Table, field: (c: Column) => string): { values: string[]; clean: string } {
  const checks: string[] = [];
  const texts: string[] = [];
  const values = table.columns.map((c) => {
    const t = field(c);
    switch (c.type) {
      case 'text': {
        // Byte-wise compares of the first character (DuckDB keeps a string's first bytes inline): fine
        // when it starts below '-', with a letter, or above '{'; between '-' and '9' only when it is not
        // a number that numberText would write otherwise; '[' and '{' never.
        const numberLike = `NOT regexp_full_match(${t}, '${NUMBER_TEXT_SQL}') OR regexp_full_match(${t}, '${PLAIN_INTEGER_SQL}')`;
        // What DuckDB reads as text from NaN or Infinity written bare (a JSON string spelled so is not clean either: the full rules tell them apart).
        const nonFinite = `(${t} IN (${NON_FINITE_SPELLINGS}))`;
        checks.push(
          `(${t} IS NULL OR ((${t} < '-' OR (${t} >= ':' AND ${t} < '[') OR (${t} >= '\\' AND ${t} < '{') OR ${t} >= '|' OR (${t} < ':' AND (${numberLike}))) AND NOT ${nonFinite}))`,
        );
        texts.push(t);
        return t;
      }
      case 'integer':
      case 'bigint': {
        // Canonical digits only: the text reads back from the number it casts to (so no '1e3', ' 5', '007' or '-0').
        const sqlType = c.type === 'integer' ? 'INTEGER' : 'BIGINT';
        const inRange = c.type === 'bigint' ? ` AND abs(TRY_CAST(${t} AS BIGINT)) <= ${SAFE}` : '';
        checks.push(`(${t} IS NULL OR ${t} = '' OR (CAST(TRY_CAST(${t} AS ${sqlType}) AS VARCHAR) = ${t}${inRange}))`);
        return `TRY_CAST(NULLIF(${t}, '') AS ${sqlType})`;
      }
      case 'double':
        checks.push(`(${t} IS NULL OR ${t} = '' OR (regexp_full_match(${t}, '${NUMBER_TEXT_SQL}') AND isfinite(TRY_CAST(${t} AS DOUBLE))))`);
        return `(TRY_CAST(NULLIF(${t}, '') AS DOUBLE) + CAST(0 AS DOUBLE))`; // -0 → 0, as in the full rules
      case 'timestamp':
        throw new Error('staging columns are never timestamps');
    }
  });
  // One scan for NUL over every text field at once.
  if (texts.length > 0) checks.push(`NOT contains(concat(${texts.join(', ')}), chr(0))`);
  // Required: present, and for a number not '' (the checks above make sure its cast works).
  for (const c of table.columns) if (c.required) checks.push(c.type === 'text' ? `${field(c)} IS NOT NULL` : `(${field(c)} IS NOT NULL AND ${field(c)} <> '')`);
  return { values, clean: `COALESCE(${checks.join('\n           AND ')}, false)` };
}

/**
 * The fast path over raw records: one `json_transform` of every field to text,
 * then `typedFields`. Clean records get exactly what the full rules would
 * give; only the others pay for them.
 */
function fastPathSql(table: Table, raw: string, enabled: boolean): string {
  const q = baseDialect.quoteString;
  const struct = JSON.stringify(Object.fromEntries(table.columns.map((c) => [c.name, 'VARCHAR'])));
  const typed = typedFields(table, (c) => `s.${baseDialect.quoteIdent(c.name)}`);
  // json_transform keeps the first of duplicate keys; such a record is rejected by the full rules.
  const unique = `len(try(json_keys(raw))) = len(list_distinct(try(json_keys(raw))))`;
  const clean = enabled ? `(s IS NOT NULL AND starts_with(ltrim(raw), '{') AND ${typed.clean} AND ${unique} AND NOT ${lenientJsonSql('raw')})` : 'false';
  const values = typed.values;
  // The raw text is kept only for records that need the full rules.
  return `
CREATE OR REPLACE TEMP TABLE _fast AS
SELECT file, line, clean, CASE WHEN clean THEN NULL ELSE raw END AS raw, ${values.map((_, i) => `CASE WHEN clean THEN v${i} END AS v${i}`).join(', ')}
FROM (
  SELECT file, line, raw, ${values.map((v, i) => `${v} AS v${i}`).join(', ')},
         COALESCE(${clean}, false) AS clean
  FROM (SELECT file, line, raw, try(json_transform(raw, ${q(struct)})) AS s FROM ${raw} r) p
) t`;
}

/**
 * How a bare NaN or Infinity reads as text in DuckDB (it keeps the source's
 * spelling): the spellings writers use (Python's json writes NaN, Infinity,
 * -Infinity), in three cases, with a sign. Exact matches are cheap for every
 * value; `lower()` on every text value cost +0.6 s per 1M events.
 */
const NON_FINITE_SPELLINGS = ['nan', 'NaN', 'Nan', 'NAN', 'inf', 'Inf', 'INF', 'infinity', 'Infinity', 'INFINITY']
  .flatMap((w) => [w, `-${w}`, `+${w}`])
  .map((w) => `'${w}'`)
  .join(', ');

/**
 * True when `x` (a record's raw text) uses what DuckDB's JSON parser accepts
 * and JSON does not: a trailing comma before `]` or `}`, or NaN or Infinity
 * written bare (JSON.parse, PostgreSQL and the rules reject both). Cheap
 * filters first; the exact test skips over strings.
 */
export function lenientJsonSql(x: string): string {
  const string = `"(?:[^"\\\\]|\\\\.)*"`;
  const trailing = `,[ \\t\\n\\r]*[\\]}]`;
  const bare = `[:,\\[][ \\t\\n\\r]*[-+]?(?i:nan|inf)`;
  return `((regexp_matches(${x}, '${trailing}') OR regexp_matches(${x}, '(?i)nan|inf')) AND regexp_matches(${x}, '^(?:${string}|[^"])*?(?:${trailing}|${bare})'))`;
}

/** 2^53 − 1: the largest integer a JSON parser (and the JS rules) keep exactly. */
const SAFE = '9007199254740991';

/** Integers whose text is the same whether the source wrote a number or a string (see numberText). */
const PLAIN_INTEGER_SQL = '0|-?[1-9][0-9]{0,14}';

function valueSql(c: Column, x: string): string {
  const s = `(${x} ->> '$')`;
  // NULL for a number beyond a double's range (DuckDB makes some of them infinite): such a record is rejected (problemSql).
  const d = `(CASE WHEN isfinite(TRY_CAST(${x} AS DOUBLE)) THEN TRY_CAST(${x} AS DOUBLE) END)`;
  // Numbers in text columns as `numberText` writes them: safe integers as digits, else DuckDB's double text.
  const safeDigits = (v: string) => `CASE WHEN ${v} = trunc(${v}) AND abs(${v}) <= ${SAFE} THEN CAST(CAST(${v} AS BIGINT) AS VARCHAR) ELSE CAST(${v} AS VARCHAR) END`;
  switch (c.type) {
    case 'text':
      return `CASE json_type(${x})
        WHEN 'VARCHAR' THEN CASE WHEN NOT contains(${s}, chr(0)) THEN ${s} END WHEN 'BOOLEAN' THEN ${s}
        WHEN 'BIGINT' THEN CASE WHEN abs(TRY_CAST(${x} AS BIGINT)) <= ${SAFE} THEN ${s} ELSE CAST(${d} AS VARCHAR) END
        WHEN 'UBIGINT' THEN CASE WHEN TRY_CAST(${x} AS BIGINT) <= ${SAFE} THEN ${s} ELSE CAST(${d} AS VARCHAR) END
        WHEN 'DOUBLE' THEN ${safeDigits(d)}
      END`;
    case 'integer':
    case 'bigint': {
      const t = c.type === 'integer' ? 'INTEGER' : 'BIGINT';
      const cases = `CASE json_type(${x})
        WHEN 'BIGINT' THEN TRY_CAST(${x} AS ${t}) WHEN 'UBIGINT' THEN TRY_CAST(${x} AS ${t})
        WHEN 'DOUBLE' THEN CASE WHEN ${d} = trunc(${d}) AND abs(${d}) <= ${SAFE} THEN TRY_CAST(${d} AS ${t}) END
        WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match(${s}, '${INTEGER_TEXT_SQL}') THEN TRY_CAST(${s} AS ${t}) END
      END`;
      return t === 'INTEGER' ? cases : `CASE WHEN abs(${cases}) <= ${SAFE} THEN ${cases} END`;
    }
    case 'double':
      // + 0.0 turns -0 into 0.
      return `(CASE json_type(${x})
        WHEN 'BIGINT' THEN ${d} WHEN 'UBIGINT' THEN ${d} WHEN 'DOUBLE' THEN ${d}
        WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match(${s}, '${NUMBER_TEXT_SQL}') AND isfinite(TRY_CAST(${s} AS DOUBLE)) THEN TRY_CAST(${s} AS DOUBLE) END
      END) + CAST(0 AS DOUBLE)`;
    case 'timestamp':
      throw new Error('staging columns are never timestamps');
  }
}

/** A reason when the value is present but could not be coerced, or is required and missing. */
/** `shownValue` of coerce.ts in SQL: how a rejected JSON value `x` is shown in its reason. */
function shownSql(x: string): string {
  const d = `TRY_CAST(${x} AS DOUBLE)`;
  const number = `CASE WHEN ${d} = trunc(${d}) AND abs(${d}) < 1e21 THEN CAST(CAST(${d} AS HUGEINT) AS VARCHAR) ELSE CAST(${d} AS VARCHAR) END`;
  return `left(CASE json_type(${x}) WHEN 'ARRAY' THEN 'an array' WHEN 'OBJECT' THEN 'an object' WHEN 'VARCHAR' THEN CAST(${x} AS VARCHAR) WHEN 'BOOLEAN' THEN CAST(${x} AS VARCHAR) ELSE ${number} END, ${REASON_VALUE_LIMIT})`;
}

function problemSql(c: Column, x: string, v: string): string {
  const q = baseDialect.quoteString;
  const prefix = badValueReason(c, '');
  const present = `${x} IS NOT NULL AND json_type(${x}) <> 'NULL' AND NOT (json_type(${x}) = 'VARCHAR' AND (${x} ->> '$') = '')`;
  const nul = c.type === 'text' ? `WHEN json_type(${x}) = 'VARCHAR' AND contains(${x} ->> '$', chr(0)) THEN ${q(nulReason(c))} ` : '';
  // A JSON number a double cannot hold, or for a double column a string that spells one.
  const huge =
    `WHEN json_type(${x}) = 'DOUBLE' AND NOT COALESCE(isfinite(TRY_CAST(${x} AS DOUBLE)), false) THEN ${q(outOfRangeReason(c))} ` +
    (c.type === 'double'
      ? `WHEN json_type(${x}) = 'VARCHAR' AND regexp_full_match(${x} ->> '$', '${NUMBER_TEXT_SQL}') AND NOT COALESCE(isfinite(TRY_CAST(${x} ->> '$' AS DOUBLE)), false) THEN ${q(outOfRangeReason(c))} `
      : '');
  const bad = `CASE ${nul}${huge}WHEN ${v} IS NULL AND ${present} THEN ${q(prefix)} || ${shownSql(x)}`;
  return c.required ? `${bad} WHEN ${v} IS NULL THEN ${q(missingReason(c))} END` : `${bad} END`;
}
