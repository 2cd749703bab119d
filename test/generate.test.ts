/**
 * The data generator: byte-for-byte determinism, the course's layouts and
 * spellings, and a manifest that agrees with the files when they are read
 * back by an independent route (parse everything, count, join plays to songs).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GenerateManifest, type GenerateProgress, generate } from '../src/generate/generate.js';
import { mojibake, pyFloat, pyFloatUnits, pyString } from '../src/generate/json-text.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'sparkify-generate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const freshDir = () => path.join(root, `run-${++runs}`);

const EVENT_KEYS = [
  ...['artist', 'auth', 'firstName', 'gender', 'itemInSession', 'lastName', 'length', 'level', 'location'],
  ...['method', 'page', 'registration', 'sessionId', 'song', 'status', 'ts', 'userAgent', 'userId'],
];
const SONG_KEYS = [
  ...['num_songs', 'artist_id', 'artist_latitude', 'artist_longitude', 'artist_location'],
  ...['artist_name', 'song_id', 'title', 'duration', 'year'],
];
const SONG_PATH = /^song_data\/([A-Z])\/([A-Z])\/([A-Z])\/TR\1\2\3[A-Z0-9]{13}\.json$/;
const PACKED_PATH = /^song_data\/[A-Z]\/[A-Z]\/[A-Z]\/part-\d{6}\.json$/;
const LOG_PATH = /^log_data\/(\d{4})\/(\d{2})\/\1-\2-\d{2}-events\.json$/;

type Event = Record<string, unknown> & { ts: number; page: string; userId: string; sessionId: number; itemInSession: number };
type Song = Record<string, unknown> & { title: string; artist_name: string; duration: number; artist_id: string };

/** Every file under `dir`, as sorted relative paths with `/`. */
function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name)).split(path.sep).join('/')]))
    .sort();
}

/** Python's json.dumps spelling (ensure_ascii, floats with a fraction), written independently of the generator. */
function py(value: unknown, float: boolean, escapeSlash: boolean): string {
  if (typeof value === 'number') return float && Number.isInteger(value) ? `${value}.0` : String(value);
  const json = JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escapeSlash ? json.replaceAll('/', '\\/') : json;
}

/** An event line as the course's logs spell it, from its parsed object. */
const respellEvent = (e: Record<string, unknown>) =>
  `{${EVENT_KEYS.map((k) => `"${k}":${py(e[k], k === 'registration' || k === 'length', true)}`).join(',')}}`;
/** A song file as Python's json.dumps spells it, from its parsed object. */
const respellSong = (s: Record<string, unknown>) =>
  `{${SONG_KEYS.map((k) => `"${k}": ${py(s[k], k === 'duration' || k === 'artist_latitude' || k === 'artist_longitude', false)}`).join(', ')}}`;

interface Tree {
  files: string[];
  events: Event[];
  lines: string[];
  songs: Song[];
  songTexts: string[];
  logTexts: Map<string, string>;
  bytes: number;
}

function readTree(out: string): Tree {
  const files = listFiles(out);
  const tree: Tree = { files, events: [], lines: [], songs: [], songTexts: [], logTexts: new Map(), bytes: 0 };
  for (const f of files) {
    if (!f.startsWith('log_data/') && !f.startsWith('song_data/')) continue;
    const text = readFileSync(path.join(out, f), 'latin1');
    tree.bytes += statSync(path.join(out, f)).size;
    if (f.startsWith('log_data/')) {
      tree.logTexts.set(f, text);
      for (const l of text.split('\n')) {
        tree.lines.push(l);
        tree.events.push(JSON.parse(l) as Event);
      }
    } else {
      for (const l of text.split('\n')) {
        tree.songTexts.push(l);
        tree.songs.push(JSON.parse(l) as Song);
      }
    }
  }
  return tree;
}

/** The manifest's counts, recomputed from the files alone. */
function countTree(t: Tree): Omit<GenerateManifest, 'seconds'> {
  const key = (title: unknown, artist: unknown, duration: unknown) => JSON.stringify([title, artist, duration]);
  const songKeys = new Set(t.songs.map((s) => key(s.title, s.artist_name, s.duration)));
  const plays = t.events.filter((e) => e.page === 'NextSong');
  return {
    songFiles: t.files.filter((f) => f.startsWith('song_data/')).length,
    songs: t.songs.length,
    artists: new Set(t.songs.map((s) => s.artist_id)).size,
    logFiles: t.files.filter((f) => f.startsWith('log_data/')).length,
    events: t.events.length,
    nextSongEvents: plays.length,
    matchedPlays: plays.filter((e) => songKeys.has(key(e.song, e.artist, e.length))).length,
    loggedOutEvents: t.events.filter((e) => e.auth === 'Logged Out').length,
    users: new Set(t.events.map((e) => e.userId).filter((u) => u !== '')).size,
    bytes: t.bytes,
  };
}

