import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { CheckResult } from '../analytics/checks.js';
import type { QueryResult } from '../analytics/query.js';
import { plural, SparkifyError } from '../errors.js';
import type { SqlValue } from '../warehouses/warehouse.js';
import { printable, type CommandOutput } from './output.js';

/**
 * How the analytics team's commands print: query results as a terminal table,
 * JSON or CSV; checks as one line each, or the JSON envelope. Only the CLI
 * prints.
 */

export type QueryFormat = 'table' | 'json' | 'csv';

/** A query's rows: a table for a person, JSON or CSV (RFC 4180, a header row) for a script. */
export function printQuery(out: CommandOutput, result: QueryResult, format: QueryFormat): void {
  const { io } = out;
  if (out.json || format === 'json') {
    if (out.json) out.succeed({ columns: result.columns, rows: result.rows, seconds: result.seconds });
    else io.stdout.write(`${JSON.stringify(result.rows, jsonValue, 2)}\n`);
    return;
  }
  if (format === 'csv') {
    io.stdout.write(stringify([result.columns, ...result.rows.map((r) => result.columns.map((c) => cell(r[c])))]));
    return;
  }
  if (result.columns.length === 0) {
    io.stdout.write('(no rows)\n');
    return;
  }
  const table = new Table({ head: result.columns, style: { head: [], border: [], compact: true } });
  for (const r of result.rows) table.push(result.columns.map((c) => printable(cell(r[c]))));
  io.stdout.write(`${table.toString()}\n`);
  if (!out.flags.quiet) out.line(`${plural(result.rows.length, 'row')} in ${result.seconds.toFixed(2)} s`);
}

/** A value as text: NULL shown as empty in CSV and tables, big integers in full. */
function cell(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'bigint' ? v.toString() : String(v);
}

function jsonValue(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

const MARKS = { pass: '✓', fail: '✗', error: '!' } as const;

/**
 * Check results: a line each (a warning that failed is marked ⚠), what broke
 * it, and a summary; or the envelope. Returns the exit code: 1 when an
 * error-severity check failed or could not run.
 */
export function printChecks(out: CommandOutput, results: readonly CheckResult[]): number {
  const failed = results.filter((r) => r.severity === 'error' && r.status !== 'pass');
  if (out.json) {
    const result = { checks: results };
    if (failed.length === 0) {
      out.succeed(result);
      return 0;
    }
    return out.fail(checksError(failed, results.length), result);
  }
  const { io, flags } = out;
  for (const r of results) {
    if (flags.quiet && r.status === 'pass') continue;
    const mark = r.status === 'fail' && r.severity === 'warn' ? '⚠' : MARKS[r.status];
    io.stdout.write(`${mark} ${r.name}${r.status === 'pass' ? '' : `  ${printable(detail(r))}`}\n`);
  }
  if (!flags.quiet) {
    const warned = results.filter((r) => r.severity === 'warn' && r.status !== 'pass').length;
    const passed = results.filter((r) => r.status === 'pass').length;
    io.stdout.write(`\n${passed} passed, ${failed.length} failed, ${plural(warned, 'warning')}.\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

/** The error a load with --check fails with, or `sparkify check` in JSON. */
export function checksError(failed: readonly CheckResult[], total: number): SparkifyError {
  return new SparkifyError('CHECK_FAILED', `${plural(failed.length, 'check')} of ${total} failed: ${failed.map((c) => c.name).join('; ')}.`, {
    hint: 'Each check lists the rows that break it: `sparkify check` prints them; the tables were loaded all the same.',
  });
}

function detail(r: CheckResult): string {
  if (r.status === 'error') return `could not run: ${r.error ?? 'unknown error'}`;
  const rows = r.sample.map((row) => Object.entries(row).map(([k, v]) => `${k}=${cell(v)}`).join(' ')).join('; ');
  return `${r.more ? `more than ${r.failing - 1}` : r.failing} ${r.failing === 1 ? 'row' : 'rows'}: ${rows}`;
}
