import { readFiles, type ReadFilesOptions } from './read-files.js';
import type { Source, SourceFile } from './source.js';

/**
 * Splits source files into JSON records, each with the file and the line it
 * starts on, without parsing them: parsing and typing happen in the warehouse
 * (DuckDB) or the loader (PostgreSQL), and a record that fails there is
 * rejected with this file and line.
 *
 * - `ndjson` (event logs): every non-blank line is one record.
 * - `json` (song files): one object per file, pretty-printed or compact, or
 *   several objects one per line. An object that never closes is handed on
 *   as it is, so that it is rejected rather than lost.
 */
export type RecordFormat = 'ndjson' | 'json';

/** A batch of records, column-wise (ready for a DuckDB data chunk). */
export interface RecordBatch {
  /** Index into the file list passed to `readRecords`. */
  file: number[];
  line: number[];
  text: string[];
  /** Bytes of source read since the previous batch. */
  bytes: number;
}

export interface ReadRecordsOptions extends ReadFilesOptions {
  batchSize?: number;
}

const BOM_BYTES = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Yields batches of raw records from `files`, in file order.
 *
 * @example
 *   for await (const batch of readRecords(source, files, 'ndjson')) console.log(batch.text.length);
 */
export async function* readRecords(
  source: Source,
  files: readonly SourceFile[],
  format: RecordFormat,
  options: ReadRecordsOptions = {},
): AsyncGenerator<RecordBatch> {
  const batchSize = options.batchSize ?? 2048;

  let batch = newBatch();
  const splitter = new Splitter(format, (fileIndex, line, text) => {
    batch.file.push(fileIndex);
    batch.line.push(line);
    batch.text.push(text);
  });
  for await (const { index, chunks } of readFiles(source, files, options)) {
    splitter.startFile(index);
    for await (const chunk of chunks) {
      batch.bytes += chunk.length;
      splitter.push(chunk);
      if (batch.text.length >= batchSize) {
        yield batch;
        batch = newBatch();
      }
    }
    splitter.endFile();
    if (batch.text.length >= batchSize) {
      yield batch;
      batch = newBatch();
    }
  }
  if (batch.text.length > 0 || batch.bytes > 0) yield batch;
}

function newBatch(): RecordBatch {
  return { file: [], line: [], text: [], bytes: 0 };
}

type Emit = (file: number, line: number, text: string) => void;

/**
 * Line-oriented splitter; state carries across chunks of one file. Lines are
 * found in the bytes (a newline byte never occurs inside a UTF-8 character)
 * and each is decoded on its own: most lines are ASCII, and short ASCII
 * strings are far cheaper to make and scan than one large decoded chunk.
 * Invalid UTF-8 becomes U+FFFD exactly as decoding the whole file would.
 */
class Splitter {
  private file = 0;
  private lineNo = 0;
  private rest: Buffer | undefined;
  private atStart = true;
  // `json` mode: an object being accumulated over several lines.
  private acc: string[] = [];
  private accLine = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(
    private readonly format: RecordFormat,
    private readonly emit: Emit,
  ) {}

  startFile(file: number): void {
    this.file = file;
    this.lineNo = 0;
    this.rest = undefined;
    this.atStart = true;
    this.resetAcc();
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const data = this.rest ? Buffer.concat([this.rest, piece]) : piece;
    this.rest = undefined;
    let from = 0;
    if (this.atStart) {
      if (data.length < 3 && BOM_BYTES.subarray(0, data.length).equals(data)) {
        this.rest = data; // perhaps the start of a byte order mark: wait for more
        return;
      }
      this.atStart = false;
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) from = 3;
    }
    let nl: number;
    while ((nl = data.indexOf(10, from)) !== -1) {
      this.lineAt(data, from, nl);
      from = nl + 1;
    }
    if (from < data.length) this.rest = data.subarray(from);
  }

  endFile(): void {
    const rest = this.rest;
    this.rest = undefined;
    if (rest && rest.length > 0) this.lineAt(rest, 0, rest.length);
    if (this.acc.length > 0) this.flushAcc();
  }

  /** The line in `data` from `start` to `end` (its newline excluded). */
  private lineAt(data: Buffer, start: number, end: number): void {
    if (end > start && data[end - 1] === 13) end--; // CR before LF
    if (this.format === 'ndjson') {
      this.lineNo++;
      for (let i = start; i < end; i++) {
        const c = data[i]!;
        if (c !== 32 && c !== 9 && c !== 13) {
          this.emit(this.file, this.lineNo, data.toString('utf8', start, end));
          return;
        }
      }
      return;
    }
    this.line(data.toString('utf8', start, end));
  }

  /** A `json`-format line, its CR already dropped. */
  private line(text: string): void {
    this.lineNo++;
    // A line starting with `{` at column 0 inside an open object means the
    // previous object was cut short: hand it on (to be rejected) and start anew.
    if (this.acc.length > 0 && text.startsWith('{') && this.depth > 0) this.flushAcc();
    if (this.acc.length === 0) {
      if (isBlank(text)) return;
      const t = text.trim();
      if (t.startsWith('{') && t.endsWith('}')) {
        this.emit(this.file, this.lineNo, text); // compact object on one line: the common case
        return;
      }
      this.accLine = this.lineNo;
    }
    this.acc.push(text);
    if (this.scan(text)) this.flushAcc();
  }

  /** Tracks brace depth through `text`; true when a top-level value just closed. */
  private scan(text: string): boolean {
    let opened = this.depth > 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
      } else if (c === 34) this.inString = true;
      else if (c === 123 /* { */ || c === 91 /* [ */) {
        this.depth++;
        opened = true;
      } else if (c === 125 /* } */ || c === 93 /* ] */) {
        this.depth--;
        if (this.depth <= 0 && opened) return true;
      }
    }
    // A line that opened nothing (stray text) is a record of its own, to be rejected.
    return !opened;
  }

  private flushAcc(): void {
    this.emit(this.file, this.accLine, this.acc.join('\n'));
    this.resetAcc();
  }

  private resetAcc(): void {
    this.acc = [];
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
