import { isUtf8 } from 'node:buffer';
import { JsonRecords } from './json-records.js';
import { readFiles, type ReadFilesOptions } from './read-files.js';
import type { Source, SourceFile } from './source.js';

/**
 * Splits source files into JSON records, each with the file and the line it
 * starts on, without parsing them: parsing and typing happen in the warehouse
 * (DuckDB) or the loader (PostgreSQL), and a record that fails there is
 * rejected with this file and line.
 *
 * - `ndjson` (event logs): every non-blank line is one record.
 * - `json` (song files): records by their JSON structure (json-records.ts):
 *   one object per file, pretty-printed or compact, or several objects on a
 *   line or one per line. An object that never closes is handed on as it is,
 *   so that it is rejected rather than lost, and the objects after it are kept.
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
  /** Records in this batch whose bytes were not valid UTF-8 (decoded with U+FFFD in their place). */
  invalidUtf8: number;
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
    if (splitter.invalidUtf8) batch.invalidUtf8++;
    splitter.invalidUtf8 = false;
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
  return { file: [], line: [], text: [], bytes: 0, invalidUtf8: 0 };
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
  /** The start of a line not yet ended, in pieces (joined once its newline comes: a long line costs no quadratic copying). */
  private rest: Buffer[] = [];
  private atStart = true;
  /** Whether the record being emitted held bytes that are not UTF-8 (it is counted, then this is reset). */
  invalidUtf8 = false;
  /** `json` mode: records by their structure (json-records.ts). */
  private json: JsonRecords | undefined;

  constructor(
    private readonly format: RecordFormat,
    private readonly emit: Emit,
  ) {}

  startFile(file: number): void {
    this.file = file;
    this.lineNo = 0;
    this.rest = [];
    this.atStart = true;
    this.json = this.format === 'json' ? new JsonRecords((line, text) => this.emit(file, line, text)) : undefined;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.atStart) {
      if (this.rest.length > 0) data = Buffer.concat([...this.rest, data]);
      this.rest = [];
      if (data.length < 3 && BOM_BYTES.subarray(0, data.length).equals(data)) {
        this.rest = [data]; // perhaps the start of a byte order mark: wait for more
        return;
      }
      this.atStart = false;
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
    }
    let from = 0;
    let nl = data.indexOf(10);
    if (nl === -1) {
      if (data.length > 0) this.rest.push(data);
      return;
    }
    if (this.rest.length > 0) {
      const line = Buffer.concat([...this.rest, data.subarray(0, nl)]);
      this.rest = [];
      this.lineAt(line, 0, line.length);
      from = nl + 1;
      nl = data.indexOf(10, from);
    }
    while (nl !== -1) {
      this.lineAt(data, from, nl);
      from = nl + 1;
      nl = data.indexOf(10, from);
    }
    if (from < data.length) this.rest.push(data.subarray(from));
  }

  endFile(): void {
    const rest = this.rest.length === 1 ? this.rest[0]! : Buffer.concat(this.rest);
    this.rest = [];
    if (rest.length > 0) this.lineAt(rest, 0, rest.length);
    this.json?.end();
  }

  /** The line in `data` from `start` to `end` (its newline excluded). */
  private lineAt(data: Buffer, start: number, end: number): void {
    if (end > start && data[end - 1] === 13) end--; // CR before LF
    this.lineNo++;
    // An event is its line; a song record may span lines, so the flag holds until the record is emitted.
    if (this.format === 'ndjson') this.invalidUtf8 = !isUtf8(data.subarray(start, end));
    else this.invalidUtf8 ||= !isUtf8(data.subarray(start, end));
    if (this.format === 'ndjson') {
      for (let i = start; i < end; i++) {
        const c = data[i]!;
        if (c !== 32 && c !== 9 && c !== 13) {
          this.emit(this.file, this.lineNo, data.toString('utf8', start, end));
          return;
        }
      }
      return;
    }
    this.json!.line(this.lineNo, data.toString('utf8', start, end));
  }
}
