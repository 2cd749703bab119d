import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SparkifyError } from '../errors.js';
import type { Source, SourceFile } from './source.js';

/**
 * A folder on this machine, searched recursively for `*.json`.
 *
 * @example
 *   const logs = new LocalSource('data/sparkify-sample/log_data');
 *   const files = await logs.list(); // sorted by key: 2018/11/2018-11-01-events.json, …
 */
export class LocalSource implements Source {
  readonly kind = 'local' as const;
  readonly uri: string;

  constructor(root: string) {
    this.uri = path.resolve(root);
  }

  async list(): Promise<SourceFile[]> {
    let info;
    try {
      info = await stat(this.uri);
    } catch (err) {
      throw new SparkifyError('SOURCE_NOT_FOUND', `Source folder ${this.uri} does not exist.`, {
        cause: err,
        hint: 'Check the path given with --songs/--logs or in [S3] SONG_DATA/LOG_DATA of dwh.cfg.',
      });
    }
    if (!info.isDirectory()) {
      const file = { key: path.basename(this.uri), uri: this.uri, size: info.size, modified: info.mtimeMs };
      return this.uri.endsWith('.json') ? [file] : [];
    }
    const entries = await readdir(this.uri, { recursive: true, withFileTypes: true }).catch((err: unknown) => {
      throw readFailed(this.uri, this.uri, err);
    });
    const files: SourceFile[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      // `parentPath` is Node >= 20.12; `path` is its older name.
      const dir = (entry as { parentPath?: string }).parentPath ?? (entry as { path?: string }).path ?? this.uri;
      const full = path.join(dir, entry.name);
      files.push({ key: path.relative(this.uri, full).split(path.sep).join('/'), uri: full, size: 0 });
    }
    await Promise.all(
      files.map(async (f) => {
        const st = await stat(f.uri).catch((err: unknown) => Promise.reject(readFailed(f.uri, this.uri, err)));
        f.size = st.size;
        f.modified = st.mtimeMs;
      }),
    );
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return files;
  }

  read(file: SourceFile): Promise<Buffer> {
    return readFile(file.uri).catch((err: unknown) => Promise.reject(readFailed(file.uri, this.uri, err)));
  }

  async *stream(file: SourceFile): AsyncIterable<Uint8Array> {
    try {
      yield* createReadStream(file.uri, { highWaterMark: 1 << 20 });
    } catch (err) {
      throw readFailed(file.uri, this.uri, err);
    }
  }

  localPath(file: SourceFile): string {
    return file.uri;
  }

  async close(): Promise<void> {
    // Nothing is held between reads.
  }
}

/** A file that was listed but could not be read: it vanished, or its permissions changed. */
function readFailed(file: string, root: string, err: unknown): SparkifyError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'ENOENT' ? 'no longer exists' : code === 'EACCES' || code === 'EPERM' ? 'may not be read (permission denied)' : `could not be read (${code ?? String(err)})`;
  return new SparkifyError('SOURCE_READ_FAILED', `${file} ${why} (source ${root}).`, {
    cause: err,
    hint: code === 'ENOENT' ? 'Something is changing the folder during the run; run again once it is stable.' : 'Check the file and its permissions, then run again.',
  });
}
