import { SparkifyError } from '../errors.js';
import type { Row, Warehouse } from '../warehouses/warehouse.js';

/**
 * One question to the warehouse, from the analytics team: a single statement,
 * read-only unless the caller allows writing. Read-only is enforced twice: the
 * statement must be a query (SELECT, WITH, VALUES, TABLE, SHOW, DESCRIBE,
 * EXPLAIN, SUMMARIZE), and where the warehouse can enforce it, it does: the
 * CLI opens DuckDB files READ_ONLY, and PostgreSQL runs it in a READ ONLY
 * transaction (so a function with side effects cannot write either). On
 * Redshift the first check is the only one: over the Data API a transaction is
 * one batch, which cannot return a query's rows.
 */

export interface QueryOptions {
  /** Allow statements that change the warehouse (DDL, DML). Default false. */
  write?: boolean;
}

export interface QueryResult {
  columns: string[];
  rows: Row[];
  seconds: number;
}

const READING = /^(select|with|values|table|show|describe|explain|summarize|from)\b/i;

/**
 * @example
 *   const { columns, rows } = await runQuery(wh, 'SELECT level, COUNT(*) AS plays FROM songplays GROUP BY level');
 */
export async function runQuery(wh: Warehouse, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  const statement = oneStatement(sql);
  const started = performance.now();
  let rows: Row[];
  if (options.write) rows = await wh.query(statement);
  else {
    const verb = /^\s*(\w+)/.exec(statement)?.[1] ?? '';
    if (!READING.test(statement)) {
      throw new SparkifyError('QUERY_REFUSED', `"${verb.toUpperCase()} …" would change the warehouse, and queries are read-only.`, {
        hint: 'Pass --write to run statements that change tables (not on a DuckDB file another process is loading).',
      });
    }
    rows = wh.kind === 'postgres' ? await readOnly(wh, statement) : await wh.query(statement);
  }
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  return { columns, rows, seconds: Math.round(performance.now() - started) / 1000 };
}

/** PostgreSQL: in a READ ONLY transaction. */
async function readOnly(wh: Warehouse, statement: string): Promise<Row[]> {
  await wh.execute('BEGIN READ ONLY');
  try {
    return await wh.query(statement);
  } finally {
    await wh.execute('ROLLBACK').catch(() => undefined);
  }
}

/**
 * The one statement of `sql`, comments and a final semicolon removed; more than
 * one is refused (which one's result would be shown?).
 */
export function oneStatement(sql: string): string {
  const parts = splitTopLevel(stripComments(sql)).map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new SparkifyError('QUERY_REFUSED', 'There is no SQL to run.', { hint: 'Give a query: sparkify query "SELECT …", --file q.sql, or on stdin.' });
  if (parts.length > 1) {
    throw new SparkifyError('QUERY_REFUSED', `The SQL holds ${parts.length} statements; a query runs one.`, { hint: 'Run them one at a time, or join them with WITH … SELECT.' });
  }
  return parts[0]!;
}

/** Removes `-- …` and `/* … *\/` comments outside string literals and quoted names. */
function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = closing(sql, i, c);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
      out += ' ';
    } else out += c;
  }
  return out;
}

/** Splits at semicolons outside literals and quoted names. */
function splitTopLevel(sql: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') i = closing(sql, i, c);
    else if (c === ';') {
      parts.push(sql.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(sql.slice(from));
  return parts;
}

/** The index of the quote closing the literal opened at `start` (a doubled quote is part of it). */
function closing(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] !== quote) continue;
    if (sql[i + 1] === quote) i++;
    else return i;
  }
  return sql.length - 1;
}
