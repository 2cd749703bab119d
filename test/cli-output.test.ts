/**
 * What the CLI shows a person while a run works, and what a script reads: the
 * progress display on a fake stderr (a terminal or not, with and without
 * NO_COLOR), the live line's text, and the JSON helpers. No process, no clock:
 * the display is given a fake one and never ticks.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, plural, SparkifyError } from '../src/errors.js';
import type { PipelineEvent, StageInfo, FileChanges } from '../src/pipeline/report.js';
import { CommandOutput, jsonError, runSummary, toJson, type CliIO, type OutputFlags } from '../src/cli/output.js';
import { duration, liveText, progressPrinter, stageLine, type Running } from '../src/cli/progress.js';
import { colorsFor } from '../src/cli/terminal.js';

/** A stderr and stdout that keep what is written; `isTTY` as asked. */
function fakeIO(options: { tty: boolean; env?: NodeJS.ProcessEnv; columns?: number }): CliIO & { err: () => string; out: () => string } {
  const stream = (tty: boolean) => {
    const chunks: string[] = [];
    return {
      chunks,
      stream: {
        isTTY: tty,
        columns: options.columns ?? 120,
        rows: 40,
        write(s: string | Uint8Array) {
          chunks.push(String(s));
          return true;
        },
      } as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number },
    };
  };
  const err = stream(options.tty);
  const out = stream(false);
  return { stdout: out.stream, stderr: err.stream, env: options.env ?? {}, cwd: '/', err: () => err.chunks.join(''), out: () => out.chunks.join('') };
}

const info = (stage: StageInfo['stage'], extra: Partial<StageInfo> = {}): StageInfo => ({ stage, seconds: 0.5, rows: 0, ...extra });

/** A small run's events: two loads with progress, a transform with its five tables, a warning, publish. */
function events(): PipelineEvent[] {
  const load = (stage: 'load staging_songs' | 'load staging_events', totalFiles: number, totalBytes: number): PipelineEvent[] => [
    { type: 'stage-start', stage },
    { type: 'progress', stage, records: 0, bytes: 0, files: 0, totalFiles, totalBytes },
    { type: 'progress', stage, records: 1200, bytes: totalBytes / 4, files: Math.floor(totalFiles / 4), totalFiles, totalBytes },
    { type: 'stage-end', info: info(stage, { rows: 4800, files: totalFiles, bytes: totalBytes, tables: {} }) },
  ];
  const tables = ['songplays', 'users', 'songs', 'artists', 'time'];
  return [
    ...load('load staging_songs', 2400, 2_400_000),
    { type: 'warning', stage: 'load staging_songs', message: 'something to look at' },
    ...load('load staging_events', 1, 1000),
    { type: 'stage-start', stage: 'transform' },
    ...tables.map((step, done): PipelineEvent => ({ type: 'step', stage: 'transform', step, done, total: tables.length })),
    { type: 'stage-end', info: info('transform', { tables: Object.fromEntries(tables.map((t) => [t, 1])) }) },
    { type: 'stage-start', stage: 'publish' },
    { type: 'stage-end', info: info('publish') },
  ];
}

/** Sends the events to a display, the fake clock moving 1 s before each event. */
function play(io: CliIO, flags: OutputFlags = {}): CommandOutput {
  const out = new CommandOutput(io, flags, 'run');
  let t = 0;
  const onEvent = progressPrinter(out, { now: () => t, tickMs: 0 });
  for (const e of events()) {
    t += 1000;
    onEvent(e);
  }
  out.close();
  return out;
}

