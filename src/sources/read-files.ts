import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { num, plural, SparkifyError } from '../errors.js';
import type { Source, SourceFile } from './source.js';

/**
 * Every listed file's bytes, in listing order, exactly once: small files are
 * fetched a few at a time ahead of the one being consumed (many tiny song files
 * or S3 objects), larger ones streamed. A file that yields another number of
 * bytes than its listing said changed during the run: that fails the run,
 * naming the file, rather than load part of it. Gzipped files are gunzipped
 * on the way (sizes are checked on the bytes as stored).
 */

export interface ReadFilesOptions {
  /** Files up to this size are read whole, several at once; larger ones are streamed. Default 8 MiB. */
  wholeFileLimit?: number;
  /** How many small files are fetched ahead of the one being consumed. Default 16. */
  prefetch?: number;
}

export interface FileBytes {
  /** Position in the list given. */
  index: number;
  file: SourceFile;
  /** The file's bytes; iterate to the end (the size check runs there). */
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Yields each file with its bytes, in order.
 *
 * @example
 *   for await (const { file, chunks } of readFiles(source, files)) for await (const c of chunks) out.write(c);
 */
export async function* readFiles(source: Source, files: readonly SourceFile[], options: ReadFilesOptions = {}): AsyncGenerator<FileBytes> {
  const wholeFileLimit = options.wholeFileLimit ?? 8 << 20;
  const prefetch = Math.max(1, options.prefetch ?? 16);
  const pending = new Map<number, Promise<Buffer>>();
  let next = 0;
  const fill = (from: number) => {
    while (next < files.length && next < from + prefetch) {
      const f = files[next]!;
      if (f.size <= wholeFileLimit) {
        const p = source.read(f);
        p.catch(() => undefined); // observed when awaited below
        pending.set(next, p);
      }
      next++;
    }
  };
  for (let i = 0; i < files.length; i++) {
    fill(i);
    const file = files[i]!;
    const whole = pending.get(i);
    pending.delete(i);
    yield { index: i, file, chunks: decompressed(source, file, counted(source, file, whole ? single(whole) : source.stream(file))) };
  }
}

/**
 * The file's bytes, gunzipped when they start with gzip's magic bytes (S3
 * buckets often hold `*.json.gz`; a gzip file named `.json` is read the same).
 */
async function* decompressed(source: Source, file: SourceFile, chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({ next: () => it.next(), return: async () => (await it.return?.(), { done: true as const, value: undefined }) }),
  };
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) {
    yield first.value;
    yield* rest;
    return;
  }
  const gunzip = createGunzip();
  const input = Readable.from((async function* () {
    yield first.value;
    yield* rest;
  })());
  input.on('error', (err) => gunzip.destroy(err));
  try {
    yield* input.pipe(gunzip);
  } catch (err) {
    if (err instanceof SparkifyError) throw err;
    throw new SparkifyError('SOURCE_READ_FAILED', `${file.uri} starts like gzip but could not be gunzipped (${(err as Error).message}; source ${source.uri}).`, {
      cause: err,
      hint: 'Check the file (gzip -t); it may be cut short or not gzip at all. No table was changed.',
    });
  }
}

async function* single(buffer: Promise<Buffer>): AsyncIterable<Uint8Array> {
  yield await buffer;
}

async function* counted(source: Source, file: SourceFile, chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    yield chunk;
  }
  if (bytes !== file.size) throw changedWhileRead(file, source, `${plural(file.size, 'byte')} when listed, ${num(bytes)} when read`);
}

/** A file whose size or time changed between the listing and its read. */
export function changedWhileRead(file: SourceFile, source: Source, detail: string): SparkifyError {
  return new SparkifyError('SOURCE_READ_FAILED', `${file.uri} changed while the run read it (${detail}; source ${source.uri}).`, {
    hint: 'Something is writing to the source during the run; run again once it is stable. No table was changed.',
  });
}
