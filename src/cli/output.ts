import type { Command } from 'commander';
import { ConfigError, num, plural, SparkifyError, toSparkifyError, type ConfigIssue } from '../errors.js';
import type { DoctorReport } from '../pipeline/doctor.js';
import type { DryRun } from '../pipeline/dry-run.js';
import type { EtlReport } from '../pipeline/report.js';
import { bigintAsText } from '../warehouses/values.js';
import { colorsFor, isLiveTerminal, liveLine, type Colors, type LiveLine } from './terminal.js';

/** Where the CLI writes; injected so tests can capture it. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** A terminal when `isTTY` (then `columns` is its width): colour and a live progress line. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export { num };

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export const secs = (s: number): string => (s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);

/**
 * Text from outside (file names, reject reasons, server messages) made safe to
 * print: control characters and escape sequences, which could redraw or forge
 * lines, are shown as `\xNN` / `\u{NNNN}`. Newlines are kept where `lines` allows.
 *
 * @example
 *   printable('a\x1b[2Kb'); // 'a\\x1b[2Kb'
 */
export function printable(text: string, lines = false): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (lines && c === '\n') return c;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

export function countsTable(counts: Record<string, number>): string {
  const width = Math.max(...Object.keys(counts).map((k) => k.length));
  const nwidth = Math.max(...Object.values(counts).map((n) => num(n).length), 4);
  const lines = [`${'table'.padEnd(width)}  ${'rows'.padStart(nwidth)}`];
  for (const [t, n] of Object.entries(counts)) lines.push(`${t.padEnd(width)}  ${num(n).padStart(nwidth)}`);
  return lines.join('\n');
}

/**
 * What run and etl did. JSON: `result` is `{ stages, counts, rejected, rejects, retries, seconds }`
 * (the warehouse and the warnings are the envelope's).
 */
export function printReport(out: CommandOutput, report: EtlReport, rejects: RejectSample[], checks?: Checked): number {
  const { io, flags } = out;
  if (out.json) {
    out.warehouse = report.warehouse;
    const { mode, modeReason, runId, stages, counts, rejected, retries, seconds } = report;
    const result = { mode, ...(modeReason ? { modeReason } : {}), runId, stages, counts, rejected, rejects, retries, seconds, ...(checks ? { checks: checks.results } : {}) };
    if (checks?.failed) return out.fail(checks.failed, result);
    out.succeed(result);
    return 0;
  }
  if (flags.quiet) return checks?.failed ? 1 : 0;
  io.stdout.write(`\n${runSummary(report)}\n`);
  io.stdout.write(`\n${countsTable(report.counts)}\n`);
  if (report.rejected > 0) {
    io.stdout.write(`\n⚠ ${num(report.rejected)} record${report.rejected === 1 ? ' was' : 's were'} rejected and kept in etl_rejects:\n`);
    for (const r of rejects) io.stdout.write(`  ${printable(`${r.source}:${r.line}: ${r.reason}`)}\n`);
    if (report.rejected > rejects.length) io.stdout.write(`  … and ${num(report.rejected - rejects.length)} more: SELECT * FROM etl_rejects\n`);
  }
  io.stdout.write(`\nDone in ${secs(report.seconds)}.\n`);
  return 0;
}

/**
 * What a run did with the files: `Incremental run 4: song files 0 new, 71
 * unchanged; log files 1 new (8,056 rows), 29 unchanged.`
 */
export function runSummary(report: EtlReport): string {
  const head = report.mode === 'full' ? `Full run ${report.runId}${report.modeReason ? ` (${report.modeReason})` : ''}` : `Incremental run ${report.runId}`;
  const parts = report.stages.flatMap((s) => {
    const c = s.changes;
    if (!c) return [];
    const what = s.stage === 'load staging_songs' ? 'song files' : 'log files';
    const bits = [`${num(c.new)} new`];
    if (c.changed) bits.push(`${num(c.changed)} changed`);
    if (c.new + c.changed > 0) bits[bits.length - 1] += ` (${plural(c.newRecords, 'row')})`;
    if (report.mode === 'incremental') bits.push(`${num(c.unchanged)} unchanged`);
    if (c.missing) bits.push(`${num(c.missing)} missing from the source (kept)`);
    if (c.pruned) bits.push(`${num(c.pruned)} pruned`);
    if (c.removedRecords) bits.push(`${plural(c.removedRecords, 'row')} removed`);
    if (c.outOfRange) bits.push(`${num(c.outOfRange)} outside --since/--until`);
    return [`${what} ${bits.join(', ')}`];
  });
  return `${head}: ${parts.join('; ')}.`;
}