const withoutSeconds = ({ seconds, ...rest }: GenerateManifest) => {
  expect(seconds).toBeGreaterThan(0);
  return rest;
};

describe('generate: the spelling the checks below hold files to', () => {
  it('is exactly the real sample\'s', () => {
    const sample = readTree(path.join(import.meta.dirname, '..', 'data', 'sparkify-sample'));
    expect(sample.lines).toHaveLength(8056);
    expect(sample.songTexts).toHaveLength(71);
    for (const l of sample.lines) expect(respellEvent(JSON.parse(l) as Record<string, unknown>)).toBe(l);
    for (const t of sample.songTexts) expect(respellSong(JSON.parse(t) as Record<string, unknown>)).toBe(t);
  });

  it('is what the generator\'s JSON helpers write', () => {
    for (const text of ['plain', 'AC/DC', 'Caf\u00e9 "Tacuba"', 'Howlin\u0019 For You', 'T\u014dky\u014d \ud83c\udfb5', 'tab\tdel\u007f']) {
      expect(pyString(text, true)).toBe(py(text, false, true));
      expect(pyString(text, false)).toBe(py(text, false, false));
    }
    expect(mojibake('Bj\u00f6rk')).toBe('Bj\u00c3\u0083\u00c2\u00b6rk'); // as in the sample's logs
    for (let units = 2_000_000; units < 200_000_000; units += 9_999_991) {
      for (const u of [units, units - (units % 10), units - (units % 1000), units - (units % 100_000)]) {
        expect(pyFloatUnits(u)).toBe(pyFloat(u / 1e5));
        expect(Number(pyFloatUnits(u))).toBe(u / 1e5);
      }
    }
    expect(pyFloat(1540919166796)).toBe('1540919166796.0');
  });
});

describe('generate: determinism', () => {
  const options = { songs: 300, events: 4000, days: 7, seed: 7 };

  it('writes byte-identical trees for the same options, and others for another seed', async () => {
    const [a, b, c] = [freshDir(), freshDir(), freshDir()];
    await generate({ out: a, ...options });
    await generate({ out: b, ...options });
    await generate({ out: c, ...options, seed: 8 });
    const digest = (dir: string) =>
      listFiles(dir).map((f) => `${f} ${createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')}`);
    expect(digest(a).length).toBeGreaterThan(300);
    expect(digest(b)).toEqual(digest(a));
    expect(digest(c)).not.toEqual(digest(a));
  });
});

