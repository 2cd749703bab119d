import { createLogUpdate } from 'log-update';
import picocolors from 'picocolors';

/** picocolors' functions: `c.green('✓')`; each returns its input unchanged when colour is off. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/**
 * What the terminal on stderr can show: colour, and a live line redrawn in
 * place (log-update does the redrawing). Both only on a terminal; colour never
 * when NO_COLOR is set (https://no-color.org) or TERM is `dumb`.
 */

/** The streams and environment the CLI writes to (CliIO's shape, without the cwd). */
export interface TerminalIO {
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  env: NodeJS.ProcessEnv;
}

/**
 * True when stderr is a terminal that can redraw a line: a TTY, not `TERM=dumb`,
 * not CI, and of some size (a pseudo-terminal without one says 0 rows).
 */
export function isLiveTerminal(io: TerminalIO): boolean {
  return io.stderr.isTTY === true && io.env.TERM !== 'dumb' && !io.env.CI && io.stderr.rows !== 0 && io.stderr.columns !== 0;
}

/**
 * Colours for stderr: real ones on a terminal, plain text (the same functions,
 * returning their input) when NO_COLOR is set to anything but the empty
 * string, when TERM is `dumb`, or when stderr is not a terminal.
 *
 * @example
 *   const c = colorsFor(io);
 *   io.stderr.write(`${c.green('✓')} done\n`);
 */
export function colorsFor(io: TerminalIO): Colors {
  const enabled = io.stderr.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  return picocolors.createColors(enabled);
}

/** A line at the bottom of stderr that is redrawn in place, and lines that stay above it. */
export interface LiveLine {
  /** Whether this is a terminal that redraws (else `render` does nothing). */
  readonly live: boolean;
  /** Replaces the live line with `text` (one line; cut to the terminal's width). */
  render(text: string): void;
  /** Writes `text` as a line that stays, above the live line (which the next `render` draws again). */
  persist(text: string): void;
  /** Removes the live line. */
  clear(): void;
}

/**
 * The live line of `io.stderr`: redrawn by log-update when `live`, else
 * `render` is a no-op and `persist` a plain write.
 */
export function liveLine(io: TerminalIO, live: boolean): LiveLine {
  if (!live) {
    return {
      live: false,
      render() {},
      persist: (text) => void io.stderr.write(`${text}\n`),
      clear() {},
    };
  }
  // showCursor: log-update would otherwise hide it and register an exit hook on process.stderr to show it again.
  const update = createLogUpdate(io.stderr, { showCursor: true });
  let shown = false;
  return {
    live: true,
    render(text) {
      update(text);
      shown = true;
    },
    persist(text) {
      if (shown) update.persist(text);
      else io.stderr.write(`${text}\n`);
      shown = false;
    },
    clear() {
      if (shown) update.clear();
      shown = false;
    },
  };
}
