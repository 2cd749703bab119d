import type { Column, ColumnType, Table } from '../schema/tables.js';
import type { Source, SourceFile } from '../sources/source.js';
import type { RecordFormat } from '../sources/records.js';

/**
 * The seam between the pipeline and a database. A warehouse is a small object:
 * its dialect (facts as data), `execute`, `query`, `transaction`,
 * `loadStaging` and `close`. Everything else (schema, transforms, checks) is
 * written once on top of it.
 */
export interface Warehouse {
  /** `duckdb`, `postgres`, `redshift`. */
  readonly kind: string;
  /** Where it is, safe to print (no password). */
  readonly description: string;
  readonly dialect: SqlDialect;
  /** Runs one or more statements that return nothing. */
  execute(sql: string): Promise<void>;
  /** Runs a query; values come back normalised (see `SqlValue`). */
  query<T extends Row = Row>(sql: string): Promise<T[]>;
  /** Runs `fn` in one transaction: all of it commits, or none of it. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Optional, called just before the load's transaction with the same input:
   * does the heavy part (reading, parsing, typing) into scratch space the
   * warehouse owns, so that `loadStaging` inside the transaction only moves
   * prepared rows. DuckDB scans data written inside an open transaction at
   * half speed, hence this.
   */
  prepareStaging?(table: Table, input: StagingInput): Promise<void>;
  /** Appends every record of `input` to the (empty) staging table, and its rejects to etl_rejects. */
  loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult>;
  /**
   * Makes sure no other sparkify run is writing to this warehouse until the
   * returned release function is called. Throws WAREHOUSE_LOCKED when it cannot.
   */
  lock(): Promise<() => Promise<void>>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Values as every warehouse returns them, so results compare across warehouses:
 * integers as `number` (or `bigint` beyond 2^53), floats as `number`,
 * timestamps as `YYYY-MM-DD HH:MM:SS.mmm` strings in UTC.
 */
export type SqlValue = string | number | bigint | boolean | null;
export type Row = Record<string, SqlValue>;

export interface StagingInput {
  source: Source;
  files: readonly SourceFile[];
  format: RecordFormat;
  /** Called as records are read, for progress. */
  onProgress?: (progress: { records: number; bytes: number; files: number }) => void;
  /** Extra options a warehouse may honour (e.g. Redshift's JSONPaths file). */
  jsonPaths?: string;
  /**
   * The pipeline's reject limit (it fails the load past it). A warehouse that
   * loads in bulk may stop early with it (Redshift's COPY MAXERROR).
   */
  maxRejects?: number;
}

export interface StagingLoadResult {
  rows: number;
  rejected: number;
  bytes: number;
}

/**
 * What differs between SQL dialects, as data and tiny functions. Defaults live in
 * `baseDialect`; a warehouse overrides only what it must.
 */
export interface SqlDialect {
  readonly name: string;
  /** The SQL type of a column; `column` carries per-column facts such as `maxBytes`. */
  typeName(type: ColumnType, column?: Column): string;
  /** An expression turning epoch milliseconds (BIGINT) into a UTC TIMESTAMP, keeping milliseconds. */
  epochMsToTimestamp(expr: string): string;
  /** Whether PRIMARY KEY constraints are declared in DDL. */
  readonly declaresPrimaryKeys: boolean;
  /** Whether the transform drops primary keys before refilling the star schema and adds them after (faster for PostgreSQL's indexes). */
  readonly rebuildsKeysAfterBulkInsert?: boolean;
  /** Text after the column list of CREATE TABLE (distribution, sort keys). */
  tableAttributes(table: Table): string;
  /** A column name as written in DDL: plain, or quoted where the dialect reserves the word. */
  columnName(name: string): string;
  /** Quotes an identifier. */
  quoteIdent(name: string): string;
  /** Quotes a string literal. */
  quoteString(value: string): string;
}

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
  declaresPrimaryKeys: true,
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
};

/** A dialect that is `baseDialect` with a few overrides. */
export function dialect(overrides: Partial<SqlDialect> & { name: string }): SqlDialect {
  return { ...baseDialect, ...overrides };
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK (whose own failure is ignored, the first error
 * wins) when anything throws. Every warehouse's `transaction` is this.
 */
export async function inTransaction<T>(run: (sql: string) => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  await run('BEGIN');
  try {
    const result = await fn();
    await run('COMMIT');
    return result;
  } catch (err) {
    await run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