describe('generate: one song per file, at a moderate scale', () => {
  const out = freshDir();
  let manifest: GenerateManifest;
  let tree: Tree;
  const progress: GenerateProgress[] = [];

  beforeAll(async () => {
    manifest = await generate({ out, songs: 2000, events: 20_000, seed: 3, onProgress: (p) => progress.push(p) });
    tree = readTree(out);
  });

  it('lays files out as the course does, and writes nothing else', () => {
    const others = tree.files.filter((f) => !SONG_PATH.test(f) && !LOG_PATH.test(f));
    expect(others).toEqual(['generate.json']);
    expect(tree.files.filter((f) => SONG_PATH.test(f))).toHaveLength(2000);
    const days = tree.files.filter((f) => LOG_PATH.test(f)).map((f) => path.basename(f).slice(0, 10));
    const expected = Array.from({ length: 30 }, (_, d) => new Date(Date.UTC(2018, 10, 1 + d)).toISOString().slice(0, 10));
    expect(days).toEqual(expected);
  });

  it('writes every event line as the course logs spell it', () => {
    for (const [file, text] of tree.logTexts) {
      expect(text.endsWith('\n'), file).toBe(false);
      const events = text.split('\n').map((l) => JSON.parse(l) as Event);
      const date = path.basename(file).slice(0, 10);
      for (let i = 0; i < events.length; i++) {
        expect(new Date(events[i]!.ts).toISOString().slice(0, 10)).toBe(date);
        if (i > 0) expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts);
      }
    }
    for (let i = 0; i < tree.lines.length; i++) {
      const e = tree.events[i]!;
      expect(Object.keys(e)).toEqual(EVENT_KEYS);
      expect(tree.lines[i]).toBe(respellEvent(e));
    }
  });

  it('writes every song file as Python wrote them', () => {
    for (let i = 0; i < tree.songs.length; i++) {
      const s = tree.songs[i]!;
      expect(Object.keys(s)).toEqual(SONG_KEYS);
      expect(tree.songTexts[i]).toBe(respellSong(s));
      expect(s.num_songs).toBe(1);
      expect(s.artist_id).toMatch(/^AR[A-Z0-9]{16}$/);
      expect(s.song_id).toMatch(/^SO[A-Z0-9]{16}$/);
    }
    expect(new Set(tree.songs.map((s) => s.song_id)).size).toBe(2000);
  });

  it('returns counts that equal an independent count of the files', () => {
    expect(withoutSeconds(manifest)).toEqual(countTree(tree));
    expect(manifest.events).toBe(20_000);
    expect(manifest.songs).toBe(2000);
    const record = JSON.parse(readFileSync(path.join(out, 'generate.json'), 'utf8')) as { counts: unknown };
    expect(record.counts).toEqual(withoutSeconds(manifest));
  });

  it('matches about matchShare of the plays, with near misses that do not match', () => {
    const share = manifest.matchedPlays / manifest.nextSongEvents;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    const byTitleArtist = new Map(tree.songs.map((s) => [`${s.title}\u0000${s.artist_name}`, s.duration]));
    const titles = new Set(tree.songs.map((s) => s.title));
    const plays = tree.events.filter((e) => e.page === 'NextSong');
    const otherDuration = plays.filter((e) => {
      const d = byTitleArtist.get(`${String(e.song)}\u0000${String(e.artist)}`);
      return d !== undefined && d !== e.length;
    });
    const otherArtist = plays.filter((e) => titles.has(String(e.song)) && !byTitleArtist.has(`${String(e.song)}\u0000${String(e.artist)}`));
    expect(otherDuration.length).toBeGreaterThan(50);
    expect(otherArtist.length).toBeGreaterThan(50);
  });

  it('carries the quirks of the course data', () => {
    const logs = tree.lines.join('\n');
    const songsText = tree.songTexts.join('\n');
    expect(logs).toContain('\\/');
    expect(logs).toMatch(/"registration":\d{13}\.0,"sessionId"/);
    expect(logs).toContain('"userAgent":"\\"Mozilla\\/5.0');
    expect(logs).toMatch(/\\u00c3\\u0083\\u00c2\\u00[0-9a-f]{2}/); // double-encoded
    expect(songsText).toMatch(/\\u00[e-f][0-9a-f]/); // genuine é, ö, ñ…
    expect(/[^\u0000-\u007f]/.test(logs + songsText)).toBe(false);

    const loggedOut = tree.events.filter((e) => e.auth === 'Logged Out');
    expect(loggedOut.length).toBeGreaterThan(200);
    for (const e of loggedOut) {
      expect(e).toMatchObject({ userId: '', firstName: null, lastName: null, gender: null, registration: null, userAgent: null });
      expect(e).toMatchObject({ location: null, artist: null, song: null, length: null });
    }
    for (const e of tree.events) {
      expect(typeof e.userId).toBe('string');
      const next = e.page === 'NextSong';
      expect(e.artist === null).toBe(!next);
      expect(e.length === null).toBe(!next);
    }
    const pages = new Map<string, Set<string>>();
    for (const e of tree.events) pages.set(e.page, (pages.get(e.page) ?? new Set()).add(`${String(e.method)} ${String(e.status)}`));
    expect(pages.get('NextSong')).toEqual(new Set(['PUT 200']));
    expect(pages.get('Logout')).toEqual(new Set(['PUT 307']));
    expect(pages.get('Error')).toEqual(new Set(['GET 404']));
    expect(pages.has('Submit Upgrade')).toBe(true);
    const nextShare = manifest.nextSongEvents / manifest.events;
    expect(nextShare).toBeGreaterThan(0.8);
    expect(nextShare).toBeLessThan(0.9);

    const yearZero = tree.songs.filter((s) => s.year === 0).length / tree.songs.length;
    const noCoordinates = tree.songs.filter((s) => s.artist_latitude === null).length / tree.songs.length;
    const noLocation = tree.songs.filter((s) => s.artist_location === '').length / tree.songs.length;
    expect(yearZero).toBeGreaterThan(0.5);
    expect(yearZero).toBeLessThan(0.7);
    expect(noCoordinates).toBeGreaterThan(0.45);
    expect(noLocation).toBeGreaterThan(0.3);
    expect(manifest.artists).toBeLessThan(manifest.songs);
  });

  it('keeps sessions and levels consistent', () => {
    const sorted = [...tree.events].sort((a, b) => a.ts - b.ts || a.sessionId - b.sessionId || a.itemInSession - b.itemInSession);
    const sessions = new Map<number, Event[]>();
    for (const e of sorted) {
      const events = sessions.get(e.sessionId) ?? [];
      events.push(e);
      sessions.set(e.sessionId, events);
    }
    for (const events of sessions.values()) {
      expect(events.map((e) => e.itemInSession)).toEqual(events.map((_, i) => i));
      expect(new Set(events.map((e) => e.userId).filter((u) => u !== '')).size).toBeLessThanOrEqual(1);
    }
    const levels = new Map<string, string[]>();
    for (const e of sorted) {
      if (e.userId === '') continue;
      const seq = levels.get(e.userId) ?? [];
      if (seq.at(-1) !== e.level) seq.push(String(e.level));
      levels.set(e.userId, seq);
    }
    const upgraded = [...levels.values()].filter((seq) => seq.join('>').includes('free>paid'));
    expect(upgraded.length).toBeGreaterThan(0);
  });

  it('reports progress for both phases', () => {
    expect(progress.at(-1)).toEqual({ phase: 'events', done: 20_000, total: 20_000 });
    expect(progress.find((p) => p.phase === 'songs' && p.done === 2000)).toEqual({ phase: 'songs', done: 2000, total: 2000 });
  });
});

