import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SparkifyError } from '../errors.js';
import type { Source, SourceFile } from './source.js';

/** A folder on this machine, searched recursively for `*.json`. */
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
      const file = { key: path.basename(this.uri), uri: this.uri, size: info.size };
      return this.uri.endsWith('.json') ? [file] : [];
    }
    const entries = await readdir(this.uri, { recursive: true, withFileTypes: true });
    const files: SourceFile[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      // `parentPath` is Node >= 20.12; `path` is its older name.
      const dir = (entry as { parentPath?: string }).parentPath ?? (entry as { path?: string }).path ?? this.uri;
      const full = path.join(dir, entry.name);
      files.push({ key: path.relative(this.uri, full).split(path.sep).join('/'), uri: full, size: 0 });
    }
    await Promise.all(files.map(async (f) => (f.size = (await stat(f.uri)).size)));
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return files;
  }

  read(file: SourceFile): Promise<Buffer> {
    return readFile(file.uri);
  }

  stream(file: SourceFile): AsyncIterable<Uint8Array> {
    return createReadStream(file.uri, { highWaterMark: 1 << 20 });
  }

  localPath(file: SourceFile): string {
    return file.uri;
  }
}
