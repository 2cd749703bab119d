import {
  INTEGER_TEXT_SQL,
  NUMBER_TEXT_SQL,
  REASON_VALUE_LIMIT,
  badValueReason,
  missingReason,
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
SELECT ${q(table.name)}, f.uri, t.line, t.reason, left(t.raw, ${REJECT_RAW_LIMIT})
FROM _typed t JOIN ${files} f USING (file) WHERE t.reason IS NOT NULL ORDER BY t.file, t.line`;
  return { typed, insert, rejects };
}

function valueSql(c: Column, x: string): string {
  const s = `(${x} ->> '$')`;
  const d = `CAST(${x} AS DOUBLE)`;
  switch (c.type) {
    case 'text':
      return `CASE json_type(${x})
        WHEN 'VARCHAR' THEN ${s} WHEN 'BOOLEAN' THEN ${s} WHEN 'BIGINT' THEN ${s} WHEN 'UBIGINT' THEN ${s}
        WHEN 'DOUBLE' THEN CASE WHEN ${d} = trunc(${d}) AND abs(${d}) < 1e15 THEN CAST(CAST(${d} AS BIGINT) AS VARCHAR) ELSE CAST(${d} AS VARCHAR) END
      END`;
    case 'integer':
    case 'bigint': {
      const t = c.type === 'integer' ? 'INTEGER' : 'BIGINT';
      return `CASE json_type(${x})
        WHEN 'BIGINT' THEN TRY_CAST(${x} AS ${t}) WHEN 'UBIGINT' THEN TRY_CAST(${x} AS ${t})
        WHEN 'DOUBLE' THEN CASE WHEN ${d} = trunc(${d}) AND abs(${d}) <= 9007199254740991 THEN TRY_CAST(${d} AS ${t}) END
        WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match(${s}, '${INTEGER_TEXT_SQL}') THEN TRY_CAST(${s} AS ${t}) END
      END`;
    }
    case 'double':
      return `CASE json_type(${x})
        WHEN 'BIGINT' THEN ${d} WHEN 'UBIGINT' THEN ${d} WHEN 'DOUBLE' THEN ${d}
        WHEN 'VARCHAR' THEN CASE WHEN regexp_full_match(${s}, '${NUMBER_TEXT_SQL}') THEN CAST(${s} AS DOUBLE) END
      END`;
    case 'timestamp':
      throw new Error('staging columns are never timestamps');
  }
}

/** A reason when the value is present but could not be coerced, or is required and missing. */
function problemSql(c: Column, x: string, v: string): string {
  const q = baseDialect.quoteString;
  const prefix = badValueReason(c, '');
  const present = `${x} IS NOT NULL AND json_type(${x}) <> 'NULL' AND NOT (json_type(${x}) = 'VARCHAR' AND (${x} ->> '$') = '')`;
  const bad = `CASE WHEN ${v} IS NULL AND ${present} THEN ${q(prefix)} || left(CAST(${x} AS VARCHAR), ${REASON_VALUE_LIMIT})`;
  return c.required ? `${bad} WHEN ${v} IS NULL THEN ${q(missingReason(c))} END` : `${bad} END`;
}
