import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';

/**
 * `COPY … FROM STDIN` in PostgreSQL's text format: one line per row, columns
 * separated by tabs, `\N` for NULL, and backslash, tab, newline and carriage
 * return escaped. NUL cannot be sent at all; the coercion rules reject it first.
 */

export type CopyValue = string | number | null;

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a COPY text field. */
export function copyField(v: CopyValue): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v); // String() round-trips doubles exactly
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : v;
}

/** One row as a COPY text line, newline included; `tail` (further fields in COPY text, each with its leading tab) goes before the newline. */
export function copyLine(values: readonly CopyValue[], tail = ''): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += copyField(values[i]!);
  }
  return line + tail + '\n';
}

/**
 * One running `COPY … FROM STDIN` on a client. `write` waits while the socket
 * is full, so memory stays bounded whatever the input size; `end` returns the
 * rows the server took; `abort` cancels the COPY (the server discards it) and
 * leaves the client usable for the ROLLBACK that follows.
 *
 * @example
 *   const copy = CopyIn.start(client, 'COPY staging_songs (song_id) FROM STDIN');
 *   await copy.write(copyLine(['SO1']));
 *   const rows = await copy.end();
 */
export class CopyIn {
  private error: Error | undefined;
  private settled: Promise<void>;

  private constructor(private readonly stream: CopyStreamQuery) {
    this.settled = new Promise((resolve) => {
      stream.once('finish', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', () => resolve());
    });
    stream.on('error', (err: Error) => (this.error ??= err));
  }

  static start(client: pg.Client, sql: string): CopyIn {
    return new CopyIn(client.query(copyFrom(sql)));
  }

  /** Sends text (whole lines); resolves when the stream can take more. */
  async write(text: string): Promise<void> {
    if (this.error) throw this.error;
    if (this.stream.write(Buffer.from(text, 'utf8'))) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        this.stream.off('drain', onDrain);
        reject(err);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  /** Finishes the COPY; returns the number of rows copied. */
  async end(): Promise<number> {
    if (this.error) throw this.error;
    this.stream.end();
    await this.settled;
    if (this.error) throw this.error;
    return this.stream.rowCount;
  }

  /** Cancels the COPY after a failure on our side; never throws. */
  async abort(reason: unknown): Promise<void> {
    if (!this.stream.writableFinished && !this.stream.destroyed) {
      this.stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    }
    await this.settled;
  }
}
