/**
 * `sparkify status` (loadStatus and the command) on every warehouse that runs
 * here: what the ledger (etl_files, etl_runs) says was loaded, as exact values;
 * the empty ledger; and a warehouse without the tables, which is an error,
 * as for `counts`, with nothing created. The ledger is filled here with
 * INSERTs (status only reads it), so the values are known exactly.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandOutput } from '../src/cli/output.js';
import { printStatus } from '../src/cli/status-command.js';
import { countRows, createTables } from '../src/pipeline/create-tables.js';
import { dayCoverage, dayOfKey, loadStatus, type LoadStatus, type RunStatus } from '../src/pipeline/status.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import { openWarehouse } from '../src/warehouses/open-warehouse.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { runCli, runMain } from './helpers/cli.js';
import { TEST_PG, testWarehouses, uniqueSchema, type OpenedTestWarehouse } from './warehouses.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `sparkify <args>` through the CLI's main function, in this process, with a clean environment plus `env`. */
async function sparkify(args: string[], env: Record<string, string> = {}) {
  return runMain(args, { env, cwd: dir });
}

interface Envelope {
  ok: boolean;
  command: string;
  warehouse?: string;
  result?: LoadStatus;
  error?: { code: string; message: string; hint?: string };
  warnings: string[];
}

// The ledger: files as [file_id, target_table, file_key, size, run_id, loaded_rows, rejected_rows].
type FileRow = [number, 'staging_events' | 'staging_songs', string, number, number, number | null, number | null];
const FILES: FileRow[] = [
  [1, 'staging_events', '2018/11/2018-11-01-events.json', 10_000, 1, 100, 1],
  [2, 'staging_events', '2018/11/2018-11-02-events.json', 20_000, 1, 200, 0],
  [3, 'staging_events', '2018/11/2018-11-05-events.json', 30_000, 12, 300, 1],
  // A bulk load that could not count per file (it gave 40 rows).
  [4, 'staging_events', '2018/11/2018-11-06-events.json', 40_000, 12, null, null],
  [5, 'staging_events', '2018/11/2018-11-10-events.json', 5_000, 11, 50, 0],
  [6, 'staging_events', '2018/12/2018-12-01-events.json', 6_000, 11, 60, 0],
  // Two days in the name: the last one counts (2018-11-02, already loaded).
  [7, 'staging_events', 'backfill/copy-of-2018-11-01-2018-11-02-events.json', 700, 2, 7, 0],
  // No day in the name, and no such day.
  [8, 'staging_events', 'notes/readme-events.json', 800, 2, 8, 0],
  [9, 'staging_events', 'bad/2018-02-30-events.json', 900, 2, 9, 0],
  [10, 'staging_songs', 'A/A/A/TRAAAAW128F429D538.json', 600, 1, 1, 0],
  [11, 'staging_songs', 'A/A/B/TRAABJL12903CDCF1A.json', 700, 1, 1, 0],
  [12, 'staging_songs', 'A/B/C/TRABC.json', 800, 3, 0, 1],
];

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC. */
const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

/** Run i (1 to 12) as status reads it back; run 10 did not record its end nor its unchanged files. */
function run(i: number): RunStatus {
  const started = Date.UTC(2018, 10, 1 + i, 6);
  const finished = i === 10 ? null : started + i * 1000 + 250;
  return {
    runId: i,
    mode: i === 1 ? 'full' : 'incremental',
    startedAt: ts(started),
    finishedAt: finished === null ? null : ts(finished),
    seconds: finished === null ? null : i + 0.25,
    files: { new: i, changed: i % 3, unchanged: i === 10 ? null : 10 * i, missing: i % 2, pruned: i % 4 === 0 ? 1 : 0 },
    recordsLoaded: i * 100,
    recordsRemoved: i * 10,
    rejected: i % 5,
    songplaysAdded: i * 80,
    // Beyond 2^32: the BIGINT column, read back exactly.
    lastSongplayId: 5_000_000_000 + i * 80,
  };
}

