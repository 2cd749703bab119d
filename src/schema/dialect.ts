import type { Column, ColumnType, Table } from './tables.js';

/**
 * What differs between SQL dialects, as data and tiny functions. Defaults live
 * in `baseDialect`; a warehouse overrides only what it must (kysely's dialect
 * adapters are the model). The schema and the transforms are written once
 * against this.
 */
export interface SqlDialect {
  readonly name: string;
  /** The SQL type of a column; `column` carries per-column facts such as `maxBytes`. */
  typeName(type: ColumnType, column?: Column): string;
  /** An expression turning epoch milliseconds (BIGINT) into a UTC TIMESTAMP, keeping milliseconds. */
  epochMsToTimestamp(expr: string): string;
  /**
   * What a primary key is here, which decides when a run adds it to a table it built:
   * `none` (not declared); `index` (an index, built once after the load, its name
   * moved over with the table: RENAME CONSTRAINT); `informational` (declared for
   * the planner, not enforced: added when the table is published).
   */
  readonly primaryKeys: 'none' | 'index' | 'informational';
  /** Text after the column list of CREATE TABLE (distribution, sort keys). */
  tableAttributes(table: Table): string;
  /** A column name as written in DDL: plain, or quoted where the dialect reserves the word. */
  columnName(name: string): string;
  /** Quotes an identifier. */
  quoteIdent(name: string): string;
  /** Quotes a string literal. */
  quoteString(value: string): string;
  /**
   * Whether a load ends with `ANALYZE` of the tables it replaced, so the first
   * queries are planned on fresh statistics (PostgreSQL, Redshift); DuckDB
   * keeps its statistics as it writes.
   */
  readonly analyzeAfterLoad: boolean;
  /**
   * A pseudo-column naming each row of a table within a statement (DuckDB's
   * `rowid`), where the dialect has one: plays are then numbered over their
   * sort keys alone and joined back, instead of sorting every column along
   * (3.5 times faster on DuckDB).
   */
  readonly rowId?: string;
  /**
   * How a daily run creates the tables its new records are loaded into:
   * `temporary` (the session's own: nothing written to the database file or
   * the log, and gone with the session) or `regular`.
   */
  readonly scratchTables: 'temporary' | 'regular';
}

/**
 * ANSI SQL as DuckDB and PostgreSQL speak it.
 *
 * @example
 *   baseDialect.quoteString("Des'ree"); // 'Des''ree'
 */
export const baseDialect: SqlDialect = {
  name: 'ansi',
  typeName(type) {
    switch (type) {
      case 'text':
        return 'VARCHAR';
      case 'integer':
        return 'INTEGER';
      case 'bigint':
        return 'BIGINT';
      case 'double':
        return 'DOUBLE PRECISION';
      case 'timestamp':
        return 'TIMESTAMP';
    }
  },
  epochMsToTimestamp(expr) {
    return `(TIMESTAMP '1970-01-01 00:00:00' + (${expr}) * INTERVAL '1 millisecond')`;
  },
  primaryKeys: 'index',
  tableAttributes() {
    return '';
  },
  columnName(name) {
    return name;
  },
  quoteIdent(name) {
    return `"${name.replace(/"/g, '""')}"`;
  },
  quoteString(value) {
    return `'${value.replace(/'/g, "''")}'`;
  },
  analyzeAfterLoad: true,
  scratchTables: 'temporary',
};

/**
 * A dialect that is `baseDialect` with a few overrides.
 *
 * @example
 *   const duckdbDialect = dialect({ name: 'duckdb', primaryKeys: 'none' });
 */
export function dialect(overrides: Partial<SqlDialect> & { name: string }): SqlDialect {
  return { ...baseDialect, ...overrides };
}
