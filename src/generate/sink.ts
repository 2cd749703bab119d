/**
 * Append-only output files written in large chunks. Lines are joined into
 * 64 KiB strings, encoded into a 1 MiB buffer, and full buffers are handed to
 * the OS while the next one fills; the producer waits only when a buffer is
 * full and the write before it is still running, which bounds memory to a
 * few buffers whatever the file size.
 */
import { type FileHandle, open } from 'node:fs/promises';

const CHUNK = 1 << 20;
/** Encoding one joined string is much cheaper than encoding every line (rope flattening). */
const STRING_LIMIT = 1 << 16;

/**
 * @example
 *   const f = await ChunkedFile.create('out/log_data/2018/11/2018-11-01-events.json');
 *   for (const line of lines) { const wait = f.add(line); if (wait) await wait; }
 *   await f.close();
 */
export class ChunkedFile {
  /** Bytes queued for the file so far (the generator writes ASCII only). */
  bytes = 0;
  private text = '';
  private buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;

  private constructor(private readonly fh: FileHandle) {}

  /**
   * Creates the file; it must not exist yet, so a run never mixes with old output.
   *
   * @example
   *   const f = await ChunkedFile.create('/tmp/x.json');
   *   await f.add('{"a": 1}');
   *   await f.close();
   */
  static async create(path: string): Promise<ChunkedFile> {
    return new ChunkedFile(await open(path, 'wx'));
  }

  /** Appends ASCII text; returns a promise (to await) only when a buffer was shipped. */
  add(text: string): Promise<void> | undefined {
    this.text += text;
    return this.text.length >= STRING_LIMIT ? this.spill() : undefined;
  }

  /** Writes everything and closes the file. */
  async close(): Promise<void> {
    try {
      const wait = this.spill();
      if (wait) await wait;
      await this.ship();
      await this.pending;
      this.throwIfFailed();
    } finally {
      await this.fh.close();
    }
  }

  /** Moves the joined text into the buffer, shipping the buffer first when it is full. */
  private spill(): Promise<void> | undefined {
    const text = this.text;
    this.text = '';
    const wait = this.used + text.length > CHUNK ? this.ship() : undefined;
    // latin1 is byte-for-byte for ASCII, and the fastest encoding.
    if (text.length > CHUNK) this.enqueue(Buffer.from(text, 'latin1'));
    else this.used += this.buffer.write(text, this.used, 'latin1');
    return wait;
  }

  /** Queues the buffer for writing and starts a new one; resolves when the write before it is done. */
  private ship(): Promise<void> {
    const previous = this.pending;
    if (this.used > 0) {
      this.enqueue(this.buffer.subarray(0, this.used));
      this.buffer = Buffer.allocUnsafe(CHUNK);
      this.used = 0;
    }
    return previous.then(() => this.throwIfFailed());
  }

  private enqueue(data: Buffer): void {
    this.bytes += data.length;
    // Chained, so buffers land in order even if a caller does not wait.
    this.pending = this.pending
      .then(() => (this.failure === undefined ? writeAll(this.fh, data) : undefined))
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await fh.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}
