/**
 * The generator's options, checked before anything is written: a bad value
 * fails fast with CONFIG_INVALID naming the option, not halfway through a run.
 */
import { SparkifyError } from '../errors.js';

/** Progress of a run: songs first, then events. */
export interface GenerateProgress {
  phase: 'songs' | 'events';
  done: number;
  total: number;
}

export interface GenerateOptions {
  /** Folder to write `song_data/`, `log_data/` and `generate.json` into. */
  out: string;
  /** Songs in the catalogue (song files hold exactly these). Default 1,000. */
  songs?: number;
  /** Events in the logs, all pages. Default 10,000. */
  events?: number;
  /** Days of logs, one file per day that has events. Default 30. */
  days?: number;
  /** First day, `YYYY-MM-DD` (UTC). Default 2018-11-01, as in the course. */
  start?: string;
  /** Users who may appear. Default: one per 83 events, the sample's ratio. */
  users?: number;
  /** Seed of every random choice: same options, same bytes. Default 1. */
  seed?: number;
  /**
   * Share of NextSong plays that equal a catalogue song on title, artist name and
   * duration. Default 0.3 (0 when there are no songs).
   */
  matchShare?: number;
  /** 1 writes one song per file (the course's layout); more packs them one per line. Default 1. */
  songsPerFile?: number;
  /** Replace `song_data/`, `log_data/` and `generate.json` if `out` already has them. Default false. */
  overwrite?: boolean;
  onProgress?: (progress: GenerateProgress) => void;
}

export interface ResolvedOptions {
  out: string;
  songs: number;
  events: number;
  days: number;
  start: string;
  startMs: number;
  users: number;
  seed: number;
  matchShare: number;
  songsPerFile: number;
  overwrite: boolean;
  onProgress: ((progress: GenerateProgress) => void) | undefined;
}

/** Upper bounds; the song limit keeps track ids unique (their tails are bijections of 24-bit indexes). */
export const LIMITS = { songs: 10_000_000, events: 1_000_000_000, days: 3660, users: 10_000_000, songsPerFile: 1_000_000 };

/** About 14 hours of listening: the most one user is asked to play in a day. */
const EVENTS_PER_USER_DAY = 250;

const KNOWN = new Set(['out', 'songs', 'events', 'days', 'start', 'users', 'seed', 'matchShare', 'songsPerFile', 'overwrite', 'onProgress']);

/**
 * Checks the options and fills in the defaults.
 *
 * @example
 *   resolveOptions({ out: '/tmp/gen', events: 1_000_000 }).users; // 12048
 */
export function resolveOptions(options: GenerateOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object', 'Pass { out: "<folder>", … }.');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw invalid(key, 'is not an option of generate()', `Known options: ${[...KNOWN].join(', ')}.`);
  }
  const { out } = options;
  if (typeof out !== 'string' || out.trim() === '') throw invalid('out', 'must name a folder', 'Pass the folder to write into, e.g. out: "bench/data".');

  const songs = integer('songs', options.songs, 1000, 0, LIMITS.songs);
  const events = integer('events', options.events, 10_000, 0, LIMITS.events);
  const days = integer('days', options.days, 30, 1, LIMITS.days);
  const users = integer('users', options.users, Math.min(LIMITS.users, Math.max(1, Math.round(events / 83))), 1, LIMITS.users);
  const seed = integer('seed', options.seed, 1, 0, 0xffffffff);
  const songsPerFile = integer('songsPerFile', options.songsPerFile, 1, 1, LIMITS.songsPerFile);

  // A user plays one session at a time; past this many events a day the
  // sessions would not fit in the period and pile up at its end.
  if (events > users * days * EVENTS_PER_USER_DAY) {
    const needed = Math.ceil(events / (days * EVENTS_PER_USER_DAY));
    throw invalid(
      'events',
      `(${n(events)}) are more than ${n(users)} users can play in ${days} days`,
      `Give at least ${n(needed)} users, or more days (each user plays at most ${EVENTS_PER_USER_DAY} events a day).`,
    );
  }

  const start = options.start ?? '2018-11-01';
  const startMs = typeof start === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(start) ? Date.parse(`${start}T00:00:00Z`) : NaN;
  if (Number.isNaN(startMs) || new Date(startMs).toISOString().slice(0, 10) !== start) {
    throw invalid('start', `is ${JSON.stringify(start)}, not a date`, 'Give the first day as YYYY-MM-DD, e.g. "2018-11-01".');
  }
  if (startMs + days * 86_400_000 > Date.UTC(9999, 11, 31)) throw invalid('days', 'run past the year 9999', 'Use an earlier start or fewer days.');

  const matchShare = options.matchShare ?? (songs > 0 ? 0.3 : 0);
  if (typeof matchShare !== 'number' || !(matchShare >= 0 && matchShare <= 1)) {
    throw invalid('matchShare', `is ${String(matchShare)}, not a share`, 'Give a number from 0 to 1, e.g. 0.3 for 30 % of plays.');
  }
  if (matchShare > 0 && songs === 0) {
    throw invalid('matchShare', `is ${matchShare} but there are no songs to match`, 'Generate some songs, or set matchShare to 0.');
  }
  const overwrite = options.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw invalid('overwrite', 'must be true or false', 'Pass overwrite: true to replace earlier output.');
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid('onProgress', 'must be a function', 'Pass a callback or leave it out.');

  return { out, songs, events, days, start, startMs, users, seed, matchShare, songsPerFile, overwrite, onProgress };
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return fail(name, value, min, max);
  }
  return value;
}

function fail(name: string, value: unknown, min: number, max: number): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw invalid(name, `is ${shown}, not a whole number from ${min} to ${n(max)}`, `Give ${name} as a whole number from ${min} to ${n(max)}.`);
}

const n = (x: number) => x.toLocaleString('en-US');

function invalid(option: string, problem: string, hint: string): SparkifyError {
  return new SparkifyError('CONFIG_INVALID', `generate: ${option} ${problem}.`, { hint });
}
