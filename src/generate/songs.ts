/**
 * The song files. One song per file is the course's layout:
 * `song_data/A/B/C/TRABCXX128F4286BD3.json`, the folders being the 3rd to 5th
 * characters of the track id, filled in order as in the Million Song Dataset
 * subset (about a dozen songs per folder). Packed files hold many songs, one
 * object per line, under the same kind of folders.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Catalogue, Song } from './catalogue.js';
import { pyFloat, pyFloatUnits, pyString } from './json-text.js';
import { hash, permute, streamKey } from './random.js';
import { ChunkedFile } from './sink.js';

export interface SongPlan {
  /** The song_data folder. */
  dir: string;
  songsPerFile: number;
  seed: number;
  onProgress?: (done: number) => void;
}

export interface SongCounts {
  songFiles: number;
  bytes: number;
}

const FOLDERS = 26 ** 3;
/** The sample holds 71 songs in 6 folders. */
const SONGS_PER_FOLDER = 12;
/** Song files being written at once. */
const IN_FLIGHT = 128;
const PROGRESS_EVERY = 4096;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A song file's text as Python's json.dumps wrote it.
 *
 * @example
 *   songJson(catalogue.song(0)); // '{"num_songs": 1, "artist_id": "AR…", …, "year": 0}'
 */
export function songJson(s: Song): string {
  const coord = (x: number | null) => (x === null ? 'null' : pyFloat(x));
  return (
    `{"num_songs": 1, "artist_id": "${s.artistId}", "artist_latitude": ${coord(s.latitude)}, ` +
    `"artist_longitude": ${coord(s.longitude)}, "artist_location": ${pyString(s.artistLocation, false)}, ` +
    `"artist_name": ${pyString(s.artistName, false)}, "song_id": "${s.songId}", "title": ${pyString(s.title, false)}, ` +
    // Spelled by the same function as the logs' length, so a matching play reads back as the same double.
    `"duration": ${pyFloatUnits(s.units)}, "year": ${s.year}}`
  );
}

/**
 * Writes every catalogue song under `plan.dir`, one per file or packed.
 *
 * @example
 *   const { songFiles } = await writeSongs({ dir: 'out/song_data', songsPerFile: 1, seed: 1 }, catalogue);
 */
export async function writeSongs(plan: SongPlan, catalogue: Catalogue): Promise<SongCounts> {
  return plan.songsPerFile === 1 ? writeOnePerFile(plan, catalogue) : writePacked(plan, catalogue);
}

async function writeOnePerFile(plan: SongPlan, catalogue: Catalogue): Promise<SongCounts> {
  const n = catalogue.songs;
  const perFolder = Math.max(SONGS_PER_FOLDER, Math.ceil(n / FOLDERS));
  const key = streamKey(plan.seed, 'track');
  let bytes = 0;
  let folder = '';
  // Creating small files is slow on most file systems and mostly waiting, so
  // many are kept in flight; errors are kept and thrown after the wait.
  const inFlight: Promise<void>[] = [];
  let failure: unknown;
  for (let k = 0; k < n; k++) {
    const letters = folderLetters(Math.floor(k / perFolder));
    const dir = path.join(plan.dir, ...letters);
    if (dir !== folder) {
      await mkdir(dir, { recursive: true });
      folder = dir;
    }
    const text = songJson(catalogue.song(k));
    bytes += text.length;
    const file = path.join(dir, `${trackId(letters, k, key)}.json`);
    inFlight.push(writeFile(file, text, { encoding: 'latin1', flag: 'wx' }).catch((err: unknown) => void (failure ??= err)));
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    if (failure !== undefined) throw failure;
    if ((k + 1) % PROGRESS_EVERY === 0) plan.onProgress?.(k + 1);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  plan.onProgress?.(n);
  return { songFiles: n, bytes };
}

async function writePacked(plan: SongPlan, catalogue: Catalogue): Promise<SongCounts> {
  const n = catalogue.songs;
  const files = Math.ceil(n / plan.songsPerFile);
  let bytes = 0;
  for (let c = 0; c < files; c++) {
    const dir = path.join(plan.dir, ...folderLetters(c % FOLDERS));
    await mkdir(dir, { recursive: true });
    const file = await ChunkedFile.create(path.join(dir, `part-${String(c).padStart(6, '0')}.json`));
    try {
      const last = Math.min(n, (c + 1) * plan.songsPerFile);
      for (let k = c * plan.songsPerFile; k < last; k++) {
        const wait = file.add(k === c * plan.songsPerFile ? songJson(catalogue.song(k)) : `\n${songJson(catalogue.song(k))}`);
        if (wait) await wait;
        if ((k + 1) % PROGRESS_EVERY === 0) plan.onProgress?.(k + 1);
      }
    } finally {
      await file.close();
    }
    bytes += file.bytes;
  }
  plan.onProgress?.(n);
  return { songFiles: files, bytes };
}

/** Folder i (0 ≤ i < 26³) as three letters: 0 → A/A/A, 1 → A/A/B. */
function folderLetters(i: number): [string, string, string] {
  return [LETTERS[Math.floor(i / 676) % 26]!, LETTERS[Math.floor(i / 26) % 26]!, LETTERS[i % 26]!];
}

/**
 * `TR` + the folder letters + two letters + a tail in one of the two shapes of
 * the real ids (`128F` + 7 hex, `12903` + 6 hex). The tails are bijections of
 * the song index, so ids are unique without being remembered.
 */
function trackId(letters: readonly string[], k: number, key: number): string {
  const h = hash(key, k);
  const two = LETTERS[h % 26]! + LETTERS[Math.floor(h / 26) % 26]!;
  const tail = (h >>> 24) % 10 < 7 ? `128F${hex(permute(k, 28, key), 7)}` : `12903${hex(permute(k, 24, key), 6)}`;
  return `TR${letters.join('')}${two}${tail}`;
}

function hex(x: number, width: number): string {
  return x.toString(16).toUpperCase().padStart(width, '0');
}