/** `--check` after a load: the results, and the error when an error-severity check failed. */
export interface Checked {
  results: readonly unknown[];
  failed?: SparkifyError;
}

export interface RejectSample {
  target_table: string;
  source: string;
  line: number | null;
  reason: string;
}

/** `run`, or `cluster status`: a command's name below `sparkify`, as JSON output names it. */
export function commandName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ') || 'sparkify';
}

/** The exit code of a failure: 2 for bad usage or configuration, 1 for everything else. */
export function exitCodeOf(e: SparkifyError): number {
  return e.code === 'CONFIG_INVALID' || e.code === 'USAGE_INVALID' || e.code === 'QUERY_REFUSED' ? 2 : 1;
}

/** The one place that prints a fatal error for a person (stderr); returns the exit code. */
export function printError(io: CliIO, flags: OutputFlags, err: unknown): number {
  const e = toSparkifyError(err);
  const stage = e.stage ? ` (during ${e.stage})` : '';
  io.stderr.write(`${colorsFor(io).red(`error [${e.code}]`)}${stage}: ${printable(e.message, true)}\n`);
  if (e.hint) io.stderr.write(`  hint: ${printable(e.hint, true)}\n`);
  if (flags.verbose) {
    if (e.cause) io.stderr.write(`\ncause: ${printable(e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause), true)}\n`);
    if (e.sql) io.stderr.write(`\nSQL:\n${printable(e.sql, true)}\n`);
  }
  return exitCodeOf(e);
}

/** A failure in JSON output: `issues` only for configuration problems, one per problem. */
export interface JsonError {
  code: string;
  message: string;
  hint?: string;
  /** The pipeline stage that was running. */
  stage?: string;
  issues?: ConfigIssue[];
}

/**
 * What every command prints on stdout with --json, success and failure alike:
 * `ok` (true exactly when the exit code is 0), the `command` (`run`,
 * `cluster status`), the `warehouse` when there is one, `dryRun` for a dry
 * run, the command's `result`, the `error` when it failed, and `warnings`
 * (always a list). Seconds are rounded to milliseconds.
 */
export interface JsonEnvelope {
  ok: boolean;
  command: string;
  warehouse?: string;
  dryRun?: true;
  result?: unknown;
  error?: JsonError;
  warnings: string[];
}

/**
 * JSON text for output: two-space indented, every number under a key ending
 * in `seconds` (`seconds`, `delaySeconds`) rounded to milliseconds, and
 * integers beyond 2^53 (bigint) as their exact digits in a string.
 *
 * @example
 *   toJson({ seconds: 0.023762935999999967 }); // '{\n  "seconds": 0.024\n}'
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (typeof v === 'number' && /seconds$/i.test(key) ? Math.round(v * 1000) / 1000 : bigintAsText(key, v)), 2);
}

/** An error as JSON output shows it: one-line message, configuration problems as `issues`. */
export function jsonError(err: unknown): JsonError {
  const e = toSparkifyError(err);
  const out: JsonError = { code: e.code, message: e instanceof ConfigError ? e.summary : e.message };
  if (e.hint) out.hint = e.hint;
  if (e.stage) out.stage = e.stage;
  if (e instanceof ConfigError) out.issues = e.issues.map((i) => ({ where: i.where, message: i.message }));
  return out;
}

/**
 * One command's output: with --json, the envelope on stdout (and nothing on
 * stderr); otherwise warnings and errors on stderr for a person, and the
 * command writes its own text. Every command makes one, and reports through it.
 *
 * @example
 *   const out = new CommandOutput(io, flags, 'counts');
 *   try { out.succeed({ counts }); } catch (err) { return out.fail(err); }
 */
export class CommandOutput {
  readonly warnings: string[] = [];
  /** The warehouse, described without a password; set once known. */
  warehouse: string | undefined;
  dryRun = false;
  /** Colours for stderr (none with NO_COLOR, or off a terminal). */
  readonly colors: Colors;
  /** The live line at the bottom of stderr: redrawn on a terminal, unless --quiet or --json. */
  readonly live: LiveLine;
  private readonly closers: (() => void)[] = [];

  constructor(
    readonly io: CliIO,
    readonly flags: OutputFlags,
    readonly command: string,
  ) {
    this.colors = colorsFor(io);
    this.live = liveLine(io, isLiveTerminal(io) && !flags.quiet && !flags.json);
  }