describe('generate: packed song files', () => {
  it('writes many songs per file, one per line, under song_data/A/B/C/', async () => {
    const out = freshDir();
    const manifest = await generate({ out, songs: 2500, events: 3000, songsPerFile: 1000, seed: 5 });
    const tree = readTree(out);
    const songFiles = tree.files.filter((f) => f.startsWith('song_data/'));
    expect(songFiles).toHaveLength(3);
    for (const f of songFiles) {
      expect(f).toMatch(PACKED_PATH);
      expect(readFileSync(path.join(out, f), 'latin1').endsWith('\n')).toBe(false);
    }
    expect(tree.songs.map((s) => Object.keys(s))).toEqual(tree.songs.map(() => SONG_KEYS));
    expect(withoutSeconds(manifest)).toEqual(countTree(tree));
    expect(manifest).toMatchObject({ songFiles: 3, songs: 2500, events: 3000 });
    expect(manifest.matchedPlays).toBeGreaterThan(0);
  });
});

describe('generate: options', () => {
  it.each([
    ['an empty out', { out: '' }],
    ['songs below 0', { songs: -1 }],
    ['fractional events', { events: 1.5 }],
    ['events as text', { events: '100' }],
    ['zero days', { days: 0 }],
    ['an impossible date', { start: '2018-02-30' }],
    ['a date in another format', { start: '01/11/2018' }],
    ['a share above 1', { matchShare: 1.5 }],
    ['a share without songs', { songs: 0, matchShare: 0.5 }],
    ['zero songs per file', { songsPerFile: 0 }],
    ['a negative seed', { seed: -1 }],
    ['zero users', { users: 0 }],
    ['more events than the users can play', { events: 100_000, users: 3, days: 2 }],
    ['an unknown option', { song: 10 }],
  ])('rejects %s with CONFIG_INVALID and a hint', async (_, bad) => {
    const out = 'out' in bad ? undefined : freshDir();
    const options = { ...(out === undefined ? {} : { out }), ...bad } as unknown as Parameters<typeof generate>[0];
    const err = await generate(options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'SparkifyError', code: 'CONFIG_INVALID' });
    expect((err as { hint?: string }).hint).toBeTruthy();
  });

  it('refuses to write over earlier output unless told to', async () => {
    const out = freshDir();
    mkdirSync(path.join(out, 'log_data'), { recursive: true });
    writeFileSync(path.join(out, 'log_data', 'old.json'), '{}');
    await expect(generate({ out, songs: 10, events: 10 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const manifest = await generate({ out, songs: 10, events: 10, overwrite: true });
    expect(listFiles(out).filter((f) => f.startsWith('log_data/')).every((f) => LOG_PATH.test(f))).toBe(true);
    expect(manifest.events).toBe(10);
  });

  it('writes no logs for zero events and no songs for zero songs', async () => {
    const out = freshDir();
    const manifest = await generate({ out, songs: 0, events: 0 });
    expect(withoutSeconds(manifest)).toMatchObject({ songFiles: 0, songs: 0, artists: 0, logFiles: 0, events: 0, bytes: 0 });
    expect(listFiles(out)).toEqual(['generate.json']);
  });
});
