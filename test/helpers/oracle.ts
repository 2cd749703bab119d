/**
 * An independent route to the expected answers: a few lines of plain
 * TypeScript over the raw sample files, sharing no code or SQL with the
 * pipeline. Tests compare the warehouse's tables with what this computes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const SAMPLE = path.resolve(import.meta.dirname, '../../data/sparkify-sample');
export const SAMPLE_SONGS = path.join(SAMPLE, 'song_data');
export const SAMPLE_LOGS = path.join(SAMPLE, 'log_data');
export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

export interface RawEvent {
  [k: string]: unknown;
  artist: string | null;
  firstName: string | null;
  lastName: string | null;
  gender: string | null;
  level: string;
  page: string;
  song: string | null;
  length: number | null;
  ts: number;
  userId: string;
  sessionId: number;
  itemInSession: number;
}

export interface RawSong {
  song_id: string;
  title: string;
  artist_id: string;
  artist_name: string;
  duration: number;
  year: number;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : name.endsWith('.json') ? [p] : [];
    })
    .sort();
}

export function rawEvents(dir = SAMPLE_LOGS): RawEvent[] {
  return walk(dir).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as RawEvent),
  );
}

export function rawSongs(dir = SAMPLE_SONGS): RawSong[] {
  return walk(dir).map((f) => JSON.parse(readFileSync(f, 'utf8')) as RawSong);
}

export function fmt(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** ISO-8601 week number of a UTC date. */
export function isoWeek(ms: number): number {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const firstThursday = new Date(thursday);
  const jan4 = Date.UTC(firstThursday.getUTCFullYear(), 0, 4);
  return 1 + Math.round((thursday - jan4) / 86_400_000 / 7 - ((new Date(jan4).getUTCDay() + 6) % 7 - 3) / 7);
}

export interface Expected {
  counts: Record<string, number>;
  users: Map<number, { first: string | null; last: string | null; gender: string | null; level: string }>;
  matches: { start_time: string; user_id: number; song_id: string; artist_id: string }[];
  times: Map<string, [number, number, number, number, number, number]>;
}

export function expected(logs = SAMPLE_LOGS, songsDir = SAMPLE_SONGS): Expected {
  const events = rawEvents(logs);
  const songs = rawSongs(songsDir);
  const plays = events.filter((e) => e.page === 'NextSong');

  const users = new Map<number, { first: string | null; last: string | null; gender: string | null; level: string; ts: number }>();
  for (const e of events) {
    if (e.userId === '') continue;
    const id = Number(e.userId);
    const prev = users.get(id);
    if (!prev || e.ts > prev.ts) users.set(id, { first: e.firstName, last: e.lastName, gender: e.gender, level: e.level, ts: e.ts });
  }

  const matches = plays.flatMap((p) => {
    const s = songs
      .filter((s) => s.title === p.song && s.artist_name === p.artist && s.duration === p.length)
      .sort((a, b) => (a.song_id < b.song_id ? -1 : 1))[0];
    return s ? [{ start_time: fmt(p.ts), user_id: Number(p.userId), song_id: s.song_id, artist_id: s.artist_id }] : [];
  });

  const times = new Map<string, [number, number, number, number, number, number]>();
  for (const p of plays) {
    const d = new Date(p.ts);
    times.set(fmt(p.ts), [d.getUTCHours(), d.getUTCDate(), isoWeek(p.ts), d.getUTCMonth() + 1, d.getUTCFullYear(), d.getUTCDay()]);
  }

  return {
    counts: {
      staging_events: events.length,
      staging_songs: songs.length,
      songplays: plays.length,
      users: users.size,
      songs: new Set(songs.map((s) => s.song_id)).size,
      artists: new Set(songs.map((s) => s.artist_id)).size,
      time: times.size,
      etl_rejects: 0,
      // The ledger after one run: one row per file, one per run.
      etl_files: walk(logs).length + walk(songsDir).length,
      etl_runs: 1,
    },
    users,
    matches,
    times,
  };
}