const SGR = /\x1b\[[0-9;]*m/; // a colour (Select Graphic Rendition)

/** A stage's line that stays, as a person reads it. */
const done = (stage: string, what: string) => `✓ ${stage.padEnd(20)}   0.50 s  ${what}`;
const STAYING = [
  done('load staging_songs', '4,800 rows from 2,400 files (2.3 MB)'),
  '⚠ something to look at',
  done('load staging_events', '4,800 rows from 1 file (1000 B)'),
  done('transform', 'songplays 1, users 1, songs 1, artists 1, time 1'),
  done('publish', 'every table replaced at once'),
];

describe('progress on stderr', () => {
  it('off a terminal: one line per stage, as it ends, and the warning; no escape sequence at all', () => {
    const io = fakeIO({ tty: false });
    play(io);
    expect(io.err()).toBe(`${STAYING.join('\n')}\n`);
    expect(io.err()).toContain('✓ load staging_songs     0.50 s  4,800 rows');
    expect(io.out()).toBe('');
  });

  it('off a terminal with --verbose: each stage also as it starts', () => {
    const io = fakeIO({ tty: false });
    play(io, { verbose: true });
    expect(io.err().split('\n').filter((l) => l.startsWith('… '))).toEqual(['… load staging_songs', '… load staging_events', '… transform', '… publish']);
  });

  it('says nothing with --quiet, and with --json keeps the warning for the envelope', () => {
    const quiet = fakeIO({ tty: true });
    play(quiet, { quiet: true });
    expect(quiet.err()).toBe('');
    const json = fakeIO({ tty: true });
    const out = play(json, { json: true });
    expect(json.err()).toBe('');
    expect(out.warnings).toEqual(['something to look at']);
  });

  it('on a terminal: each stage live as it starts (files, bytes, a percentage, an ETA; the transform by table), then a line that stays', () => {
    const io = fakeIO({ tty: true, env: { NO_COLOR: '1' }, columns: 200 });
    play(io);
    const err = io.err();
    // The live line, redrawn in place by log-update (erase-line sequences), …
    expect(err).toContain('\x1b[2K');
    expect(err).toContain('load staging_songs     1.00 s  reading 2,400 files (2.3 MB)');
    expect(err).toMatch(/load staging_songs +2\.00 s {2}█{5}░{15} {3}25% {2}600 of 2,400 files {2}585\.9 KB of 2\.3 MB {2}1,200 records {2}ETA 6 s/);
    for (const [i, table] of ['songplays', 'users', 'songs', 'artists', 'time'].entries()) expect(err).toContain(`${table} (table ${i + 1} of 5)`);
    // … and the lines that stay, in order.
    const kept = err.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n').split('\n').filter((l) => /^[✓⚠] /.test(l));
    expect(kept).toEqual(STAYING);
  });

  it('respects NO_COLOR: colour on a terminal only when it is unset or empty', () => {
    for (const [env, tty, coloured] of [
      [{}, true, true],
      [{ NO_COLOR: '' }, true, true],
      [{ NO_COLOR: '1' }, true, false],
      [{ TERM: 'dumb' }, true, false],
      [{}, false, false],
    ] as const) {
      const io = fakeIO({ tty, env });
      play(io);
      expect(SGR.test(io.err()), JSON.stringify({ env, tty })).toBe(coloured);
      expect(colorsFor(io).green('✓')).toBe(coloured ? '\x1b[32m✓\x1b[39m' : '✓');
    }
  });

  it('prints errors without colour under NO_COLOR, in red otherwise', () => {
    const failed = (env: NodeJS.ProcessEnv) => {
      const io = fakeIO({ tty: true, env });
      expect(new CommandOutput(io, {}, 'run').fail(new SparkifyError('LOAD_FAILED', 'it broke', { hint: 'mend it' }))).toBe(1);
      return io.err();
    };
    expect(failed({ NO_COLOR: '1' })).toBe('error [LOAD_FAILED]: it broke\n  hint: mend it\n');
    expect(failed({})).toBe('\x1b[31merror [LOAD_FAILED]\x1b[39m: it broke\n  hint: mend it\n');
  });
});

describe('the live line', () => {
  const plain = colorsFor({ stderr: { isTTY: false } as never, env: {} });
  const running = (progress: Partial<Extract<PipelineEvent, { type: 'progress' }>>): Running => ({
    stage: 'load staging_events',
    started: 0,
    progress: { type: 'progress', stage: 'load staging_events', records: 0, bytes: 0, files: 0, totalFiles: 10, ...progress },
  });

  it('gives the share of bytes when their total is known, else of files, and an ETA from the time so far', () => {
    expect(liveText(running({ records: 5, files: 2, bytes: 250, totalBytes: 1000 }), 3000, 200, plain)).toBe(
      '⠋ load staging_events    3.00 s  █████░░░░░░░░░░░░░░░   25%  2 of 10 files  250 B of 1000 B  5 records  ETA 9 s',
    );
    expect(liveText(running({ records: 1, files: 5 }), 1000, 200, plain)).toMatch(/ {2}50% {2}5 of 10 files {2}0 B {2}1 record {2}ETA 1 s$/);
  });

  it('drops the least useful parts to fit a narrow terminal, keeping the percentage and the ETA', () => {
    const text = liveText(running({ records: 5, files: 2, bytes: 250, totalBytes: 1000 }), 3000, 60, plain);
    expect(text).toBe('⠋ load staging_events    3.00 s   25%  ETA 9 s');
    expect([...text].length).toBeLessThan(60);
  });

  it('spells times left and plurals for a person', () => {
    expect([duration(0.2), duration(59.1), duration(125), duration(7300)]).toEqual(['1 s', '1 min 0 s', '2 min 5 s', '2 h 1 min']);
    expect([plural(1, 'file'), plural(0, 'file'), plural(2400, 'file'), plural(2, 'entry', 'entries')]).toEqual(['1 file', '0 files', '2,400 files', '2 entries']);
    expect(stageLine(info('create-tables', { tables: { a: 0 } }))).toMatch(/ 1 table$/);
  });

  it('says what a daily run read, and what it left unread', () => {
    const changes: FileChanges = { new: 1, changed: 0, unchanged: 29, missing: 0, pruned: 0, newRecords: 269, removedRecords: 0 };
    const songs: FileChanges = { new: 0, changed: 0, unchanged: 71, missing: 0, pruned: 0, newRecords: 0, removedRecords: 0 };
    expect(stageLine(info('load staging_events', { rows: 269, files: 1, bytes: 2048, changes }))).toMatch(/ 269 rows from 1 file \(2\.0 KB\), 29 unchanged$/);
    expect(stageLine(info('load staging_songs', { rows: 0, files: 0, bytes: 0, changes: songs }))).toMatch(/ nothing new \(71 files unchanged\)$/);
    const report = (mode: 'full' | 'incremental', c: FileChanges, modeReason?: string) => ({
      warehouse: 'w', mode, modeReason, runId: 7, counts: {}, rejected: 0, warnings: [], retries: [], seconds: 1,
      stages: [info('load staging_songs', { rows: 0, files: 0, changes: songs }), info('load staging_events', { rows: 269, files: 1, changes: c })],
    });
    expect(runSummary(report('incremental', { ...changes, changed: 1, new: 0, removedRecords: 250, missing: 2 }))).toBe(
      'Incremental run 7: song files 0 new, 71 unchanged; log files 0 new, 1 changed (269 rows), 29 unchanged, 2 missing from the source (kept), 250 rows removed.',
    );
    expect(runSummary(report('full', { ...changes, unchanged: 0, outOfRange: 3 }, '--full-refresh'))).toBe(
      'Full run 7 (--full-refresh): song files 0 new; log files 1 new (269 rows), 3 outside --since/--until.',
    );
  });
});

describe('JSON helpers', () => {
  it('rounds every seconds to milliseconds, wherever it is', () => {
    expect(JSON.parse(toJson({ seconds: 0.023762935999999967, stages: [{ seconds: 1.0005 }], retries: [{ delaySeconds: 2.12345 }], rows: 1.23456 }))).toEqual({
      seconds: 0.024,
      stages: [{ seconds: 1.001 }],
      retries: [{ delaySeconds: 2.123 }],
      rows: 1.23456,
    });
  });

  it('lists configuration problems as issues, with a one-line message', () => {
    const issues = [
      { where: '--max-rejects', message: 'bad' },
      { where: 'dwh.cfg [CLUSTER] DB_PORT', message: 'worse' },
    ];
    expect(jsonError(new ConfigError(issues))).toEqual({ code: 'CONFIG_INVALID', message: 'The configuration has 2 problems.', hint: expect.any(String), issues });
    expect(jsonError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });
});
