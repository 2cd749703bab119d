import {
  INTEGER_TEXT_SQL,
  NUMBER_TEXT_SQL,
  REASON_VALUE_LIMIT,
  badValueReason,
  missingReason,
  nulReason,
} from '../schema/coerce.js';
import { REJECT_RAW_LIMIT, type Column, type Table } from '../schema/tables.js';
import { baseDialect } from './warehouse.js';

/**
 * The coercion rules of `schema/coerce.ts`, as DuckDB SQL over raw records, so
 * that DuckDB's C++ JSON parser does the parsing and typing. `raw` is a table
 * `(file INTEGER, line BIGINT, raw VARCHAR)`; `files` maps `file` to its uri.
 * Returns the statements that fill the staging table and etl_rejects.
 */
export function duckdbStagingSql(table: Table, raw: string, files: string): { typed: string; insert: string; rejects: string } {
  const q = baseDialect.quoteString;
  const paths = table.columns.map((c) => q(`$."${c.name}"`)).join(', ');
  const fields = table.columns.map((c, i) => `j[${i + 1}] AS x${i}`).join(', ');
  const values = table.columns.map((c, i) => `${valueSql(c, `x${i}`)} AS v${i}`).join(',\n      ');
  const problems = table.columns.map((c, i) => problemSql(c, `x${i}`, `v${i}`)).join(',\n        ');
  const typed = `
CREATE OR REPLACE TEMP TABLE _typed AS
WITH parsed AS (
  SELECT file, line, raw, json_valid(raw) AS valid,
         CASE WHEN json_valid(raw) AND json_type(raw) = 'OBJECT' THEN json_extract(raw, [${paths}]) END AS j
  FROM ${raw}
), fields AS (
  SELECT file, line, raw, valid, j IS NOT NULL AS object, ${fields} FROM parsed
), typed AS (
  SELECT file, line, raw, valid, object, ${table.columns.map((_, i) => `x${i}`).join(', ')},
      ${values}
  FROM fields
)
SELECT file, line, raw,
       CASE WHEN NOT valid THEN 'invalid JSON'
            WHEN NOT object THEN 'not a JSON object'
            ELSE NULLIF(concat_ws('; ',
        ${problems}), '') END AS reason,
       ${table.columns.map((_, i) => `v${i}`).join(', ')}
FROM typed`;
  const cols = table.columns.map((c) => c.name).join(', ');
  const insert = `INSERT INTO ${table.name} (${cols}) SELECT ${table.columns.map((_, i) => `v${i}`).join(', ')} FROM _typed WHERE reason IS NULL ORDER BY file, line`;
  const rejects = `INSERT INTO etl_rejects (target_table, source, line, reason, raw)
SELECT ${q(table.name)}, f.uri, t.line, t.reason, replace(left(t.raw, ${REJECT_RAW_LIMIT}), chr(0), chr(65533))
FROM _typed t JOIN ${files} f USING (file) WHERE t.reason IS NOT NULL ORDER BY t.file, t.line`;
  return { typed, insert, rejects };
}

/** 2^53 − 1: the largest integer a JSON parser (and the JS rules) keep exactly. */
const SAFE = '9007199254740991';

function valueSql(c: Column, x: string): string {
  const s = `(${x} ->> '$')`;
  const d = `CAST(${x} AS DOUBLE)`;
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
        WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match(${s}, '${NUMBER_TEXT_SQL}') THEN TRY_CAST(${s} AS DOUBLE) END
      END) + CAST(0 AS DOUBLE)`;
    case 'timestamp':
      throw new Error('staging columns are never timestamps');
  }
}

/** A reason when the value is present but could not be coerced, or is required and missing. */
function problemSql(c: Column, x: string, v: string): string {
  const q = baseDialect.quoteString;
  const prefix = badValueReason(c, '');
  const present = `${x} IS NOT NULL AND json_type(${x}) <> 'NULL' AND NOT (json_type(${x}) = 'VARCHAR' AND (${x} ->> '$') = '')`;
  const nul = c.type === 'text' ? `WHEN json_type(${x}) = 'VARCHAR' AND contains(${x} ->> '$', chr(0)) THEN ${q(nulReason(c))} ` : '';
  const bad = `CASE ${nul}WHEN ${v} IS NULL AND ${present} THEN ${q(prefix)} || left(CAST(${x} AS VARCHAR), ${REASON_VALUE_LIMIT})`;
  return c.required ? `${bad} WHEN ${v} IS NULL THEN ${q(missingReason(c))} END` : `${bad} END`;
}
