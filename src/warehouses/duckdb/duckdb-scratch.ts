import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFiles } from '../../sources/read-files.js';
import type { Source, SourceFile } from '../../sources/source.js';

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
 * exactly once and checked against its listed size.
 *
 * @example
 *   await spool(source, files, scratch.file(".json"));
 */
export async function spool(source: Source, files: readonly SourceFile[], to: string): Promise<void> {
  const out = createWriteStream(to);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const write = async (chunk: Uint8Array): Promise<void> => {
    if (!out.write(chunk)) await Promise.race([new Promise<void>((resolve) => out.once('drain', resolve)), failed]);
  };
  try {
    for await (const { chunks } of readFiles(source, files)) {
      let first = true;
      let last = 10;
      for await (let chunk of chunks) {
        if (first && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
        first = false;
        if (chunk.length === 0) continue;
        last = chunk[chunk.length - 1]!;
        await write(chunk);
      }
      if (last !== 10) await write(NEWLINE);
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

const NEWLINE = new Uint8Array([10]);