/** The test warehouse `t` again, after the CLI had it. */
async function reopen(name: string, t: OpenedTestWarehouse): Promise<Warehouse> {
  if (name === 'postgres') return PostgresWarehouse.open({ connection: TEST_PG, schema: t.env.SPARKIFY_SCHEMA! });
  return openWarehouse({ kind: 'duckdb', path: t.target }, { readOnly: true });
}

async function fillLedger(wh: Warehouse): Promise<void> {
  const d = wh.dialect;
  // Staging holds what the files gave it: their counts, and the 40 rows of the file not counted.
  const events = FILES.filter((f) => f[1] === 'staging_events').flatMap(([id, , , , , loaded]) => Array.from({ length: loaded ?? 40 }, (_, i) => `(${1_541_030_400_000 + id * 1000 + i})`));
  await wh.execute(`INSERT INTO staging_events (ts) VALUES ${events.join(', ')}`);
  await wh.execute("INSERT INTO staging_songs (song_id, artist_id) VALUES ('SOAAA', 'ARAAA'), ('SOAAB', 'ARAAB')");
  const q = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : d.quoteString(v));
  const files = FILES.map(([id, table, key, size, runId, loaded, rejected]) =>
    `(${[id, q(table), q(key), q(`file:///data/${key}`), size, q(String(1_541_030_400_000 + id)), runId, q(loaded), q(rejected)].join(', ')})`,
  );
  await wh.execute(`INSERT INTO etl_files (file_id, target_table, file_key, uri, ${d.columnName('size')}, marker, run_id, loaded_rows, rejected_rows) VALUES\n${files.join(',\n')}`);
  // Inserted out of order: status orders them.
  const runs = [5, 12, 1, 9, 3, 11, 7, 2, 10, 4, 8, 6].map((i) => {
    const r = run(i);
    const t = (v: string | null) => (v === null ? 'NULL' : `CAST(${q(v)} AS TIMESTAMP)`);
    const f = r.files;
    return `(${[r.runId, q(r.mode), t(r.startedAt), t(r.finishedAt), f.new, f.changed, q(f.unchanged), f.missing, f.pruned, r.recordsLoaded, r.recordsRemoved, r.rejected, r.songplaysAdded, r.lastSongplayId].join(', ')})`;
  });
  await wh.execute(
    'INSERT INTO etl_runs (run_id, mode, started_at, finished_at, files_new, files_changed, files_unchanged, files_missing, files_pruned, ' +
      `records_loaded, records_removed, rejected, songplays_added, last_songplay_id) VALUES\n${runs.join(',\n')}`,
  );
}

