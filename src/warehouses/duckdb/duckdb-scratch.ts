import { mkdtemp, open, rm, symlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFiles } from '../../sources/read-files.js';
import type { Source, SourceFile } from '../../sources/source.js';
import { SPOOL_FILE_ID_KEY, sqlFileId } from './duckdb-fast.js';

/**
 * A scratch folder for the fast path (in TMPDIR, removed when the warehouse
 * closes): safe names for files DuckDB would otherwise read as glob patterns,
 * and spool files that join many small files (song files, S3 objects) into one
 * that `read_json` reads at once.
 */

/** Characters DuckDB reads as a glob pattern in a path (`[`, `]`, `*`, `?`, braces, backslash). */
const GLOB = /[*?[\]{}\\]/;

/** Whether DuckDB reads `p` as exactly this one file. */
export function readsLiterally(p: string): boolean {
  return !GLOB.test(p);
}

export class Scratch {
  private count = 0;

  private constructor(readonly dir: string) {}

  static async create(): Promise<Scratch> {
    return new Scratch(await mkdtemp(path.join(os.tmpdir(), 'sparkify-duckdb-')));
  }

  /** A new file name inside the folder. */
  file(suffix: string): string {
    return path.join(this.dir, `${++this.count}${suffix}`);
  }

  /**
   * A path DuckDB reads literally for a local file: its own, or a link to it
   * in this folder; undefined when neither works (TMPDIR itself has glob characters).
   */
  async literalPath(local: string): Promise<string | undefined> {
    if (readsLiterally(local)) return local;
    if (!readsLiterally(this.dir)) return undefined;
    const link = this.file('.json');
    await symlink(local, link);
    return link;
  }

