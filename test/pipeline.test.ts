/**
 * The behaviour suite: the real course sample through every warehouse that can
 * run here, with expected values computed independently (test/helpers/oracle.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SparkifyError } from '../src/errors.js';
import { countRows, createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import { LocalSource } from '../src/sources/local.js';
import type { Source } from '../src/sources/source.js';
import { generate, type GenerateManifest } from '../src/generate/generate.js';
import { repairCandidateSql, repairText } from '../src/schema/repair.js';
import { FIXTURES, SAMPLE_LOGS, SAMPLE_SONGS, expected, fmt, rawEvents } from './helpers/oracle.js';
import { comparedColumns, dump, testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

const oracle = expected();

async function dumpAll(wh: OpenedTestWarehouse['warehouse']) {
  const out: Record<string, unknown[][]> = {};
  for (const t of ALL_TABLES) out[t.name] = await dump(wh, t.name, comparedColumns(t));
  return out;
}

for (const kind of testWarehouses()) {
  describe(`${kind.name}: the real sample`, () => {
    let ctx: OpenedTestWarehouse;
    let report: Awaited<ReturnType<typeof etl>>;

    beforeAll(async () => {
      ctx = await kind.open();
      await createTables(ctx.warehouse);
      report = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    });
    afterAll(() => ctx?.cleanup());

    it('fills every table with the counts computed from the raw files', async () => {
      expect(await countRows(ctx.warehouse)).toEqual(oracle.counts);
      expect(oracle.counts).toMatchObject({ staging_events: 8056, songplays: 6820, users: 97, songs: 71, artists: 69, time: 6813 });
    });

    it('reports each stage with rows, files and seconds', () => {
      expect(report.stages.map((s) => s.stage)).toEqual(['load staging_songs', 'load staging_events', 'transform', 'publish']);
      expect(report.stages[0]).toMatchObject({ rows: 71, rejected: 0, files: 71 });
      expect(report.stages[1]).toMatchObject({ rows: 8056, rejected: 0, files: 30, bytes: 3_755_598 });
      expect(report.stages[2]!.tables).toMatchObject({ songplays: 6820, users: 97, time: 6813 });
      for (const s of report.stages) expect(s.seconds).toBeGreaterThan(0);
      expect(report.rejected).toBe(0);
    });

    it("carries every play's own title and artist, matched or not: what users listen to", async () => {
      const plays = new Map<string, number>();
      for (const e of rawEvents().filter((x) => x.page === 'NextSong')) plays.set(JSON.stringify([e.song, e.artist]), (plays.get(JSON.stringify([e.song, e.artist])) ?? 0) + 1);
      const want = [...plays].map(([k, n]) => [...(JSON.parse(k) as [string, string]), n] as const).sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
      const got = await ctx.warehouse.query(
        'SELECT song_title, artist_name, COUNT(*) AS plays FROM songplays GROUP BY song_title, artist_name ORDER BY plays DESC, song_title LIMIT 3',
      );
      expect(got.map((r) => [r.song_title, r.artist_name, r.plays])).toEqual(want.map(([t, a, n]) => [repairText(t) ?? t, repairText(a) ?? a, n]));
      expect(got[1]).toMatchObject({ artist_name: 'Björk' });
      // Nothing mis-encoded reaches the star schema; staging keeps the events as they were.
      const left = await ctx.warehouse.query(`SELECT COUNT(*) AS n FROM songplays WHERE ${repairCandidateSql('song_title')} OR ${repairCandidateSql('artist_name')}`);
      expect(left).toEqual([{ n: 0 }]);
      const raw = await ctx.warehouse.query(`SELECT COUNT(*) AS n FROM staging_events WHERE page = 'NextSong' AND (${repairCandidateSql('song')} OR ${repairCandidateSql('artist')})`);
      expect(raw).toEqual([{ n: 341 }]);
      expect(report.stages[2]!.repaired).toBe(204);
      expect(want[0]).toEqual(["You're The One", 'Dwight Yoakam', 37]);
      // The raw logs say 'BjÃ\u0083Â¶rk' (UTF-8 read as Latin-1, three times over); songplays says Björk.
      expect(want[1]).toEqual(['Undo', 'BjÃ\u0083Â¶rk', 28]);
    });

    it('keeps one row per user, with names and level from the latest event', async () => {
      const rows = await ctx.warehouse.query('SELECT user_id, first_name, last_name, gender, level FROM users');
      expect(rows).toHaveLength(oracle.users.size);
      for (const r of rows) {
        const [id, first, last, gender, level] = Object.values(r);
        const want = oracle.users.get(Number(id))!;
        expect([first, last, gender, level]).toEqual([want.first, want.last, want.gender, want.level]);
      }
      const paid = [...oracle.users.values()].filter((u) => u.level === 'paid').length;
      expect(await ctx.warehouse.query("SELECT COUNT(*) AS n FROM users WHERE level = 'paid'")).toEqual([{ n: paid }]);
    });

    it('matches exactly the one play whose title, artist and duration match a song', async () => {
      expect(oracle.matches).toHaveLength(1);
      const rows = await ctx.warehouse.query(
        'SELECT start_time, user_id, song_id, artist_id FROM songplays WHERE song_id IS NOT NULL OR artist_id IS NOT NULL',
      );
      expect(rows.map((r) => Object.values(r))).toEqual(oracle.matches.map((m) => [m.start_time, m.user_id, m.song_id, m.artist_id]));
    });

    it('keeps start_time in UTC with milliseconds, and fills time from it', async () => {
      const rows = await dump(ctx.warehouse, 'time', ['start_time', 'hour', 'day', 'week', 'month', 'year', 'weekday']);
      expect(rows).toHaveLength(oracle.times.size);
      for (const [start, ...parts] of rows) expect(parts).toEqual(oracle.times.get(start as string));
      // 2018-11-01 21:01:46.796 UTC is a Thursday in ISO week 44.
      expect(rows[0]).toEqual(['2018-11-01 21:01:46.796', 21, 1, 44, 11, 2018, 4]);
      const plays = await ctx.warehouse.query('SELECT MIN(start_time) AS first, MAX(start_time) AS last FROM songplays');
      expect(plays).toEqual([{ first: '2018-11-01 21:01:46.796', last: '2018-11-30 19:54:24.796' }]);
      expect(fmt(1541106106796)).toBe('2018-11-01 21:01:46.796');
    });

    it('strips the literal quotes around user agents and keeps every play', async () => {
      const quoted = await ctx.warehouse.query(`SELECT COUNT(*) AS n FROM songplays WHERE user_agent LIKE '"%'`);
      expect(quoted).toEqual([{ n: 0 }]);
      const ids = await ctx.warehouse.query('SELECT COUNT(DISTINCT songplay_id) AS n, MIN(songplay_id) AS lo, MAX(songplay_id) AS hi FROM songplays');
      expect(ids).toEqual([{ n: 6820, lo: 1, hi: 6820 }]);
    });

    it('is idempotent: a second etl leaves every table exactly as the first, and so does a full refresh', async () => {
      const before = await dumpAll(ctx.warehouse);
      const again = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
      expect(again.mode).toBe('incremental');
      const after = await dumpAll(ctx.warehouse);
      // The ledger counts one more run, which loaded nothing.
      expect(after.etl_runs).toHaveLength(before.etl_runs!.length + 1);
      expect({ ...after, etl_runs: [] }).toEqual({ ...before, etl_runs: [] });
      await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, fullRefresh: true });
      expect({ ...(await dumpAll(ctx.warehouse)), etl_runs: [], etl_files: [] }).toEqual({ ...before, etl_runs: [], etl_files: [] });
    });

    it('rolls a failed load back: the tables stay as they were', async () => {
      const before = await dumpAll(ctx.warehouse);
      const err = await etl(ctx.warehouse, {
        songs: SAMPLE_SONGS,
        logs: path.join(FIXTURES, 'bad-logs'),
        maxRejects: 0,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SparkifyError);
      expect(err).toMatchObject({ code: 'REJECT_LIMIT_EXCEEDED', stage: 'load staging_events' });
      expect(await dumpAll(ctx.warehouse)).toEqual(before);
    });

    it('keeps only matched plays when asked (the course behaviour)', async () => {
      const r = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, matchedOnly: true });
      expect(r.counts.songplays).toBe(1);
      expect(r.counts.time).toBe(1);
    });
  });

  describe(`${kind.name}: odd and malformed input`, () => {
    let ctx: OpenedTestWarehouse;
    let report: Awaited<ReturnType<typeof etl>>;

    beforeAll(async () => {
      ctx = await kind.open();
      await createTables(ctx.warehouse);
      report = await etl(ctx.warehouse, { songs: path.join(FIXTURES, 'odd-songs'), logs: path.join(FIXTURES, 'bad-logs') });
    });
    afterAll(() => ctx?.cleanup());

    it('rejects each bad record with its file, line and reason, and loads the rest', async () => {
      expect(report.stages[0]).toMatchObject({ rows: 3, rejected: 4 });
      expect(report.stages[1]).toMatchObject({ rows: 3, rejected: 2 });
      const rejects = await dump(ctx.warehouse, 'etl_rejects', ['target_table', 'source', 'line', 'reason']);
      const songFile = path.join(FIXTURES, 'odd-songs/A/A/TRBAD0001.json');
      const logFile = path.join(FIXTURES, 'bad-logs/2018/11/2018-11-02-events.json');
      expect(rejects).toEqual([
        ['staging_events', logFile, 2, 'invalid JSON'],
        ['staging_events', logFile, 4, 'sessionId: expected integer, got "abc"'],
        ['staging_songs', songFile, 1, 'year: expected integer, got 1999.5'],
        ['staging_songs', songFile, 2, 'title: expected text, got an object; duration: expected number, got "abc"'],
        ['staging_songs', songFile, 3, 'song_id: required field is missing'],
        ['staging_songs', songFile, 4, 'invalid JSON'],
      ]);
      const raw = await ctx.warehouse.query(`SELECT raw FROM etl_rejects WHERE line = 2 AND target_table = 'staging_events'`);
      expect(raw).toEqual([{ raw: '{"artist":"B","auth":"Logged In","firstName":"Ann","gender":"F","itemInSession":2,"lastName":"Lee","length":' }]);
    });

    it('coerces values to the column type where that is lossless', async () => {
      const songs = await dump(ctx.warehouse, 'staging_songs', [
        'song_id', 'artist_name', 'title', 'duration', 'year', 'artist_latitude', 'artist_location',
      ]);
      expect(songs).toEqual([
        ['SONUMBER00001', '1999', '42', 180, 2001, null, ''],
        ['SONUMBER00002', '1999', '', null, 0, 40.5, 'NY'],
        ['SOPRETTY00001', 'Café {Band}', 'Line\nBreak "quoted"', 215.5, 1999, 35.14968, 'Memphis, TN'],
      ]);
      const events = await dump(ctx.warehouse, 'staging_events', ['ts', 'userId', 'sessionId', 'status', 'registration', 'userAgent']);
      expect(events).toEqual([
        [1541105830796, 7, 1, 200, 1540919166796, '"UA"'],
        [1541105830797, 7, 1, 200, 1540919166796, 'UA'],
        [1541105830799, null, 2, 200, null, null],
      ]);
    });

    it('builds dimensions with empty strings as NULL, year 0 as NULL, and one deterministic row per artist', async () => {
      expect(await dump(ctx.warehouse, 'songs', ['song_id', 'title', 'artist_id', 'year', 'duration'])).toEqual([
        ['SONUMBER00001', '42', 'ARNUMBER00001', 2001, 180],
        ['SONUMBER00002', null, 'ARNUMBER00001', null, null],
        ['SOPRETTY00001', 'Line\nBreak "quoted"', 'ARPRETTY00001', 1999, 215.5],
      ]);
      expect(await dump(ctx.warehouse, 'artists', ['artist_id', 'name', 'location', 'latitude', 'longitude'])).toEqual([
        ['ARNUMBER00001', '1999', 'NY', 40.5, -74.1],
        ['ARPRETTY00001', 'Café {Band}', 'Memphis, TN', 35.14968, -90.04892],
      ]);
      expect(await dump(ctx.warehouse, 'users', ['user_id', 'first_name', 'level'])).toEqual([[7, 'Ann', 'paid']]);
      expect(await dump(ctx.warehouse, 'songplays', ['songplay_id', 'start_time', 'user_agent', 'level'])).toEqual([
        [1, '2018-11-01 20:57:10.796', 'UA', 'free'],
        [2, '2018-11-01 20:57:10.797', 'UA', 'paid'],
      ]);
    });
  });

  describe(`${kind.name}: before create-tables`, () => {
    it('says to run create-tables first', async () => {
      const ctx = await kind.open();
      try {
        const err = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'WAREHOUSE_NOT_READY' });
        expect((err as SparkifyError).hint).toMatch(/create-tables/);
      } finally {
        await ctx.cleanup();
      }
    });

    it('fails clearly when a source folder has no JSON, and loads nothing', async () => {
      const ctx = await kind.open();
      try {
        await createTables(ctx.warehouse);
        const err = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: path.join(FIXTURES, 'odd-songs', 'missing') }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND' });
        expect(await countRows(ctx.warehouse)).toMatchObject({ staging_events: 0 });
      } finally {
        await ctx.cleanup();
      }
    });

    it('an error nobody classified is INTERNAL (a bug to report, not a failed load), names the stage, and rolls back', async () => {
      const ctx = await kind.open();
      try {
        await createTables(ctx.warehouse);
        const local = new LocalSource(SAMPLE_LOGS);
        const broken: Source = { ...local, list: () => local.list(), read: async () => Promise.reject(new TypeError('x is not a function')), stream: (f) => local.stream(f), localPath: () => undefined, close: async () => undefined };
        const err = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: broken }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'INTERNAL', stage: 'load staging_events', message: 'x is not a function' });
        expect((err as SparkifyError).hint).toMatch(/--verbose and report it/);
        expect(await countRows(ctx.warehouse)).toMatchObject({ staging_events: 0 });
      } finally {
        await ctx.cleanup();
      }
    });

    it('closes the sources it opened, whether the run succeeds or fails', async () => {
      const ctx = await kind.open();
      const close = vi.spyOn(LocalSource.prototype, 'close');
      try {
        await createTables(ctx.warehouse);
        await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
        expect(close).toHaveBeenCalledTimes(2);
        close.mockClear();
        await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: path.join(FIXTURES, 'bad-logs'), maxRejects: 0 }).catch(() => undefined);
        expect(close).toHaveBeenCalledTimes(2);
        close.mockClear();
        // A Source the caller opened stays the caller's to close.
        const logs = new LocalSource(SAMPLE_LOGS);
        await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs });
        expect(close).toHaveBeenCalledTimes(1);
      } finally {
        close.mockRestore();
        await ctx.cleanup();
      }
    });
  });

  describe(`${kind.name}: generated data`, () => {
    let ctx: OpenedTestWarehouse;
    let dir: string;
    let manifest: GenerateManifest;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-generated-'));
      manifest = await generate({ out: dir, songs: 500, events: 20_000, days: 7, seed: 7, songsPerFile: 50 });
      ctx = await kind.open();
    });
    afterAll(async () => {
      await ctx?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it("loads every record and matches exactly the plays the generator made to match", async () => {
      await createTables(ctx.warehouse);
      const report = await etl(ctx.warehouse, { songs: path.join(dir, 'song_data'), logs: path.join(dir, 'log_data') });
      expect(report.rejected).toBe(0);
      expect(report.counts).toMatchObject({
        staging_events: manifest.events,
        staging_songs: manifest.songs,
        songplays: manifest.nextSongEvents,
        users: manifest.users,
        songs: manifest.songs,
        artists: manifest.artists,
      });
      const [matched] = await ctx.warehouse.query('SELECT COUNT(*) AS n FROM songplays WHERE song_id IS NOT NULL');
      expect(matched).toEqual({ n: manifest.matchedPlays });
      expect(manifest.matchedPlays).toBeGreaterThan(1000);
    });
  });
}
