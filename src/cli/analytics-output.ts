import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { CheckResult } from '../analytics/checks.js';
import type { QueryResult } from '../analytics/query.js';
import type { Report } from '../analytics/report.js';
import { plural, SparkifyError } from '../errors.js';
import type { SqlValue } from '../warehouses/warehouse.js';
import { bigintAsText } from '../warehouses/values.js';
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
    else io.stdout.write(`${JSON.stringify(result.rows, bigintAsText, 2)}\n`);
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

/**
 * The report: each figure as a compact table under its name (the heat map as
 * a weekday × hour grid, long lists cut with a count of the rest), the match
 * rate and why; `--format csv` as one long table (figure, row, column, value);
 * JSON in the envelope.
 */
export function printReport(out: CommandOutput, report: Report, format: QueryFormat): void {
  const { io } = out;
  if (out.json || format === 'json') {
    if (out.json) out.succeed(report);
    else io.stdout.write(`${JSON.stringify(report, bigintAsText, 2)}\n`);
    return;
  }
  if (format === 'csv') {
    const rows: string[][] = [['figure', 'row', 'column', 'value']];
    for (const f of report.figures) f.rows.forEach((r, i) => f.columns.forEach((c) => rows.push([f.name, String(i + 1), c, cell(r[c])])));
    for (const [reason, n] of Object.entries(report.match)) rows.push(['match', '1', reason, String(n)]);
    io.stdout.write(stringify(rows));
    return;
  }
  const parts: string[] = [];
  const total = Object.values(report.match).reduce((a, b) => a + b, 0);
  const pct = (n: number) => `${total === 0 ? 0 : ((100 * n) / total).toFixed(n * 1000 < total ? 2 : 1)}%`;
  parts.push(
    `Plays matched to the catalogue: ${plural(report.match.matched, 'play')} of ${total.toLocaleString('en-US')} (${pct(report.match.matched)}). The others: ` +
      `${(['other duration', 'artist only', 'mis-encoded', 'not in catalogue'] as const).map((r) => `${r} ${report.match[r].toLocaleString('en-US')}`).join(', ')}.`,
  );
  for (const f of report.figures) {
    const title = `${f.name}${f.matchedOnly ? ' (matched plays only)' : ''}: ${f.description}`;
    if (f.name === 'plays by weekday and hour') {
      parts.push(title, heatMap(f.rows));
      continue;
    }
    const shown = f.rows.slice(0, 31);
    const table = new Table({ head: f.columns, style: { head: [], border: [], compact: true } });
    for (const r of shown) table.push(f.columns.map((c) => printable(cell(r[c]))));
    parts.push(title, table.toString() + (f.rows.length > shown.length ? `\n… and ${plural(f.rows.length - shown.length, 'more row')}` : ''));
  }
  io.stdout.write(`${parts.join('\n\n')}\n`);
}

/** Weekdays down, hours across, plays in each cell. */
function heatMap(rows: readonly Record<string, SqlValue>[]): string {
  const table = new Table({ head: ['', ...Array.from({ length: 24 }, (_, h) => String(h))], style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 1 } });
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  for (let d = 0; d < 7; d++) {
    table.push([days[d]!, ...Array.from({ length: 24 }, (_, h) => cell(rows.find((r) => Number(r.weekday) === d && Number(r.hour) === h)?.plays ?? 0))]);
  }
  return table.toString();
}