  /** Removes the folder and everything in it. Idempotent. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Joins `files` into one file DuckDB's `read_json` can read: each file's bytes
 * as they are (a byte order mark at its start dropped, as records.ts does),
 * then a newline, so records never run into each other. Every file is read
 * once and checked against its listed size.
 *
 * With `fileIds` (one per file, in order), every record also says which file
 * it came from: `{"a":1}` opening a line becomes `{"_sparkify_file_id":17,"a":1}`
 * (the comma after any blanks that follow the `{`, and none before a `}` that
 * closes the object at once), which the fast statement reads as the row's
 * file_id (duckdb-fast.ts, `injected`). That needs one record per line, each
 * starting its line: a file with a line that starts otherwise (a pretty-printed
 * object, an array, a lone `{`) is left out of the spool, its bytes already
 * written taken back, and returned, to be read again by the exact path. Two
 * records on one line, or a record that holds the key itself (then twice),
 * make `read_json` fail the spool file, which then takes the exact path: no
 * row ever gets another file's id, or none.
 *
 * @returns The indexes into `files` of the files left out (only with `fileIds`).
 * @example
 *   await spool(source, files, scratch.file(".json"));
 */
export async function spool(source: Source, files: readonly SourceFile[], to: string, fileIds?: readonly number[]): Promise<number[]> {
  if (fileIds && fileIds.length !== files.length) throw new Error(`${fileIds.length} file ids for ${files.length} files`);
  const out = await SpoolFile.open(to);
  const left: number[] = [];
  try {
    for await (const { index, chunks } of readFiles(source, files)) {
      const id = fileIds?.[index];
      const lines = id === undefined ? undefined : new LineInjector(id, out);
      const start = out.mark();
      let first = true;
      let last = 10;
      let ok = true;
      for await (const bytes of chunks) {
        let chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (first && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
        first = false;
        if (chunk.length === 0) continue;
        last = chunk[chunk.length - 1]!;
        if (lines && !lines.push(chunk)) {
          ok = false;
          break; // stops reading it: the exact path reads it again, whole
        }
        if (!lines) out.add(chunk, 0, chunk.length);
        await out.flushIfFull();
      }
      if (ok && lines && !lines.complete()) ok = false;
      if (!ok) {
        out.rewind(start);
        left.push(index);
        continue;
      }
      if (last !== 10) out.add(NEWLINE, 0, 1);
    }
    await out.finish();
  } finally {
    await out.close();
  }
  return left;
}

const NEWLINE = Buffer.from('\n');
const COMMA = Buffer.from(',');

/**
 * Puts the file id into every record of a file whose records are one per
 * line, chunk by chunk (a line may span chunks), as it adds them to the spool
 * file: whitespace before the `{` of a line is kept, whitespace-only lines
 * too. Native searches for the newlines and copies, a byte or two looked at
 * per line: it keeps up with the disk.
 */
class LineInjector {
  /** `{"_sparkify_file_id":17`; then a comma, unless the object closes at once. */
  private readonly open: Buffer;
  /** At the start of a line, before its first non-blank byte; after the `{` (and blanks) of a line; in its body. */
  private state: 'start' | 'open' | 'body' = 'start';

  constructor(
    id: number,
    private readonly out: SpoolFile,
  ) {
    this.open = Buffer.from(`{"${SPOOL_FILE_ID_KEY}":${sqlFileId(id)}`);
  }

  /** Adds the chunk with the ids put in; false when the file is not one record per line (part of it may be added: rewind). */
  push(chunk: Buffer): boolean {
    const out = this.out;
    const n = chunk.length;
    let from = 0; // start of the bytes of `chunk` not yet added
    let i = 0;
    while (i < n) {
      if (this.state === 'body') {
        const nl = chunk.indexOf(10, i);
        if (nl === -1) break;
        i = nl + 1;
        this.state = 'start';
        continue;
      }
      const b = chunk[i]!;
      if (b === 32 || b === 9 || b === 13 || (b === 10 && this.state === 'start')) {
        i++; // blanks (a blank line stays as it is)
      } else if (this.state === 'start') {
        if (b !== 123) return false; // a line that does not open a record
        out.add(chunk, from, i);
        out.add(this.open, 0, this.open.length);
        from = ++i;
        this.state = 'open';
      } else {
        if (b === 10) return false; // a lone `{`: an object over several lines
        if (b !== 125) {
          out.add(chunk, from, i);
          out.add(COMMA, 0, 1);
          from = i;
        }
        this.state = 'body';
      }
    }
    out.add(chunk, from, n);
    return true;
  }

  /** Whether the file ended where it may: not right after the `{` of a line. */
  complete(): boolean {
    return this.state !== 'open';
  }
}

/**
 * The spool file: bytes are copied into a buffer written a megabyte at a time
 * at an explicit position (large pieces go as they are), so a file left out
 * after part of it was added is taken back (`rewind`) whether or not that part
 * was written yet. One write runs while the next megabyte is read; each
 * waits for the one before.
 */
class SpoolFile {
  private buffer = Buffer.allocUnsafe(SPOOL_WRITE_BYTES);
  private used = 0;
  /** Where `buffer` goes in the file. */
  private position = 0;
  /** Bytes sealed for writing, not yet written, in order. */
  private ready: { bytes: Buffer; at: number }[] = [];
  /** The write under way. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly handle: FileHandle) {}

  static async open(to: string): Promise<SpoolFile> {
    return new SpoolFile(await open(to, 'w'));
  }

  /** Adds `src[from, to)`. */
  add(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (n <= this.buffer.length - this.used) {
      src.copy(this.buffer, this.used, from, to);
      this.used += n;
      return;
    }
    this.seal();
    if (n >= SPOOL_WRITE_BYTES / 4) {
      // Large: written from where it is (source chunks are never reused).
      this.ready.push({ bytes: src.subarray(from, to), at: this.position });
      this.position += n;
      return;
    }
    src.copy(this.buffer, 0, from, to);
    this.used = n;
  }

  /** Where the next byte goes, to `rewind` to. */
  mark(): number {
    return this.position + this.used;
  }

  /** Takes back everything added since `mark`: later bytes overwrite what was written of it, and `finish` cuts the rest. */
  rewind(mark: number): void {
    if (mark >= this.position) {
      this.used = mark - this.position;
      return;
    }
    this.used = 0;
    this.position = mark;
    this.ready = this.ready.flatMap((r) => (r.at >= mark ? [] : r.at + r.bytes.length > mark ? [{ bytes: r.bytes.subarray(0, mark - r.at), at: r.at }] : [r]));
  }

  async flushIfFull(): Promise<void> {
    if (this.ready.length > 0 || this.used >= this.buffer.length) await this.flush();
  }

  /** Writes everything and cuts the file where its bytes end. */
  async finish(): Promise<void> {
    this.seal();
    await this.flush();
    await this.writing;
    await this.handle.truncate(this.position);
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.handle.close();
  }

  /** Moves the buffer's bytes to `ready`, and starts a new buffer. */
  private seal(): void {
    if (this.used === 0) return;
    this.ready.push({ bytes: this.buffer.subarray(0, this.used), at: this.position });
    this.position += this.used;
    this.buffer = Buffer.allocUnsafe(SPOOL_WRITE_BYTES);
    this.used = 0;
  }

  /** Starts writing what is ready, once the write before it is done. */
  private async flush(): Promise<void> {
    if (this.used >= this.buffer.length) this.seal();
    if (this.ready.length === 0) return;
    const ready = this.ready;
    this.ready = [];
    await this.writing;
    this.writing = (async () => {
      for (const { bytes, at } of ready) {
        let done = 0;
        while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
      }
    })();
    this.writing.catch(() => undefined); // observed by the next flush, or by finish
  }
}

/** Bytes gathered before a write to the spool file. */
const SPOOL_WRITE_BYTES = 1 << 20;
