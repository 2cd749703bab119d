/**
 * Synthetic Sparkify data at any scale, in exactly the course's formats and
 * layouts, for benchmarks and tests: song files as Python wrote them, day
 * files of NDJSON events as the course's logs are, quirks included (escaped
 * slashes, quoted user agents, `.0` registrations, logged-out events, level
 * changes, `\u` escapes and double-encoded names). The same options give the
 * same bytes; memory stays flat however many events are asked for.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SparkifyError } from '../errors.js';
import { Catalogue } from './catalogue.js';
import { type EventCounts, writeEvents } from './events.js';
import { type GenerateOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { writeSongs } from './songs.js';

export type { GenerateOptions, GenerateProgress } from './options.js';

/** What a run wrote; every count is what the files contain. */
export interface GenerateManifest extends EventCounts {
  songFiles: number;
  songs: number;
  /** Distinct artist ids in the song files. */
  artists: number;
  /** Bytes of song and log files. */
  bytes: number;
  /** Wall time of the run. */
  seconds: number;
}

/** Written beside song_data/ and log_data/ (without the timing, so runs compare byte for byte). */
export const MANIFEST_FILE = 'generate.json';

/**
 * Writes `out/song_data/…` and `out/log_data/YYYY/MM/YYYY-MM-DD-events.json`
 * and returns what was written. Throws SparkifyError CONFIG_INVALID for bad
 * options, or when `out` already holds output and `overwrite` is not set.
 *
 * @example
 *   const m = await generate({ out: 'bench/data', songs: 10_000, events: 1_000_000 });
 *   console.log(`${m.events} events, ${m.matchedPlays} plays match a song`);
 */
export async function generate(options: GenerateOptions): Promise<GenerateManifest> {
  const started = performance.now();
  const o = resolveOptions(options);
  const songDir = path.join(o.out, 'song_data');
  const logDir = path.join(o.out, 'log_data');
  try {
    await prepare(o, [songDir, logDir, path.join(o.out, MANIFEST_FILE)]);
    // Plays outside the catalogue come from a world of songs larger than the
    // logs, so most are heard once or twice, as in the sample.
    const outsideSongs = Math.max(1000, o.events);
    const catalogue = new Catalogue(o.seed, o.songs, outsideSongs, Math.max(300, Math.ceil(outsideSongs / 3)));
    const progress = (phase: 'songs' | 'events', total: number) =>
      o.onProgress && ((done: number) => o.onProgress!({ phase, done, total }));

    await mkdir(songDir, { recursive: true });
    await mkdir(logDir, { recursive: true });
    const { seed, songsPerFile, events: total, days, startMs, users, matchShare } = o;
    const songs = await writeSongs({ dir: songDir, songsPerFile, seed, onProgress: progress('songs', o.songs) }, catalogue);
    const events = await writeEvents(
      { dir: logDir, events: total, days, startMs, users, matchShare, seed, onProgress: progress('events', total) },
      catalogue,
    );

    const { bytes: logBytes, ...eventCounts } = events;
    const counts = { songFiles: songs.songFiles, songs: o.songs, artists: catalogue.artists, ...eventCounts, bytes: songs.bytes + logBytes };
    const record = {
      generator: 'sparkify-dwh generate',
      options: { songs: o.songs, events: total, days, start: o.start, users, seed, matchShare, songsPerFile },
      counts,
    };
    await writeFile(path.join(o.out, MANIFEST_FILE), `${JSON.stringify(record, null, 2)}\n`);
    return { ...counts, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    if (err instanceof SparkifyError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && UNWRITABLE.has(code)) {
      throw new SparkifyError('CONFIG_INVALID', `generate: cannot write into ${o.out}: ${message}`, {
        cause: err,
        hint: 'Choose a folder you can write to (out).',
      });
    }
    if (typeof code === 'string') {
      throw new SparkifyError('INTERNAL', `generate: could not write into ${o.out}: ${message}`, {
        cause: err,
        hint: 'Check that the folder is writable and the disk has room; rerun with overwrite to replace the partial output.',
      });
    }
    throw new SparkifyError('INTERNAL', `generate failed: ${message}`, {
      cause: err,
      hint: 'This is a bug in the generator; report it with the options used.',
    });
  }
}

/** File-system errors that mean `out` itself is the problem, not the run. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST']);

/** Refuses to mix with earlier output unless told to replace it. */
async function prepare(o: ResolvedOptions, outputs: readonly string[]): Promise<void> {
  await mkdir(o.out, { recursive: true });
  const existing: string[] = [];
  for (const p of outputs) {
    if (await exists(p)) existing.push(p);
  }
  if (existing.length === 0) return;
  if (!o.overwrite) {
    throw new SparkifyError('CONFIG_INVALID', `generate: ${o.out} already holds ${existing.map((p) => path.basename(p)).join(', ')}.`, {
      hint: 'Choose an empty folder, or replace them: --overwrite (overwrite: true in the library).',
    });
  }
  for (const p of existing) await rm(p, { recursive: true, force: true });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