const FILLED: LoadStatus = {
  empty: false,
  logs: {
    table: 'staging_events',
    files: 9,
    stagingRows: 734 + 40,
    rows: 100 + 200 + 300 + 50 + 60 + 7 + 8 + 9,
    rowsUncounted: 1,
    rejected: 2,
    rejectedUncounted: 1,
    bytes: 113_400,
    lastLoadedBy: 12,
    days: 6,
    firstDay: '2018-11-01',
    lastDay: '2018-12-01',
    missingDays: 25,
    gaps: [
      { from: '2018-11-03', to: '2018-11-04', days: 2 },
      { from: '2018-11-07', to: '2018-11-09', days: 3 },
      { from: '2018-11-11', to: '2018-11-30', days: 20 },
    ],
    undatedFiles: 2,
  },
  songs: { table: 'staging_songs', files: 3, stagingRows: 2, rows: 2, rowsUncounted: 0, rejected: 1, rejectedUncounted: 0, bytes: 2_100, lastLoadedBy: 3 },
  lastRun: run(12),
  recentRuns: [12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map(run),
  runs: 12,
};

const EMPTY: LoadStatus = {
  empty: true,
  logs: {
    table: 'staging_events',
    files: 0,
    stagingRows: 0,
    rows: 0,
    rowsUncounted: 0,
    rejected: 0,
    rejectedUncounted: 0,
    bytes: 0,
    lastLoadedBy: null,
    days: 0,
    firstDay: null,
    lastDay: null,
    missingDays: 0,
    gaps: [],
    undatedFiles: 0,
  },
  songs: { table: 'staging_songs', files: 0, stagingRows: 0, rows: 0, rowsUncounted: 0, rejected: 0, rejectedUncounted: 0, bytes: 0, lastLoadedBy: null },
  lastRun: null,
  recentRuns: [],
  runs: 0,
};

describe('days from log file names', () => {
  it('takes the last YYYY-MM-DD of the name, when it is a real day', () => {
    expect(dayOfKey('2018/11/2018-11-01-events.json')).toBe('2018-11-01');
    expect(dayOfKey('log_data/2018-11-01/part-2018-11-03.json')).toBe('2018-11-03');
    expect(dayOfKey('2018-11-01/events.json')).toBeUndefined();
    expect(dayOfKey('2018-02-29-events.json')).toBeUndefined();
    expect(dayOfKey('2016-02-29-events.json')).toBe('2016-02-29');
  });

  it('gives the first and last day and the gaps between, across months and years', () => {
    expect(dayCoverage(['2018-12-30-events.json', '2019-01-02-events.json', '2018-12-31-events.json', 'x.json'])).toEqual({
      days: 3,
      firstDay: '2018-12-30',
      lastDay: '2019-01-02',
      missingDays: 1,
      gaps: [{ from: '2019-01-01', to: '2019-01-01', days: 1 }],
      undatedFiles: 1,
    });
    expect(dayCoverage(['2018-11-01-events.json', '2018-11-01-events-copy.json'])).toEqual({ days: 1, firstDay: '2018-11-01', lastDay: '2018-11-01', missingDays: 0, gaps: [], undatedFiles: 0 });
    expect(dayCoverage([])).toEqual({ days: 0, firstDay: null, lastDay: null, missingDays: 0, gaps: [], undatedFiles: 0 });
  });
});

describe('the summary for a person', () => {
  function printed(status: LoadStatus): string {
    let text = '';
    const stream = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
    printStatus(new CommandOutput({ stdout: stream, stderr: stream, env: {}, cwd: '/' }, {}, 'status'), status);
    return text;
  }

  it('says where the counts disagree, lists five gaps and counts the rest, and marks what a run did not record', () => {
    const gaps = Array.from({ length: 7 }, (_, i) => ({ from: `2018-11-${String(2 * i + 2).padStart(2, '0')}`, to: `2018-11-${String(2 * i + 2).padStart(2, '0')}`, days: 1 }));
    const bare: RunStatus = {
      runId: 1,
      mode: 'full',
      startedAt: null,
      finishedAt: null,
      seconds: null,
      files: { new: null, changed: null, unchanged: null, missing: null, pruned: null },
      recordsLoaded: null,
      recordsRemoved: null,
      rejected: null,
      songplaysAdded: null,
      lastSongplayId: null,
    };
    const text = printed({
      ...EMPTY,
      empty: false,
      logs: { ...EMPTY.logs, files: 8, stagingRows: 90, rows: 80, bytes: 2048, lastLoadedBy: 1, days: 8, firstDay: '2018-11-01', lastDay: '2018-11-15', missingDays: 7, gaps },
      songs: { ...EMPTY.songs, stagingRows: 5 },
      lastRun: bare,
      recentRuns: [bare],
      runs: 1,
    });
    expect(text).toContain("Event logs (staging_events): 8 files, 90 rows (the files' counts add up to 80), 2.0 KB; last loaded by run #1\n");
    expect(text).toContain('  gaps: 2018-11-02, 2018-11-04, 2018-11-06, 2018-11-08, 2018-11-10, and 2 more gaps\n');
    expect(text).toContain('Song files (staging_songs): no file recorded, yet staging_songs holds 5 rows\n');
    expect(text).toContain('Last run: #1 (full), start not recorded, not finished\n  files: – new, – changed, – unchanged, – missing, – pruned\n');
    expect(text).toContain('Runs, newest first:\n');
    expect(text).toMatch(/│ +1 │ full │ +│ +│ – +│ +– │ +– │ +– │ +– │/);
  });
});

for (const kind of testWarehouses()) {
  describe(`${kind.name}: sparkify status`, () => {
    let ctx: OpenedTestWarehouse;
    beforeAll(async () => {
      ctx = await kind.open();
      await createTables(ctx.warehouse);
      await fillLedger(ctx.warehouse);
    });
    afterAll(() => ctx?.cleanup());

    it('reads the files, rows, days, gaps and runs from the ledger', async () => {
      expect(await loadStatus(ctx.warehouse)).toEqual(FILLED);
    });

    it('an empty ledger says so, and suggests sparkify etl', async () => {
      const empty = await kind.open();
      try {
        await createTables(empty.warehouse);
        expect(await loadStatus(empty.warehouse)).toEqual(EMPTY);
        await empty.warehouse.close(); // the CLI opens it itself
        const text = await sparkify(['status', '-w', empty.target], empty.env);
        expect(text.code).toBe(0);
        expect(text.stdout).toBe('Nothing has been loaded yet: the tables exist, but no file or run is recorded.\nLoad the sources with `sparkify etl`.\n');
        const json = await sparkify(['status', '-w', empty.target, '--json'], empty.env);
        expect(json.code).toBe(0);
        expect(json.stderr).toBe('');
        expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, command: 'status', result: EMPTY, warnings: [] });
      } finally {
        await empty.cleanup();
      }
    });

    it('prints a summary and the recent runs, or the JSON envelope', async () => {
      await ctx.warehouse.close(); // the CLI opens the warehouse itself (a DuckDB file is one process's at a time)
      const text = await sparkify(['status', '-w', ctx.target], ctx.env);
      expect(text.code).toBe(0);
      expect(text.stderr).toMatch(/^sparkify: (DuckDB|PostgreSQL) /);
      const [summary, table] = text.stdout.split('Recent runs (10 of 12), newest first:\n');
      expect(summary).toBe(
        [
          'Event logs (staging_events): 9 files, 774 rows, 2 rejected, 110.7 KB; last loaded by run #12',
          '  days: 2018-11-01 to 2018-12-01, 6 days loaded, 25 days missing',
          '  gaps: 2018-11-03 to 2018-11-04 (2 days), 2018-11-07 to 2018-11-09 (3 days), 2018-11-11 to 2018-11-30 (20 days)',
          "  (put those days' files in the log source and run `sparkify etl` to fill them)",
          '  2 files with no YYYY-MM-DD day in their name',
          'Song files (staging_songs): 3 files, 2 rows, 1 rejected, 2.1 KB; last loaded by run #3',
          '',
          'Last run: #12 (incremental), started 2018-11-13 06:00:00 UTC, took 12.3 s',
          '  files: 12 new, 0 changed, 120 unchanged, 0 missing, 1 pruned',
          '  records: 1,200 loaded, 120 removed, 2 rejected; 960 songplays added',
          '',
          '',
        ].join('\n'),
      );
      const rows = table!.trimEnd().split('\n');
      expect(rows[1]).toMatch(/│ run │ mode +│ started \(UTC\) +│ +took │ files +│ loaded │ removed │ rejected │ songplays │/);
      // Newest first; every run's counts; a run that recorded no end has no time.
      const cells = rows.slice(3, -1).map((r) => r.split('│').slice(1, -1).map((c) => c.trim()));
      expect(cells.map((c) => c[0])).toEqual(['12', '11', '10', '9', '8', '7', '6', '5', '4', '3']);
      expect(cells[0]).toEqual(['12', 'incremental', '2018-11-13 06:00:00', '12.3 s', '12 new, 1 pruned', '1,200', '120', '2', '960']);
      expect(cells[2]).toEqual(['10', 'incremental', '2018-11-11 06:00:00', '', '10 new, 1 changed', '1,000', '100', '0', '800']);
      expect(cells[9]).toEqual(['3', 'incremental', '2018-11-04 06:00:00', '3.25 s', '3 new, 1 missing', '300', '30', '3', '240']);

      const json = await sparkify(['--json', 'status', '-w', ctx.target], ctx.env);
      expect(json.code).toBe(0);
      expect(json.stderr).toBe('');
      const envelope = JSON.parse(json.stdout) as Envelope;
      expect(envelope).toEqual({ ok: true, command: 'status', warehouse: expect.stringMatching(/^(DuckDB|PostgreSQL) /), result: FILLED, warnings: [] });
    });

    it('a warehouse without the tables: the error counts gives, and nothing is created', async () => {
      const bare = await kind.open();
      try {
        const err = await loadStatus(bare.warehouse).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'WAREHOUSE_NOT_READY' });
        expect(await countRows(bare.warehouse).catch((e: unknown) => e)).toMatchObject({ code: (err as { code: string }).code });
        expect(await bare.warehouse.query(kind.tablesSql)).toEqual([]);
        await bare.warehouse.close();
        const status = await sparkify(['status', '-w', bare.target, '--json'], bare.env);
        const counts = await sparkify(['counts', '-w', bare.target, '--json'], bare.env);
        expect(status.code).toBe(1);
        expect(status.code).toBe(counts.code);
        expect((JSON.parse(status.stdout) as Envelope).error!.code).toBe((JSON.parse(counts.stdout) as Envelope).error!.code);
        const text = await sparkify(['status', '-w', bare.target], bare.env);
        expect(text.stderr).toContain('error [WAREHOUSE_NOT_READY]: Table staging_events does not exist');
        expect(text.stderr).toContain('sparkify create-tables');
        const again = await reopen(kind.name, bare);
        try {
          expect(await again.query(kind.tablesSql)).toEqual([]);
        } finally {
          await again.close();
        }
      } finally {
        await bare.cleanup();
      }
    });

    it('tables made before the ledger: WAREHOUSE_NOT_READY, naming the ledger table', async () => {
      const old = await kind.open();
      try {
        await createTables(old.warehouse);
        await old.warehouse.execute('DROP TABLE etl_runs');
        await expect(loadStatus(old.warehouse)).rejects.toMatchObject({ code: 'WAREHOUSE_NOT_READY', message: expect.stringContaining('etl_runs') });
      } finally {
        await old.cleanup();
      }
    });
  });
}

