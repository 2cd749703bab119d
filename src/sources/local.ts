import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
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
    // Folders are walked in key order (smallest pending key first), so the first path to a folder reached
    // twice is the one kept. `pending` is sorted largest first: pop() takes the smallest.
    const pending: Folder[] = [{ dir: this.uri, key: '' }];
    // Every pending folder will be walked (a folder is checked for a second visit when it is found), so the
    // next few are read ahead, in parallel; their results are still taken in walking order.
    const scans = new Map<string, Promise<Scanned[]>>();
    const scan = (dir: string): Promise<Scanned[]> => {
      let p = scans.get(dir);
      if (!p) {
        p = this.scanFolder(dir);
        p.catch(() => undefined); // observed when its turn comes
        scans.set(dir, p);
      }
      return p;
    };
    while (pending.length > 0) {
      const { dir } = pending.pop()!;
      for (let k = pending.length - 1; k >= Math.max(0, pending.length - READ_AHEAD); k--) void scan(pending[k]!.dir);
      const entries = await scan(dir);
      scans.delete(dir);
      for (const { full, st, json } of entries) {
        const id = identity(st);
        if (st.isDirectory() && !seenDirs.has(id)) {
          seenDirs.add(id);
          insertLargestFirst(pending, { dir: full, key: this.keyOf(full) });
        } else if (st.isFile() && json) {
          found.push({ key: this.keyOf(full), uri: full, size: st.size, modified: st.mtimeMs, id });
        }
      }
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const seenFiles = new Set<string>();
    return found.filter((f) => !seenFiles.has(f.id) && seenFiles.add(f.id)).map(({ id: _id, ...file }) => file);
  }

  /**
   * A folder's entries worth a look (folders, links, JSON files) with what
   * they point at, in readdir's order; stat'ed at once, the first failure in
   * that order thrown, as one by one would.
   */
  private async scanFolder(dir: string): Promise<Scanned[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => Promise.reject(readFailed(dir, this.uri, err)));
    const stats = await Promise.allSettled(entries.map((entry) => this.statEntry(dir, entry)));
    const out: Scanned[] = [];
    for (const result of stats) {
      if (result.status === 'rejected') throw result.reason;
      if (result.value) out.push(result.value);
    }
    return out;
  }

  /** An entry worth a look (a folder, a link, a JSON file) with what it points at; undefined otherwise. */
  private async statEntry(dir: string, entry: Dirent): Promise<Scanned | undefined> {
    const full = path.join(dir, entry.name);
    const json = isJsonName(entry.name);
    if (entry.isFile() && !json) return undefined;
    if (!entry.isDirectory() && !entry.isFile() && !entry.isSymbolicLink()) return undefined;
    // A link is followed; a broken link is skipped only when it could not be a JSON file.
    const st = await stat(full).catch((err: unknown) => (entry.isSymbolicLink() && !json ? undefined : Promise.reject(readFailed(full, this.uri, err))));
    return st && { full, st, json };
  }

  /** A path's key below the root, with `/` separators. */
  private keyOf(full: string): string {
    return path.relative(this.uri, full).split(path.sep).join('/');
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

/** Folders read ahead of the one being walked. */
const READ_AHEAD = 16;

/** An entry of a folder, with what it points at. */
interface Scanned {
  full: string;
  st: Stats;
  json: boolean;
}

/** A folder waiting to be walked, with its key below the root. */
interface Folder {
  dir: string;
  key: string;
}

/** Inserts `f` into `list`, kept sorted by key from largest to smallest. */
function insertLargestFirst(list: Folder[], f: Folder): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.key > f.key) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, f);
}
