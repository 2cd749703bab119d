/**
 * Daily runs: every warehouse that runs here, fed one day at a time (and
 * corrected days, late songs, removed files, backfilled gaps, failed runs),
 * ends with the tables one full run over the same files gives, songplay ids
 * aside; and a run with nothing new reads nothing and changes nothing.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/generate/generate.js';
import { countRows, createTables } from '../src/pipeline/create-tables.js';
import { loadStatus } from '../src/pipeline/status.js';
import { etl, type EtlOptions } from '../src/pipeline/etl.js';
import type { EtlReport } from '../src/pipeline/report.js';
import { ALL_TABLES, STAGING_TABLES, STAR_TABLES, etlRejects, type Table } from '../src/schema/tables.js';
import { openSource } from '../src/sources/open-source.js';
import type { Source } from '../src/sources/source.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { withFaults } from './helpers/faults.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { dump, testWarehouses, type TestWarehouse } from './warehouses.js';

type Tables = Record<string, unknown[][]>;

/** The tables a daily run must leave as a full run does: data and rejects, songplays without its id (the ledger is compared apart). */
const COMPARED: readonly Table[] = [...STAGING_TABLES, ...STAR_TABLES, etlRejects];
const columnsOf = (t: Table) => t.columns.map((c) => c.name).filter((c) => c !== 'songplay_id');

async function tables(wh: Warehouse): Promise<Tables> {
  const out: Tables = {};
  for (const t of COMPARED) out[t.name] = await dump(wh, t.name, columnsOf(t));
  return out;
}

/** Every table, the ledger of files too, with songplay ids: what a failed run must leave exactly. */
async function everything(wh: Warehouse): Promise<Tables> {
  const out: Tables = {};
  for (const t of ALL_TABLES) out[t.name] = await dump(wh, t.name, t.columns.map((c) => c.name));
  out.songplay_files = await dump(wh, 'songplays', ['songplay_id', 'file_id']);
  return out;
}

/** The 30 sample log files, by day. */
const SAMPLE_DAYS = readdirSync(path.join(SAMPLE_LOGS, '2018/11')).sort();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh folder with `songs/` and `logs/`, removed after the suite. */
function workspace(): { songs: string; logs: string; root: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sparkify-daily-'));
  dirs.push(root);
  const songs = path.join(root, 'songs');
  const logs = path.join(root, 'logs');
  mkdirSync(songs, { recursive: true });
  mkdirSync(logs, { recursive: true });
  return { root, songs, logs };
}

/** Copies one sample day into `logs` (as 2018/11/<name>). */
function addSampleDay(logs: string, name: string): void {
  mkdirSync(path.join(logs, '2018/11'), { recursive: true });
  cpSync(path.join(SAMPLE_LOGS, '2018/11', name), path.join(logs, '2018/11', name));
}

/** The tables of one full run over `songs` and `logs`, in a fresh warehouse of `kind`. */
async function fullRun(kind: TestWarehouse, songs: string, logs: string): Promise<Tables> {
  const ctx = await kind.open();
  try {
    await createTables(ctx.warehouse);
    const report = await etl(ctx.warehouse, { songs, logs });
    expect(report.mode).toBe('full');
    return await tables(ctx.warehouse);
  } finally {
    await ctx.cleanup();
  }
}

/** A source that counts the files it is asked to read. */
async function counting(location: string): Promise<{ source: Source; reads: () => number }> {
  const source = await openSource(location);
  let reads = 0;
  const wrapped: Source = Object.create(source) as Source;
  Object.assign(wrapped, {
    read: (f: Parameters<Source['read']>[0]) => {
      reads++;
      return source.read(f);
    },
    stream: (f: Parameters<Source['stream']>[0]) => {
      reads++;
      return source.stream(f);
    },
    localPath: () => {
      reads++;
      return undefined;
    },
  });
  return { source: wrapped, reads: () => reads };
}