describe('sparkify status only reads', () => {
  it('a missing DuckDB file or PostgreSQL schema is WAREHOUSE_NOT_READY, as for counts, and is not created', async () => {
    const file = path.join(dir, 'never-made', 'never-made.duckdb');
    const duck = await sparkify(['status', '-w', file]);
    expect(duck.code).toBe(1);
    expect(duck.stderr).toContain(`error [WAREHOUSE_NOT_READY]: The DuckDB database ${file} does not exist; nothing was created, since this command only reads.`);
    expect(existsSync(path.dirname(file))).toBe(false);
    if (!testWarehouses().some((w) => w.name === 'postgres')) return;
    const schema = uniqueSchema('sparkify_status_typo');
    const pg = await sparkify(['status', '--json', '-w', `postgres://${TEST_PG.user}@${TEST_PG.host}:${TEST_PG.port}/${TEST_PG.database}`, '--schema', schema]);
    expect(pg.code).toBe(1);
    expect((JSON.parse(pg.stdout) as Envelope).error).toMatchObject({ code: 'WAREHOUSE_NOT_READY', message: expect.stringContaining(`Schema ${schema} on`) });
    const admin = await PostgresWarehouse.open({ connection: TEST_PG, schema: 'public' });
    try {
      expect(await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname = '${schema}'`)).toEqual([]);
    } finally {
      await admin.close();
    }
  });

  it('is a command of the built binary, with its own help', async () => {
    const help = await runCli(['status', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: sparkify status [options]');
    expect(help.stdout).toContain('$ sparkify status');
    const missing = await runCli(['status', '--json', '-w', path.join(dir, 'missing.duckdb')], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, command: 'status', error: { code: 'WAREHOUSE_NOT_READY' } });
  });
});
