import { toSparkifyError } from '../errors.js';
import type { DoctorReport } from '../pipeline/doctor.js';
import type { DryRun } from '../pipeline/dry-run.js';
import type { EtlReport, PipelineEvent, StageInfo } from '../pipeline/report.js';

/** Where the CLI writes; injected so tests can capture it. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

const nf = new Intl.NumberFormat('en-US');
export const num = (n: number): string => nf.format(n);

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

/** A line describing what a stage did. */
export function stageLine(info: StageInfo): string {
  const parts: string[] = [];
  if (info.stage.startsWith('load')) {
    parts.push(`${num(info.rows)} rows from ${num(info.files ?? 0)} files (${bytes(info.bytes ?? 0)})`);
    if (info.rejected) parts.push(`${num(info.rejected)} rejected`);
  } else if (info.stage === 'transform') {
    parts.push(Object.entries(info.tables ?? {}).map(([t, n]) => `${t} ${num(n)}`).join(', '));
  } else if (info.stage === 'create-tables') {
    parts.push(`${Object.keys(info.tables ?? {}).length} tables`);
  } else if (info.stage === 'publish') {
    parts.push('every table replaced at once');
  }
  return `✓ ${info.stage.padEnd(20)} ${secs(info.seconds).padStart(8)}  ${parts.join(', ')}`;
}

export function countsTable(counts: Record<string, number>): string {
  const width = Math.max(...Object.keys(counts).map((k) => k.length));
  const nwidth = Math.max(...Object.values(counts).map((n) => num(n).length), 4);
  const lines = [`${'table'.padEnd(width)}  ${'rows'.padStart(nwidth)}`];
  for (const [t, n] of Object.entries(counts)) lines.push(`${t.padEnd(width)}  ${num(n).padStart(nwidth)}`);
  return lines.join('\n');
}

/**
 * A status line on stderr, rewritten in place at most five times a second
 * while `live` (a terminal); `clear` wipes it before a line that stays.
 */
export function statusLine(io: CliIO, live: boolean): { show(text: string): void; clear(): void } {
  let last = 0;
  let dirty = false;
  return {
    show(text) {
      const now = Date.now();
      if (!live || now - last < 200) return;
      last = now;
      io.stderr.write(`\r\x1b[2K  ${text}`);
      dirty = true;
    },
    clear() {
      if (dirty) io.stderr.write('\r\x1b[2K');
      dirty = false;
    },
  };
}

/**
 * Progress on stderr: one line per finished stage; on a terminal, a live
 * counter while a stage loads. Silent with --quiet or --json.
 */
export function progressPrinter(io: CliIO, flags: OutputFlags): (e: PipelineEvent) => void {
  const status = statusLine(io, io.stderr.isTTY === true && !io.env.CI);
  const clear = () => status.clear();
  return (e) => {
    if (flags.quiet || flags.json) return;
    if (e.type === 'stage-start' && flags.verbose) {
      clear();
      io.stderr.write(`… ${e.stage}\n`);
    } else if (e.type === 'progress') {
      status.show(`${e.stage}: ${num(e.records)} records, ${num(e.files)}/${num(e.totalFiles)} files, ${bytes(e.bytes)}`);
    } else if (e.type === 'stage-end') {
      clear();
      io.stderr.write(`${stageLine(e.info)}\n`);
    } else if (e.type === 'warning') {
      clear();
      io.stderr.write(`⚠ ${printable(e.message)}\n`);
    } else if (e.type === 'retry') {
      clear();
      const where = e.stage ? ` during ${e.stage}` : '';
      io.stderr.write(`↻ ${printable(`${e.code}${where}: ${e.message}`)}\n  starting again in ${secs(e.delaySeconds)} (attempt ${e.attempt} of ${e.attempts}); no table was changed\n`);
    }
  };
}

export function printReport(io: CliIO, flags: OutputFlags, report: EtlReport, rejects: RejectSample[]): void {
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ ...report, rejects }, null, 2)}\n`);
    return;
  }
  if (flags.quiet) return;
  io.stdout.write(`\n${countsTable(report.counts)}\n`);
  if (report.rejected > 0) {
    io.stdout.write(`\n⚠ ${num(report.rejected)} record${report.rejected === 1 ? ' was' : 's were'} rejected and kept in etl_rejects:\n`);
    for (const r of rejects) io.stdout.write(`  ${printable(`${r.source}:${r.line}: ${r.reason}`)}\n`);
    if (report.rejected > rejects.length) io.stdout.write(`  … and ${num(report.rejected - rejects.length)} more: SELECT * FROM etl_rejects\n`);
  }
  io.stdout.write(`\nDone in ${secs(report.seconds)}.\n`);
}

export interface RejectSample {
  target_table: string;
  source: string;
  line: number | null;
  reason: string;
}

/** The one place that prints a fatal error; returns the exit code. */
export function printError(io: CliIO, flags: OutputFlags, err: unknown): number {
  const e = toSparkifyError(err);
  const code = e.code === 'CONFIG_INVALID' ? 2 : 1;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint, stage: e.stage } }, null, 2)}\n`);
  }
  const stage = e.stage ? ` (during ${e.stage})` : '';
  io.stderr.write(`error [${e.code}]${stage}: ${printable(e.message, true)}\n`);
  if (e.hint) io.stderr.write(`  hint: ${printable(e.hint, true)}\n`);
  if (flags.verbose) {
    if (e.cause) io.stderr.write(`\ncause: ${printable(e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause), true)}\n`);
    if (e.sql) io.stderr.write(`\nSQL:\n${printable(e.sql, true)}\n`);
  }
  return code;
}

/**
 * A dry run: JSON (`{ command, warehouse, statements: [{ sql?, note? }] }`), or
 * the statements as a script a person can read, notes as SQL comments.
 */
export function printDryRun(io: CliIO, flags: OutputFlags, plan: DryRun): void {
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
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
 * `sparkify doctor`'s checks: JSON (`{ warehouse, checks: [{ name, status, detail }] }`),
 * or a line per check (✓ passed, ✗ failed, – skipped) and a summary; with
 * --quiet, only the failed checks.
 */
export function printDoctor(io: CliIO, flags: OutputFlags, report: DoctorReport): void {
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const shown = flags.quiet ? report.checks.filter((c) => c.status === 'fail') : report.checks;
  for (const c of shown) io.stdout.write(`${DOCTOR_MARKS[c.status]} ${c.name.padEnd(width)}  ${printable(c.detail)}\n`);
  if (flags.quiet) return;
  const count = (status: keyof typeof DOCTOR_MARKS) => report.checks.filter((c) => c.status === status).length;
  io.stdout.write(`\n${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped.\n`);
}
