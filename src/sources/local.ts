import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { SparkifyError } from '../errors.js';
import { isJsonName, type Source, type SourceFile } from './source.js';

/**
 * A folder on this machine, searched recursively for `*.json` (and `*.json.gz`).
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
      return isJsonName(this.uri) ? [file] : [];
    }
    const files = await this.walk();
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return files;
  }

  /**
   * Every `*.json` below the root, following symbolic links to files and
   * folders. A folder reached again (a link loop, or two links to one folder)
   * is walked once, and a file reached by two paths is listed once, under the
   * first key: nothing is skipped silently, nothing loaded twice.
   */
  private async walk(): Promise<SourceFile[]> {
    const seenDirs = new Set<string>([identity(await stat(this.uri))]);
    const found: (SourceFile & { id: string })[] = [];
    // Folders are walked in key order, so the first path to a folder reached twice is the one kept.
    const pending = [this.uri];
    while (pending.length > 0) {
      const dir = pending.shift()!;
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => Promise.reject(readFailed(dir, this.uri, err)));
      const dirs: string[] = [];
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        const json = isJsonName(entry.name);
        if (entry.isFile() && !json) continue;
        if (!entry.isDirectory() && !entry.isFile() && !entry.isSymbolicLink()) continue;
        // A link is followed; a broken link is skipped only when it could not be a JSON file.
        const st = await stat(full).catch((err: unknown) => (entry.isSymbolicLink() && !json ? undefined : Promise.reject(readFailed(full, this.uri, err))));
        if (!st) continue;
        const id = identity(st);
        if (st.isDirectory() && !seenDirs.has(id)) {
          seenDirs.add(id);
          dirs.push(full);
        } else if (st.isFile() && json) {
          found.push({ key: path.relative(this.uri, full).split(path.sep).join('/'), uri: full, size: st.size, modified: st.mtimeMs, id });
        }
      }
      pending.push(...dirs);
      pending.sort(byKey(this.uri));
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const seenFiles = new Set<string>();
    return found.filter((f) => !seenFiles.has(f.id) && seenFiles.add(f.id)).map(({ id: _id, ...file }) => file);
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

/** A file's or folder's identity on this machine, whatever path reaches it. */
function identity(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

/** Orders folders by their key below `root`, as files are. */
function byKey(root: string): (a: string, b: string) => number {
  return (a, b) => {
    const ka = path.relative(root, a).split(path.sep).join('/');
    const kb = path.relative(root, b).split(path.sep).join('/');
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