function load(report: EtlReport, stage: 'load staging_songs' | 'load staging_events') {
  const s = report.stages.find((x) => x.stage === stage)!;
  return { files: s.files, rows: s.rows, ...s.changes! };
}

/** songplay_id → the rest of the play, to check ids never move. */
async function playsById(wh: Warehouse): Promise<Map<number, string>> {
  const rows = await wh.query('SELECT * FROM songplays');
  return new Map(rows.map((r) => [Number(r.songplay_id), JSON.stringify({ ...r, song_id: null, artist_id: null, songplay_id: null })]));
}

const kinds = testWarehouses();

for (const kind of kinds) {
  describe(`${kind.name}: daily runs`, () => {
    describe('the real sample, one day per run', () => {
      const ws = workspace();
      let wh: Warehouse;
      let cleanup: () => Promise<void>;
      const reports: EtlReport[] = [];
      const idsKept: boolean[] = [];
      beforeAll(async () => {
        const ctx = await kind.open();
        wh = ctx.warehouse;
        cleanup = ctx.cleanup;
        await createTables(wh);
        let before = new Map<number, string>();
        for (const day of SAMPLE_DAYS) {
          addSampleDay(ws.logs, day);
          reports.push(await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs }));
          const now = await playsById(wh);
          idsKept.push([...before].every(([id, play]) => now.get(id) === play));
          before = now;
        }
      });
      afterAll(async () => cleanup?.());

      it('loads each day by itself after the first, full, run', () => {
        expect(reports[0]!.mode).toBe('full');
        expect(reports[0]!.modeReason).toBe('nothing was loaded before');
        for (const [i, r] of reports.slice(1).entries()) {
          expect(r.mode).toBe('incremental');
          expect(load(r, 'load staging_events')).toMatchObject({ files: 1, new: 1, changed: 0, unchanged: i + 1, missing: 0, removedRecords: 0 });
          expect(load(r, 'load staging_songs')).toMatchObject({ files: 0, new: 0, unchanged: 71, rows: 0 });
        }
        expect(reports.map((r) => r.runId)).toEqual(SAMPLE_DAYS.map((_, i) => i + 1));
      });

      it('never renumbers a play, and numbers new plays after the old', async () => {
        expect(idsKept.every(Boolean)).toBe(true);
        const [range] = await wh.query<{ n: number; lo: number; hi: number }>('SELECT COUNT(*) AS n, MIN(songplay_id) AS lo, MAX(songplay_id) AS hi FROM songplays');
        expect(range).toEqual({ n: 6820, lo: 1, hi: 6820 });
      });

      it('ends with the tables of one full run over the 30 days', async () => {
        expect(await tables(wh)).toEqual(await fullRun(kind, SAMPLE_SONGS, ws.logs));
      });

      it('records every file in the ledger, with the rows it gave', async () => {
        const files = await wh.query<{ target_table: string; n: number; loaded: number }>(
          'SELECT target_table, COUNT(*) AS n, SUM(loaded_rows) AS loaded FROM etl_files GROUP BY target_table ORDER BY target_table',
        );
        expect(files.map((f) => [f.target_table, Number(f.n), Number(f.loaded)])).toEqual([
          ['staging_events', 30, 8056],
          ['staging_songs', 71, 71],
        ]);
        const runs = await wh.query<{ run_id: number; mode: string; files_new: number }>('SELECT run_id, mode, files_new FROM etl_runs ORDER BY run_id');
        expect(runs).toHaveLength(30);
        expect(runs[0]).toEqual({ run_id: 1, mode: 'full', files_new: 72 });
        expect(runs[29]).toEqual({ run_id: 30, mode: 'incremental', files_new: 1 });
      });

      it('reads no file and changes nothing when nothing is new', async () => {
        const before = await everything(wh);
        const songs = await counting(SAMPLE_SONGS);
        const logs = await counting(ws.logs);
        try {
          const r = await etl(wh, { songs: songs.source, logs: logs.source });
          expect(r.mode).toBe('incremental');
          expect(load(r, 'load staging_songs')).toMatchObject({ files: 0, new: 0, changed: 0, unchanged: 71 });
          expect(load(r, 'load staging_events')).toMatchObject({ files: 0, new: 0, changed: 0, unchanged: 30 });
        } finally {
          await songs.source.close();
          await logs.source.close();
        }
        expect(songs.reads() + logs.reads()).toBe(0);
        const after = await everything(wh);
        delete before.etl_runs;
        delete after.etl_runs;
        expect(after).toEqual(before);
      });
    });

    describe('generated data: days one by one, songs arriving in three batches', () => {
      const ws = workspace();
      let daily: Tables;
      let reports: EtlReport[] = [];
      let matched: number[] = [];
      beforeAll(async () => {
        const gen = path.join(ws.root, 'gen');
        await generate({ out: gen, songs: 300, events: 6000, days: 12, seed: 11, matchShare: 0.5, songsPerFile: 10 });
        const songFiles = readdirSync(path.join(gen, 'song_data'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();
        const logFiles = readdirSync(path.join(gen, 'log_data'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();
        const copy = (kindDir: string, to: string, f: string) => {
          mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
          cpSync(path.join(gen, kindDir, f), path.join(to, f));
        };
        const ctx = await kind.open();
        try {
          await createTables(ctx.warehouse);
          reports = [];
          matched = [];
          for (const [i, f] of logFiles.entries()) {
            copy('log_data', ws.logs, f);
            // A third of the songs before the first day, a third on day 5, the rest on day 9.
            const share = i < 4 ? 1 / 3 : i < 8 ? 2 / 3 : 1;
            for (const s of songFiles.slice(0, Math.ceil(songFiles.length * share))) copy('song_data', ws.songs, s);
            reports.push(await etl(ctx.warehouse, { songs: ws.songs, logs: ws.logs }));
            // Matched plays among those of the first four days' files.
            const [m] = await ctx.warehouse.query<{ n: number }>(
              'SELECT COUNT(*) AS n FROM songplays sp JOIN etl_files f ON f.file_id = sp.file_id WHERE sp.song_id IS NOT NULL AND f.run_id <= 4',
            );
            matched.push(Number(m!.n));
          }
          daily = await tables(ctx.warehouse);
        } finally {
          await ctx.cleanup();
        }
      });

      it('ends with the tables of one full run', async () => {
        expect(daily).toEqual(await fullRun(kind, ws.songs, ws.logs));
      });

      it('replaces a corrected song file: a song gone, a title changed, a song added', async () => {
        const ctx = await kind.open();
        try {
          const w = ctx.warehouse;
          await createTables(w);
          await etl(w, { songs: ws.songs, logs: ws.logs });
          const file = readdirSync(ws.songs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort()[0]!;
          const songs = readFileSync(path.join(ws.songs, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
          expect(songs.length).toBeGreaterThan(2);
          const corrected = [
            ...songs.slice(1, 2).map((x) => ({ ...x, title: `${String(x.title)} (Remastered)` })),
            ...songs.slice(2),
            { ...songs[0], song_id: 'SOZZZZZ12AB0000001', title: 'A new song' },
          ];
          writeFileSync(path.join(ws.songs, file), `${corrected.map((x) => JSON.stringify(x)).join('\n')}\n`);
          const r = await etl(w, { songs: ws.songs, logs: ws.logs });
          expect(load(r, 'load staging_songs')).toMatchObject({ files: 1, changed: 1, rows: corrected.length, removedRecords: songs.length });
          expect(await tables(w)).toEqual(await fullRun(kind, ws.songs, ws.logs));
          const [gone] = await w.query<{ n: number }>(`SELECT COUNT(*) AS n FROM songs WHERE song_id = '${String(songs[0]!.song_id)}'`);
          expect(Number(gone!.n)).toBe(0);
        } finally {
          await ctx.cleanup();
        }
      });

      it('matches plays loaded before their song arrived, when it does', () => {
        expect(load(reports[4]!, 'load staging_songs').new).toBeGreaterThan(0);
        expect(load(reports[8]!, 'load staging_songs').new).toBeGreaterThan(0);
        // The first four days' plays gain matches on day 5 and day 9, when more of the catalogue arrives, and only then.
        expect(matched[4]).toBeGreaterThan(matched[3]!);
        expect(matched[7]).toBe(matched[4]);
        expect(matched[8]).toBeGreaterThan(matched[7]!);
      });
    });

    describe('a corrected day, a removed day, a backfilled gap', () => {
      const ws = workspace();
      let wh: Warehouse;
      let cleanup: () => Promise<void>;
      beforeAll(async () => {
        const ctx = await kind.open();
        wh = ctx.warehouse;
        cleanup = ctx.cleanup;
        await createTables(wh);
        for (const day of SAMPLE_DAYS) addSampleDay(ws.logs, day);
        await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs });
      });
      afterAll(async () => cleanup?.());

      it('replaces a corrected day: lines removed, lines changed, a user upgraded', async () => {
        const file = path.join(ws.logs, '2018/11', SAMPLE_DAYS[4]!);
        const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
        const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        const last = events.reduce((a, b) => (Number(b.ts) > Number(a.ts) ? b : a));
        const user = last.userId;
        const level = last.level === 'free' ? 'paid' : 'free';
        const corrected = events
          .filter((_, i) => i % 7 !== 3)
          .map((e, i) => (i % 11 === 0 ? { ...e, song: e.song === null ? null : `${String(e.song)} (live)` } : e))
          .map((e) => (e.userId === user && e.ts === last.ts ? { ...e, level } : e));
        writeFileSync(file, `${corrected.map((e) => JSON.stringify(e)).join('\n')}\n`);
        const before = await wh.query<{ n: number }>('SELECT COUNT(*) AS n FROM staging_events');
        const r = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs });
        expect(r.mode).toBe('incremental');
        expect(load(r, 'load staging_events')).toMatchObject({ files: 1, new: 0, changed: 1, unchanged: 29, rows: corrected.length, removedRecords: events.length });
        const after = await wh.query<{ n: number }>('SELECT COUNT(*) AS n FROM staging_events');
        expect(Number(after[0]!.n)).toBe(Number(before[0]!.n) - events.length + corrected.length);
        expect(await tables(wh)).toEqual(await fullRun(kind, SAMPLE_SONGS, ws.logs));
        // The user's level is that of their latest event, here the corrected one, unless a later day says otherwise.
        const [u] = await wh.query<{ level: string }>(`SELECT level FROM users WHERE user_id = ${Number(user)}`);
        const later = SAMPLE_DAYS.slice(5).some((d) => readFileSync(path.join(ws.logs, '2018/11', d), 'utf8').includes(`"userId":"${String(user)}"`));
        if (!later) expect(u!.level).toBe(level);
      });

      it('keeps a removed day unless asked to prune it, and says so', async () => {
        const gone = path.join(ws.logs, '2018/11', SAMPLE_DAYS[6]!);
        const saved = readFileSync(gone);
        unlinkSync(gone);
        const before = await tables(wh);
        const kept = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs });
        expect(load(kept, 'load staging_events')).toMatchObject({ files: 0, missing: 1, pruned: 0, removedRecords: 0 });
        expect(kept.warnings.join('\n')).toMatch(/1 file loaded before is no longer under .*2018-11-07-events\.json.*kept\. Run with --prune/);
        expect(await tables(wh)).toEqual(before);

        const pruned = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs, prune: true });
        expect(load(pruned, 'load staging_events')).toMatchObject({ files: 0, missing: 0, pruned: 1 });
        expect(load(pruned, 'load staging_events').removedRecords).toBeGreaterThan(0);
        expect(await tables(wh)).toEqual(await fullRun(kind, SAMPLE_SONGS, ws.logs));
        const [ledger] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM etl_files WHERE file_key LIKE '%${SAMPLE_DAYS[6]}'`);
        expect(Number(ledger!.n)).toBe(0);

        // Back again: a new file, loaded as any other.
        writeFileSync(gone, saved);
        const back = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs });
        expect(load(back, 'load staging_events')).toMatchObject({ files: 1, new: 1 });
        expect(await tables(wh)).toEqual(await fullRun(kind, SAMPLE_SONGS, ws.logs));
      });

      it('backfills a gap with --since/--until, equal to a full run', async () => {
        const ctx = await kind.open();
        try {
          const w = ctx.warehouse;
          await createTables(w);
          const first = await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs, until: '2018-11-09' });
          expect(first.mode).toBe('full');
          expect(load(first, 'load staging_events')).toMatchObject({ files: 9, outOfRange: 21 });
          const second = await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs, since: '2018-11-13' });
          expect(load(second, 'load staging_events')).toMatchObject({ files: 18, new: 18, unchanged: 0, outOfRange: 12 });
          const gap = await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs, since: '2018-11-10', until: '2018-11-12' });
          expect(load(gap, 'load staging_events')).toMatchObject({ files: 3, new: 3, unchanged: 0, missing: 0, outOfRange: 27 });
          expect(await tables(w)).toEqual(await fullRun(kind, SAMPLE_SONGS, ws.logs));
          const again = await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs });
          expect(load(again, 'load staging_events')).toMatchObject({ files: 0, unchanged: 30 });
        } finally {
          await ctx.cleanup();
        }
      });

      it('asks for a full refresh to replace a file whose rows a bulk load could not tell apart (Redshift), changing nothing', async () => {
        const ctx = await kind.open();
        try {
          const w = ctx.warehouse;
          await createTables(w);
          await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs });
          // What a full run on Redshift leaves: one COPY of the prefix, its rows without file ids, and no per-file counts.
          await w.execute('UPDATE staging_events SET file_id = NULL');
          await w.execute('UPDATE songplays SET file_id = NULL');
          await w.execute(`UPDATE etl_files SET loaded_rows = NULL, rejected_rows = NULL WHERE target_table = 'staging_events'`);
          const before = await everything(w);
          const file = path.join(ws.logs, '2018/11', SAMPLE_DAYS[9]!);
          const saved = readFileSync(file);
          writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(1).join('\n'));
          try {
            const err = await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs }).catch((e: unknown) => e);
            expect(err).toMatchObject({ code: 'FULL_REFRESH_NEEDED', hint: expect.stringContaining('--full-refresh') });
            expect(await everything(w)).toEqual(before);
            const full = await etl(w, { songs: SAMPLE_SONGS, logs: ws.logs, fullRefresh: true });
            expect(full.mode).toBe('full');
          } finally {
            writeFileSync(file, saved);
          }
        } finally {
          await ctx.cleanup();
        }
      });

      it('rebuilds in full when only matched plays are kept (a play left out could not be added when its song arrives)', async () => {
        const r = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs, matchedOnly: true });
        expect(r.mode).toBe('full');
        expect(r.modeReason).toMatch(/^--matched-only/);
        expect(r.counts.songplays).toBe(1);
        const back = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs, fullRefresh: true });
        expect(back.counts.songplays).toBeGreaterThan(1);
      });

      it('refuses a day that is not one, before touching anything', async () => {
        await expect(etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs, since: '2018-11-31' })).rejects.toMatchObject({ code: 'USAGE_INVALID' });
        await expect(etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs, since: '2018-11-20', until: '2018-11-10' })).rejects.toMatchObject({ code: 'USAGE_INVALID' });
      });

      it('rebuilds everything with --full-refresh, as a full run does', async () => {
        const r = await etl(wh, { songs: SAMPLE_SONGS, logs: ws.logs, fullRefresh: true });
        expect(r.mode).toBe('full');
        expect(r.modeReason).toBe('--full-refresh');
        expect(await tables(wh)).toEqual(await fullRun(kind, SAMPLE_SONGS, ws.logs));
        const [sp] = await wh.query<{ lo: number; hi: number }>('SELECT MIN(songplay_id) AS lo, MAX(songplay_id) AS hi FROM songplays');
        expect(sp).toEqual({ lo: 1, hi: Number((await wh.query<{ n: number }>('SELECT COUNT(*) AS n FROM songplays'))[0]!.n) });
      });
    });

    it('upgrades tables built before the ledger: counts still count them, status says why it cannot, and etl rebuilds them in full', async () => {
      const ctx = await kind.open();
      try {
        const w = ctx.warehouse;
        await createTables(w);
        await etl(w, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
        // What an earlier sparkify-dwh left: no ledger, no file ids.
        for (const sql of ['DROP TABLE etl_files', 'DROP TABLE etl_runs', ...['staging_events', 'staging_songs', 'songplays'].map((t) => `ALTER TABLE ${t} DROP COLUMN file_id`)]) await w.execute(sql);
        const counts = await countRows(w);
        expect(counts).toMatchObject({ staging_events: 8056, songplays: 6820 });
        expect(Object.keys(counts)).not.toContain('etl_files');
        await expect(loadStatus(w)).rejects.toMatchObject({ code: 'WAREHOUSE_NOT_READY', hint: expect.stringContaining('sparkify etl') });
        const r = await etl(w, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
        expect(r).toMatchObject({ mode: 'full', modeReason: 'the tables were built before sparkify-dwh kept a ledger of loaded files' });
        expect(r.counts).toMatchObject({ etl_files: 101, etl_runs: 1, songplays: 6820 });
        expect((await etl(w, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS })).mode).toBe('incremental');
      } finally {
        await ctx.cleanup();
      }
    });

    describe('a daily run that fails, at each stage, changes nothing; the next one completes it', () => {
      const ws = workspace();
      let wh: Warehouse;
      let cleanup: () => Promise<void>;
      let lateSong: string;
      beforeAll(async () => {
        const ctx = await kind.open();
        wh = ctx.warehouse;
        cleanup = ctx.cleanup;
        await createTables(wh);
        // All songs but the one the sample's single matched play needs; all days but the last.
        cpSync(SAMPLE_SONGS, ws.songs, { recursive: true });
        const songFiles = readdirSync(ws.songs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
        lateSong = songFiles.find((f) => readFileSync(path.join(ws.songs, f), 'utf8').includes('Setanta matins'))!;
        expect(lateSong).toBeDefined();
        const saved = readFileSync(path.join(ws.songs, lateSong));
        unlinkSync(path.join(ws.songs, lateSong));
        for (const day of SAMPLE_DAYS.slice(0, -1)) addSampleDay(ws.logs, day);
        await etl(wh, { songs: ws.songs, logs: ws.logs });
        writeFileSync(path.join(ws.songs, lateSong), saved);
        addSampleDay(ws.logs, SAMPLE_DAYS.at(-1)!);
        // And a corrected day: its old rows must go too.
        const third = path.join(ws.logs, '2018/11', SAMPLE_DAYS[2]!);
        writeFileSync(third, readFileSync(third, 'utf8').split('\n').filter((_, i) => i % 5 !== 0).join('\n'));
      });
      afterAll(async () => cleanup?.());

      // A statement's prefix, and which time it is sent (the last: the end of the run's transaction).
      const faults: [string, number][] = [
        ['CREATE TABLE _sparkify_next_staging_songs', 1],
        ['CREATE TABLE _sparkify_inc_songs', 1],
        ['INSERT INTO songs', 1],
        ['UPDATE songplays', 1],
        ['DELETE FROM etl_rejects', 1],
        ['CREATE TABLE _sparkify_inc_times', 1],
        ['DELETE FROM staging_events', 1],
        ['DELETE FROM songplays', 1],
        ['DELETE FROM users', 1],
        ['INSERT INTO songplays', 1],
        ['INSERT INTO users', 1],
        ['DELETE FROM time', 1],
        ['INSERT INTO time', 1],
        ['INSERT INTO etl_rejects', 1],
        ['DELETE FROM etl_files', 1],
        ['INSERT INTO etl_files', 1],
        ['INSERT INTO etl_runs', 1],
      ];
      for (const [prefix, nth] of faults) {
        it(`fails at "${prefix}…"${nth > 1 ? ` (its ${nth}nd time)` : ''} and leaves every table, the ledger too, as it was`, async () => {
          const before = await everything(wh);
          let seen = 0;
          // A daily run's scratch tables may be temporary ones: CREATE TEMPORARY TABLE counts as CREATE TABLE here.
          const statement = (sql: string) => sql.trimStart().replace(/^CREATE TEMPORARY TABLE/, 'CREATE TABLE');
          const faulty = withFaults(wh, (sql) => (statement(sql).startsWith(prefix) && ++seen === nth ? new Error(`injected failure: ${prefix}`) : undefined));
          await expect(etl(faulty.warehouse, { songs: ws.songs, logs: ws.logs, retries: 0 } as EtlOptions)).rejects.toThrow(/injected failure/);
          expect(seen).toBeGreaterThanOrEqual(nth);
          expect(await everything(wh)).toEqual(before);
        });
      }

      it('fails when a new file cannot be read, and changes nothing', async () => {
        const before = await everything(wh);
        const logs = await openSource(ws.logs);
        const broken: Source = Object.create(logs) as Source;
        Object.assign(broken, {
          localPath: () => undefined,
          read: () => Promise.reject(new Error('injected failure: read')),
          // eslint-disable-next-line require-yield
          stream: async function* () {
            throw new Error('injected failure: read');
          },
        });
        try {
          await expect(etl(wh, { songs: ws.songs, logs: broken, retries: 0 } as EtlOptions)).rejects.toThrow();
        } finally {
          await logs.close();
        }
        expect(await everything(wh)).toEqual(before);
      });

      it('then completes: the late song matches its play, and the tables are those of a full run', async () => {
        // The statements of the run's one transaction: the Redshift Data API takes at most 40 in its batch.
        let inTransaction = false;
        let statements = 0;
        const counted = new Proxy(wh, {
          get(target, prop) {
            if (prop === 'execute') return async (sql: string) => ((statements += inTransaction ? 1 : 0), target.execute(sql));
            if (prop === 'transaction') {
              return async <T>(fn: () => Promise<T>) => target.transaction(async () => {
                inTransaction = true;
                try {
                  return await fn();
                } finally {
                  inTransaction = false;
                }
              });
            }
            const v = Reflect.get(target, prop) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
        const r = await etl(counted, { songs: ws.songs, logs: ws.logs });
        expect(statements).toBeGreaterThan(20);
        expect(statements).toBeLessThanOrEqual(40);
        expect(r.mode).toBe('incremental');
        expect(load(r, 'load staging_songs')).toMatchObject({ files: 1, new: 1, unchanged: 70 });
        expect(load(r, 'load staging_events')).toMatchObject({ files: 2, new: 1, changed: 1, unchanged: 28 });
        const [m] = await wh.query<{ n: number }>('SELECT COUNT(*) AS n FROM songplays WHERE song_id IS NOT NULL');
        expect(Number(m!.n)).toBe(1);
        expect(await tables(wh)).toEqual(await fullRun(kind, ws.songs, ws.logs));
        // Nothing of the failed runs is left behind.
        const left = (await wh.query<{ name: string }>(kind.tablesSql)).map((t) => String(t.name)).filter((n) => n.startsWith('_sparkify'));
        expect(left).toEqual([]);
      });
    });
  });
}