  get json(): boolean {
    return this.flags.json === true;
  }

  /** Something worth saying that does not stop the command: listed in JSON, a ⚠ line on stderr otherwise (not with --quiet). */
  warn(message: string): void {
    if (this.json) this.warnings.push(message);
    else if (!this.flags.quiet) this.line(`${this.colors.yellow('⚠')} ${printable(message)}`);
  }

  /** A line on stderr for a person, above the live line; never with --json. */
  line(text: string): void {
    if (!this.json) this.live.persist(text);
  }

  /** `fn` runs when the command's output ends (its progress display stops). */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  /** Ends the live output: stops what registered with `onClose`, removes the live line. Idempotent. */
  close(): void {
    for (const fn of this.closers.splice(0)) fn();
    this.live.clear();
  }

  /** With --json, the success envelope around `result`; nothing otherwise (the command prints its own text). */
  succeed(result: unknown): void {
    this.close();
    if (this.json) this.write({ ok: true, result });
  }

  /**
   * A failed command: with --json the envelope (with `result` when the command
   * got that far, as doctor's checks), otherwise the error on stderr. Returns
   * the exit code.
   */
  fail(err: unknown, result?: unknown): number {
    this.close();
    const e = toSparkifyError(err);
    if (!this.json) return printError(this.io, this.flags, e);
    this.write({ ok: false, ...(result === undefined ? {} : { result }), error: jsonError(e) });
    return exitCodeOf(e);
  }

  private write(parts: { ok: boolean; result?: unknown; error?: JsonError }): void {
    const envelope: JsonEnvelope = {
      ok: parts.ok,
      command: this.command,
      ...(this.warehouse === undefined ? {} : { warehouse: this.warehouse }),
      ...(this.dryRun ? { dryRun: true as const } : {}),
      ...('result' in parts ? { result: parts.result } : {}),
      ...(parts.error ? { error: parts.error } : {}),
      warnings: this.warnings,
    };
    this.io.stdout.write(`${toJson(envelope)}\n`);
  }
}

/**
 * A dry run: JSON (the envelope with `dryRun: true` and `result: { statements: [{ sql?, note? }] }`), or
 * the statements as a script a person can read, notes as SQL comments.
 */
export function printDryRun(out: CommandOutput, plan: DryRun): void {
  const { io } = out;
  if (out.json) {
    out.warehouse = plan.warehouse;
    out.dryRun = true;
    out.succeed({ statements: plan.statements });
    return;
  }
  const lines = [`-- sparkify ${plan.command} --dry-run: what would be sent to ${plan.warehouse}; nothing was.`];
  for (const s of plan.statements) {
    if (s.note) lines.push(`-- ${s.note}`);
    if (s.sql) lines.push(`${s.sql.trim()};`, '');
  }
  io.stdout.write(`${lines.join('\n').trimEnd()}\n`);
}

const DOCTOR_MARKS = { pass: '✓', fail: '✗', skip: '–' } as const;

/**
 * `sparkify doctor`'s checks: JSON (`result: { checks: [{ name, status, detail }] }`; when a
 * check failed, `ok: false` and the error CHECK_FAILED beside the result),
 * or a line per check (✓ passed, ✗ failed, – skipped) and a summary; with
 * --quiet, only the failed checks. Returns the exit code: 1 when a check failed.
 */
export function printDoctor(out: CommandOutput, report: DoctorReport): number {
  const { io, flags } = out;
  const failed = report.checks.filter((c) => c.status === 'fail');
  if (out.json) {
    out.warehouse = report.warehouse;
    const result = { checks: report.checks };
    if (failed.length === 0) {
      out.succeed(result);
      return 0;
    }
    const error = new SparkifyError('CHECK_FAILED', `${plural(failed.length, 'check')} of ${report.checks.length} failed: ${failed.map((c) => c.name).join('; ')}.`, {
      hint: 'Each failed check says what it found in its detail; `sparkify doctor` without --json prints them as a list.',
    });
    return out.fail(error, result);
  }
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const shown = flags.quiet ? report.checks.filter((c) => c.status === 'fail') : report.checks;
  for (const c of shown) io.stdout.write(`${DOCTOR_MARKS[c.status]} ${c.name.padEnd(width)}  ${printable(c.detail)}\n`);
  if (!flags.quiet) {
    const count = (status: keyof typeof DOCTOR_MARKS) => report.checks.filter((c) => c.status === status).length;
    io.stdout.write(`\n${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped.\n`);
  }
  return failed.length > 0 ? 1 : 0;
}
