import { plural } from '../errors.js';
import type { PipelineEvent, StageInfo, StageName } from '../pipeline/report.js';
import { bytes, num, printable, secs, type CommandOutput } from './output.js';
import type { Colors } from './terminal.js';

/**
 * A run's progress on stderr, for a person. On a terminal: each stage as it
 * starts, on a live line redrawn in place (records, bytes, files, a percentage
 * and an ETA for loads; the table being built for the transform), then a line
 * that stays when it ends. Elsewhere (a pipe, a file, CI): one line per stage
 * when it ends (and one as it starts, with --verbose). Nothing with --quiet or
 * --json; warnings go to the command's output either way (the JSON envelope
 * lists them).
 */

export interface ProgressOptions {
  /** Milliseconds since some fixed point; tests pass a fake clock. Default: performance.now. */
  now?: () => number;
  /** How often the live line is redrawn while nothing is reported (the spinner and the elapsed time move). Default 125 ms; 0: never. */
  tickMs?: number;
}

/** What the live line knows about the running stage. */
export interface Running {
  stage: StageName;
  started: number;
  progress?: Extract<PipelineEvent, { type: 'progress' }>;
  step?: Extract<PipelineEvent, { type: 'step' }>;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR = 20;

/**
 * The pipeline's `onEvent` for a command's output.
 *
 * @example
 *   await etl(wh, { songs, logs, onEvent: progressPrinter(out) });
 */
export function progressPrinter(out: CommandOutput, options: ProgressOptions = {}): (e: PipelineEvent) => void {
  const { flags, live, colors: c } = out;
  const now = options.now ?? (() => performance.now());
  const tickMs = options.tickMs ?? 125;
  const silent = flags.quiet === true || flags.json === true;
  let running: Running | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastDrawn = -Infinity;

  const draw = () => {
    if (!running) return;
    lastDrawn = now();
    live.render(liveText(running, lastDrawn, out.io.stderr.columns ?? 80, c));
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    running = undefined;
  };
  out.onClose(stop);

  return (e) => {
    if (e.type === 'warning') out.warn(e.message);
    if (silent) return;
    switch (e.type) {
      case 'stage-start':
        if (!live.live) {
          if (flags.verbose) out.line(`… ${e.stage}`);
          return;
        }
        stop();
        running = { stage: e.stage, started: now() };
        draw();
        if (tickMs > 0) timer = setInterval(draw, tickMs).unref();
        return;
      case 'progress':
      case 'step':
        if (!running || running.stage !== e.stage) return;
        if (e.type === 'progress') running.progress = e;
        else running.step = e;
        // At most ten redraws a second, however often a loader reports.
        if (now() - lastDrawn >= 100 || e.type === 'step') draw();
        return;
      case 'stage-end':
        stop();
        out.line(stageLine(e.info, c));
        return;
      case 'retry': {
        stop();
        const where = e.stage ? ` during ${e.stage}` : '';
        out.line(`${c.yellow('↻')} ${printable(`${e.code}${where}: ${e.message}`)}`);
        out.line(`  starting again in ${secs(e.delaySeconds)} (attempt ${e.attempt} of ${e.attempts}); no table was changed`);
        return;
      }
    }
  };
}

/** A line describing what a stage did: `✓ load staging_events   0.21 s  8,056 rows from 30 files (3.6 MB)`. */
export function stageLine(info: StageInfo, c?: Colors): string {
  const parts: string[] = [];
  if (info.stage.startsWith('load')) {
    const c = info.changes;
    if (c && (info.files ?? 0) === 0) parts.push(`nothing new (${plural(c.unchanged, 'file')} unchanged)`);
    else parts.push(`${plural(info.rows, 'row')} from ${plural(info.files ?? 0, 'file')} (${bytes(info.bytes ?? 0)})`);
    if (c && (info.files ?? 0) > 0 && c.unchanged > 0) parts.push(`${num(c.unchanged)} unchanged`);
    if (info.rejected) parts.push(`${num(info.rejected)} rejected`);
  } else if (info.stage === 'transform') {
    parts.push(Object.entries(info.tables ?? {}).map(([t, n]) => `${t} ${num(n)}`).join(', '));
    if (info.repaired) parts.push(`${plural(info.repaired, 'mis-encoded title or name', 'mis-encoded titles and names')} repaired`);
  } else if (info.stage === 'create-tables') {
    parts.push(plural(Object.keys(info.tables ?? {}).length, 'table'));
  } else if (info.stage === 'publish') {
    parts.push('every table replaced at once');
  }
  const mark = c ? c.green('✓') : '✓';
  return `${mark} ${info.stage.padEnd(20)} ${secs(info.seconds).padStart(8)}  ${parts.join(', ')}`;
}

/** One piece of the live line; the lowest `keep` go first when the terminal is too narrow. */
interface Piece {
  text: string;
  styled: string;
  keep: number;
}

/**
 * The live line for a running stage at time `at`, at most `columns - 1` wide:
 * `⠹ load staging_songs   2.40 s  ████████░░░░░░░░░░░░  41%  980 of 2,400 files  1.1 MB of 2.7 MB  980 records  ETA 3 s`.
 */
export function liveText(r: Running, at: number, columns: number, c: Colors): string {
  const elapsed = Math.max(0, (at - r.started) / 1000);
  const frame = SPINNER[Math.floor(elapsed * 10) % SPINNER.length]!;
  const head = `${r.stage.padEnd(20)} ${secs(elapsed).padStart(8)}`;
  const pieces: Piece[] = [{ text: `${frame} ${head}`, styled: `${c.cyan(frame)} ${head}`, keep: 9 }];
  const add = (text: string, keep: number, style: (s: string) => string = (s) => s) => pieces.push({ text, styled: style(text), keep });
  const p = r.progress;
  if (p && p.files === 0 && p.records === 0) {
    // Nothing read yet (or a warehouse that reads every file in one statement, and says so when it ends).
    add(`reading ${plural(p.totalFiles, 'file')}${p.totalBytes ? ` (${bytes(p.totalBytes)})` : ''}`, 8);
  } else if (p) {
    const share = p.totalBytes ? p.bytes / p.totalBytes : p.totalFiles ? p.files / p.totalFiles : undefined;
    if (share !== undefined) {
      const filled = Math.round(Math.min(1, share) * BAR);
      pieces.push({ text: '█'.repeat(filled) + '░'.repeat(BAR - filled), styled: c.cyan('█'.repeat(filled)) + c.dim('░'.repeat(BAR - filled)), keep: 5 });
      add(`${Math.floor(Math.min(1, share) * 100)}%`.padStart(4), 8);
    }
    add(`${num(p.files)} of ${plural(p.totalFiles, 'file')}`, 6);
    add(p.totalBytes ? `${bytes(p.bytes)} of ${bytes(p.totalBytes)}` : bytes(p.bytes), 4);
    add(plural(p.records, 'record'), 3);
    if (share !== undefined && share >= 0.03 && share < 1 && elapsed >= 0.5) add(`ETA ${duration((elapsed * (1 - share)) / share)}`, 7, c.dim);
  } else if (r.step) {
    add(`${r.step.step} (table ${r.step.done + 1} of ${r.step.total})`, 8);
  }
  const width = (ps: Piece[]) => ps.reduce((n, x) => n + [...x.text].length, 0) + 2 * (ps.length - 1);
  let shown = pieces;
  while (shown.length > 1 && width(shown) > columns - 1) {
    const lowest = Math.min(...shown.map((x) => x.keep));
    shown = shown.filter((x) => x.keep !== lowest);
  }
  return shown.map((x) => x.styled).join('  ');
}

/** `3 s`, `2 min 5 s`, `1 h 4 min`: a time left, to the second. */
export function duration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
