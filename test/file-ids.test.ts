/**
 * Every staging row says which source file it came from (file_id), on every
 * warehouse and every loading path: DuckDB's files read in place, its spool
 * files (many small files or S3 objects joined into one), its exact path, and
 * PostgreSQL's COPY. The expected rows per file are counted here by reading
 * the files with Node (non-blank lines of an event log, one per song file),
 * sharing nothing with the loaders; the ids are far apart and out of step
 * with the file order, so a wrong mapping shows.
 */
import crypto from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTables } from '../src/pipeline/create-tables.js';
import { stagingEvents, stagingSongs, type Table } from '../src/schema/tables.js';
import { LocalSource } from '../src/sources/local.js';
import { openSource } from '../src/sources/open-source.js';
import { S3Source } from '../src/sources/s3.js';
import type { Source, SourceFile } from '../src/sources/source.js';
import { duckdbLoadPlan } from '../src/warehouses/duckdb/duckdb-load.js';
import { spool } from '../src/warehouses/duckdb/duckdb-scratch.js';
import { DuckDBWarehouse, type DuckDBWarehouseOptions } from '../src/warehouses/duckdb/duckdb-warehouse.js';
import type { StagingInput, StagingLoadResult, Warehouse } from '../src/warehouses/warehouse.js';
import { FIXTURES, SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from './helpers/s3rver.js';
import { runsHere, testWarehouses } from './warehouses.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sparkify-file-ids-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Far apart, and not in the order of the files. */
const idOf = (i: number) => 100 + 7 * i;

/** Records per file as Node counts them: non-blank lines of an event log, one per (sample) song file. */
function countRecords(file: string, format: 'ndjson' | 'json'): number {
  if (format === 'json') return 1;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
}

/** Every `*.json` below `dir`, sorted by path below it (as sources list them). */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.json') && statSync(path.join(dir, p)).isFile())
    .map((p) => p.split(path.sep).join('/'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((p) => path.join(dir, p));
}

/** `{ id: rows }` for files whose counts are given by key (relative path), ids by listing order. */
function expectedByKey(files: readonly SourceFile[], counts: Record<string, number>): Record<number, number> {
  const out: Record<number, number> = {};
  files.forEach((f, i) => {
    const n = counts[f.key];
    if (n === undefined) throw new Error(`no expected count for ${f.key}`);
    if (n > 0) out[idOf(i)] = n;
  });
  return out;
}

/** The expected `{ id: rows }` of a folder of clean files, counted from the files themselves. */
function expectedClean(dir: string, files: readonly SourceFile[], format: 'ndjson' | 'json'): Record<number, number> {
  const paths = walk(dir);
  expect(files.map((f) => f.key)).toEqual(paths.map((p) => path.relative(dir, p).split(path.sep).join('/')));
  return Object.fromEntries(paths.map((p, i) => [idOf(i), countRecords(p, format)]));
}

/** `{ id: rows }` of a staging table, NULL ids under -1. */
async function rowsByFile(wh: Warehouse, table: string): Promise<Record<number, number>> {
  const rows = await wh.query<{ file_id: number | null; n: number | bigint }>(`SELECT file_id, COUNT(*) AS n FROM ${table} GROUP BY file_id`);
  return Object.fromEntries(rows.map((r) => [r.file_id === null ? -1 : Number(r.file_id), Number(r.n)]));
}

async function clear(wh: Warehouse): Promise<void> {
  await wh.execute('DELETE FROM staging_events; DELETE FROM staging_songs; DELETE FROM etl_rejects');
}

interface Loaded {
  result: StagingLoadResult;
  files: SourceFile[];
}

/** Lists `location` (a folder or a Source) and loads it into the real staging table, with ids 100 + 7i (or none). */
async function load(wh: Warehouse, table: Table, location: string | Source, options: { ids?: boolean } = {}): Promise<Loaded> {
  const source = typeof location === 'string' ? await openSource(location) : location;
  try {
    const files = await source.list();
    const input: StagingInput = {
      into: { rows: table.name, rejects: 'etl_rejects' },
      source,
      files,
      format: table === stagingSongs ? 'json' : 'ndjson',
      ...(options.ids === false ? {} : { fileIds: files.map((_, i) => idOf(i)) }),
    };
    return { result: await wh.loadStaging(table, input), files };
  } finally {
    if (typeof location === 'string') await source.close();
  }
}

/** A folder of event logs: two clean days of the sample around one holding a malformed line and a record to reject. */
function logsWithBadLines(): { dir: string; counts: Record<string, number>; bad: string } {
  const dir = path.join(tmp, 'bad-day');
  mkdirSync(dir, { recursive: true });
  const day = (d: string) => readFileSync(path.join(SAMPLE_LOGS, `2018/11/2018-11-${d}-events.json`), 'utf8').trimEnd().split('\n');
  const [one, two, three] = [day('05'), day('06'), day('07')];
  const mid = Math.floor(two.length / 2);
  writeFileSync(path.join(dir, 'a.json'), `${one.join('\n')}\n`);
  // A line cut short (invalid JSON) and one without its required ts, among good ones.
  writeFileSync(path.join(dir, 'b.json'), [...two.slice(0, mid), '{"artist": "cut short", "ts": 15', ...two.slice(mid), '{"page": "Home", "userId": "7"}'].join('\n'));
  writeFileSync(path.join(dir, 'c.json'), `${three.join('\n')}\n`);
  return { dir, counts: { 'a.json': one.length, 'b.json': two.length, 'c.json': three.length }, bad: path.join(dir, 'b.json') };
}

const badLogs = logsWithBadLines();

/** Good records per file of test/fixtures/odd-songs: TRBAD's 4 lines are all rejected (1999.5 is no year); TRMULTI has 2; TRPRETTY 1 over 13 lines. */
const ODD_SONGS = { 'A/A/TRBAD0001.json': 0, 'A/A/TRMULTI0001.json': 2, 'A/A/TRPRETTY0001.json': 1 };

for (const kind of testWarehouses()) {
  describe(`${kind.name}: file_id on staging rows`, () => {
    let ctx: Awaited<ReturnType<typeof kind.open>>;
    beforeAll(async () => {
      ctx = await kind.open();
      await createTables(ctx.warehouse);
    });
    afterAll(() => ctx?.cleanup());

    it('gives every row of the real sample its own file id', async () => {
      const wh = ctx.warehouse;
      await clear(wh);
      const songs = await load(wh, stagingSongs, SAMPLE_SONGS);
      const logs = await load(wh, stagingEvents, SAMPLE_LOGS);
      expect(songs.files).toHaveLength(71);
      expect(logs.files).toHaveLength(30);
      expect(await rowsByFile(wh, 'staging_songs')).toEqual(expectedClean(SAMPLE_SONGS, songs.files, 'json'));
      expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedClean(SAMPLE_LOGS, logs.files, 'ndjson'));
      expect(songs.result.rows + logs.result.rows).toBe(71 + 8056);
    });

    it("gives the good records of a file with rejects that file's id; its rejects go to etl_rejects", async () => {
      const wh = ctx.warehouse;
      await clear(wh);
      const { result, files } = await load(wh, stagingEvents, badLogs.dir);
      expect(result.rejected).toBe(2);
      expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedByKey(files, badLogs.counts));
      const rejects = await wh.query<{ source: string; n: number | bigint }>('SELECT source, COUNT(*) AS n FROM etl_rejects GROUP BY source');
      expect(rejects.map((r) => [r.source, Number(r.n)])).toEqual([[badLogs.bad, 2]]);
    });

    it('gives huge records (checked in Node on the exact path) their file id too', async () => {
      const wh = ctx.warehouse;
      await clear(wh);
      const dir = path.join(tmp, `huge-${kind.name}`);
      mkdirSync(dir, { recursive: true });
      const lines = readFileSync(path.join(SAMPLE_LOGS, '2018/11/2018-11-03-events.json'), 'utf8').trimEnd().split('\n');
      const pad = 'x'.repeat(1_500_000);
      writeFileSync(path.join(dir, 'a.json'), `${lines.slice(0, 5).join('\n')}\n`);
      // Two good records, one of them over 1 MB; one huge record to reject.
      writeFileSync(path.join(dir, 'b.json'), [lines[5], `{"pad": "${pad}", ${lines[6]!.slice(1)}`, `{"ts": "soon", "pad": "${pad}"}`].join('\n'));
      const { result, files } = await load(wh, stagingEvents, dir);
      expect(result.rejected).toBe(1);
      expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedByKey(files, { 'a.json': 5, 'b.json': 2 }));
    });

    it('leaves file_id NULL without file ids', async () => {
      const wh = ctx.warehouse;
      await clear(wh);
      await load(wh, stagingSongs, SAMPLE_SONGS, { ids: false });
      await load(wh, stagingEvents, badLogs.dir, { ids: false });
      expect(await rowsByFile(wh, 'staging_songs')).toEqual({ [-1]: 71 });
      const good = Object.values(badLogs.counts).reduce((a, b) => a + b, 0);
      expect(await rowsByFile(wh, 'staging_events')).toEqual({ [-1]: good });
    });
  });
}

describe.runIf(runsHere('duckdb'))('duckdb: file_id on every loading path', () => {
  const PATHS: [string, DuckDBWarehouseOptions][] = [
    ['read in place', { directMinBytes: 0 }],
    ['spooled', { directMinBytes: Number.POSITIVE_INFINITY, spoolMinFiles: 0 }],
    ['spooled in small spool files', { directMinBytes: Number.POSITIVE_INFINITY, spoolMinFiles: 0, spoolBytes: 20_000 }],
    ['the exact path', { fastPath: false }],
    ['the exact path in small chunks', { fastPath: false, chunkRecords: 100 }],
  ];

  async function withDuckDB<T>(options: DuckDBWarehouseOptions, fn: (wh: DuckDBWarehouse) => Promise<T>): Promise<T> {
    const wh = await DuckDBWarehouse.open(':memory:', options);
    try {
      await createTables(wh);
      return await fn(wh);
    } finally {
      await wh.close();
    }
  }

  for (const [name, options] of PATHS) {
    it(`${name}: the real sample`, async () => {
      await withDuckDB(options, async (wh) => {
        const songs = await load(wh, stagingSongs, SAMPLE_SONGS);
        const logs = await load(wh, stagingEvents, SAMPLE_LOGS);
        expect(await rowsByFile(wh, 'staging_songs')).toEqual(expectedClean(SAMPLE_SONGS, songs.files, 'json'));
        expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedClean(SAMPLE_LOGS, logs.files, 'ndjson'));
        // The fast paths take the sample whole: its ids came from them, not from the exact path.
        const exact = options.fastPath === false ? [71, 30] : [0, 0];
        expect([songs.result.exactFiles, logs.result.exactFiles]).toEqual(exact);
      });
    });

    it(`${name}: a file with rejects next to clean ones`, async () => {
      await withDuckDB(options, async (wh) => {
        const { result, files } = await load(wh, stagingEvents, badLogs.dir);
        expect(result.rejected).toBe(2);
        // Read in place, only the file with rejects takes the exact path; a spool file holding it goes there whole.
        if (name === 'read in place') expect(result.exactFiles).toBe(1);
        if (options.fastPath === false) expect(result.exactFiles).toBe(3);
        expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedByKey(files, badLogs.counts));
        expect(await wh.query('SELECT source FROM etl_rejects')).toEqual([{ source: badLogs.bad }, { source: badLogs.bad }]);
      });
    });

    it(`${name}: odd song files (several records, pretty-printed, malformed)`, async () => {
      const dir = path.join(FIXTURES, 'odd-songs');
      const counts = ODD_SONGS;
      expect(readFileSync(path.join(dir, 'A/A/TRBAD0001.json'), 'utf8').trim().split('\n')).toHaveLength(4);
      await withDuckDB(options, async (wh) => {
        const { result, files } = await load(wh, stagingSongs, dir);
        expect(result.rejected).toBe(4);
        expect(await rowsByFile(wh, 'staging_songs')).toEqual(expectedByKey(files, counts));
      });
    });
  }

  /**
   * Song files that test what the spool may and may not put an id into, with
   * their records; with `breakers`, also two that make the spool's fast
   * statement fail (so the whole spool file takes the exact path).
   */
  function oddSpoolSongs(breakers: boolean): { dir: string; counts: Record<string, number> } {
    const dir = path.join(tmp, breakers ? 'spool-songs-breakers' : 'spool-songs');
    mkdirSync(dir, { recursive: true });
    const song = (n: number, extra = '') => `{${extra}"num_songs": 1, "artist_id": "AR${n}", "song_id": "SO${n}", "title": "t${n}", "duration": 1.5, "year": 2000}`;
    const files: [string, string, number][] = [
      ['01-plain.json', `${song(1)}\n`, 1],
      ['02-no-newline.json', song(2), 1],
      ['03-blanks-crlf-indent.json', `\r\n  \t${song(3)}\r\n\n   ${song(4)}  \r\n\r\n`, 2],
      ['04-bom.json', `\uFEFF${song(5)}\n`, 1],
      ['05-space-after-brace.json', `{  "num_songs": 1, "artist_id": "AR6", "song_id": "SO6"}\n{\t"artist_id": "AR7", "song_id": "SO7"}\n`, 2],
      ['06-pretty.json', JSON.stringify({ num_songs: 1, artist_id: 'AR8', song_id: 'SO8', title: 'pretty' }, null, 2), 1],
      ['07-plain.json', `${song(9)}\n${song(10)}\n`, 2],
      ['08-two-on-a-line.json', `${song(11)} ${song(12)}\n`, 2],
      ['09-plain.json', `${song(13)}\n`, 1],
      // A record that holds the spool's key itself, claiming another file: it must still get its own.
      ['10-own-key.json', `${song(14, '"_sparkify_file_id": 100, ')}\n`, 1],
      ['11-plain.json', `${song(15)}\n`, 1],
      ['12-array.json', `[${song(16)}]\n`, 0],
      ['13-lone-brace-at-end.json', `${song(17)}\n{`, 1],
      ['14-plain.json', `${song(18)}\n`, 1],
      ['15-empty.json', '', 0],
      ['16-blank.json', '\n  \n', 0],
    ];
    const kept = breakers ? files : files.filter(([name]) => !/two-on-a-line|own-key/.test(name));
    for (const [name, text] of kept) writeFileSync(path.join(dir, name), text);
    return { dir, counts: Object.fromEntries(kept.map(([name, , n]) => [name, n])) };
  }

  it('spooled: files the spool cannot put ids into take the exact path, the rest stays on the fast path', async () => {
    const { dir, counts } = oddSpoolSongs(false);
    await withDuckDB({ directMinBytes: Number.POSITIVE_INFINITY, spoolMinFiles: 0 }, async (wh) => {
      const { result, files } = await load(wh, stagingSongs, dir);
      // Pretty-printed, an array, a lone `{` at the end.
      expect(result.exactFiles).toBe(3);
      expect(await rowsByFile(wh, 'staging_songs')).toEqual(expectedByKey(files, counts));
    });
  });

  it('every path: odd files, and records that make the spool fail, keep their own file', async () => {
    const { dir, counts } = oddSpoolSongs(true);
    for (const [name, options] of PATHS) {
      await withDuckDB(options, async (wh) => {
        const { result, files } = await load(wh, stagingSongs, dir);
        // Two records on a line, or one holding the spool's key, send its whole spool file to the exact path.
        if (name === 'spooled') expect(result.exactFiles).toBe(files.length);
        expect(await rowsByFile(wh, 'staging_songs'), name).toEqual(expectedByKey(files, counts));
      });
    }
  });

  it('spooled: a file left out is taken back from the spool file', async () => {
    const { dir } = oddSpoolSongs(true);
    const source = new LocalSource(dir);
    const files = await source.list();
    const out = path.join(tmp, 'spool-out.json');
    const left = await spool(source, files, out, files.map((_, i) => idOf(i)));
    const byName = (name: string) => files.findIndex((f) => f.key === name);
    // Left out: pretty-printed, an array, a lone `{` at the end.
    expect(left.map((i) => files[i]!.key)).toEqual(['06-pretty.json', '12-array.json', '13-lone-brace-at-end.json']);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toContain('pretty');
    expect(text).not.toContain('SO16');
    expect(text).not.toContain('SO17');
    expect(text.startsWith(`{"_sparkify_file_id":${idOf(0)},"num_songs": 1,`)).toBe(true);
    expect(text).toContain(`\r\n  \t{"_sparkify_file_id":${idOf(byName('03-blanks-crlf-indent.json'))},"num_songs"`);
    expect(text).toContain(`{"_sparkify_file_id":${idOf(byName('05-space-after-brace.json'))}  ,"num_songs"`);
    expect(text).toContain(`{"_sparkify_file_id":${idOf(byName('10-own-key.json'))},"_sparkify_file_id": 100, `);
    expect(text).not.toContain('\uFEFF');
    // Every record is on a line of its own, with the id of its file.
    const records = text.split('\n').filter((l) => l.trim() !== '');
    expect(records.every((l) => l.trimStart().startsWith('{"_sparkify_file_id":'))).toBe(true);

    // Without ids, the files are joined as they are (a BOM dropped, a newline after each that lacks one).
    const plain = path.join(tmp, 'spool-plain.json');
    expect(await spool(source, files, plain)).toEqual([]);
    const joined = files.map((f) => readFileSync(path.join(dir, f.key), 'utf8').replace(/^\uFEFF/, '')).map((t) => (t === '' || t.endsWith('\n') ? t : `${t}\n`));
    expect(readFileSync(plain, 'utf8')).toBe(joined.join(''));
  });

  it('spooled: a large file left out after part of it was written is taken back, and the next file is written over it', async () => {
    const dir = path.join(tmp, 'big-spool');
    mkdirSync(dir, { recursive: true });
    const lines = readFileSync(path.join(SAMPLE_LOGS, '2018/11/2018-11-15-events.json'), 'utf8').trimEnd().split('\n');
    // Over the 8 MiB read whole, and the spool's 1 MiB writes: streamed, several writes before the bad end.
    const big: string[] = [];
    while (big.join('\n').length < 9 << 20) big.push(...lines);
    writeFileSync(path.join(dir, 'a.json'), `${lines.slice(0, 10).join('\n')}\n`);
    writeFileSync(path.join(dir, 'b.json'), `${big.join('\n')}\n[1]\n`);
    writeFileSync(path.join(dir, 'c.json'), `${lines.slice(10, 40).join('\n')}\n`);
    const counts = { 'a.json': 10, 'b.json': big.length, 'c.json': 30 };
    // The spool file holds a and c only, each record with its id: b's bytes written before its end are gone.
    const source = new LocalSource(dir);
    const out = path.join(tmp, 'big-spool.json');
    expect(await spool(source, await source.list(), out, [idOf(0), idOf(1), idOf(2)])).toEqual([1]);
    const inject = (ls: string[], id: number) => ls.map((l) => `{"_sparkify_file_id":${id},${l.slice(1)}\n`).join('');
    expect(readFileSync(out, 'utf8')).toBe(inject(lines.slice(0, 10), idOf(0)) + inject(lines.slice(10, 40), idOf(2)));
    await withDuckDB({ directMinBytes: Number.POSITIVE_INFINITY, spoolMinFiles: 0 }, async (wh) => {
      const { result, files } = await load(wh, stagingEvents, dir);
      expect(result.exactFiles).toBe(1);
      expect(result.rejected).toBe(1);
      expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedByKey(files, counts));
    });
  });

  it('S3 objects (always spooled) carry their ids; the listing gives each its ETag', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    let s3: RunningS3rver | undefined;
    const opened: S3Source[] = [];
    try {
      s3 = await startS3rver({ buckets: ['sparkify'] });
      expect(await s3.uploadFolder(SAMPLE_LOGS, 'sparkify', 'log_data')).toBe(30);
      expect(await s3.uploadFolder(path.join(FIXTURES, 'odd-songs'), 'sparkify', 'song_data')).toBe(3);
      const open = async (prefix: string) => {
        const source = await S3Source.create(`s3://sparkify/${prefix}`, { s3Endpoint: s3!.endpoint, s3Region: s3!.region });
        opened.push(source);
        return source;
      };
      const logs = await open('log_data');
      const listed = await logs.list();
      // ETag: the MD5 of the bytes (a single-part upload), without S3's quotes.
      const md5 = (key: string) => crypto.createHash('md5').update(readFileSync(path.join(SAMPLE_LOGS, key))).digest('hex');
      expect(listed.map((f) => f.etag)).toEqual(listed.map((f) => md5(f.key)));
      await withDuckDB({}, async (wh) => {
        const events = await load(wh, stagingEvents, logs);
        expect(events.result.exactFiles).toBe(0);
        expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedClean(SAMPLE_LOGS, events.files, 'ndjson'));
        const songs = await load(wh, stagingSongs, await open('song_data'));
        expect(await rowsByFile(wh, 'staging_songs')).toEqual(expectedByKey(songs.files, ODD_SONGS));
      });
    } finally {
      for (const s of opened) await s.close();
      await s3?.stop();
      vi.unstubAllEnvs();
    }
  });

  it("a dry run's statements fill file_id, and the one over files read in place runs as planned", async () => {
    const source = new LocalSource(SAMPLE_LOGS);
    const files = await source.list();
    const input: StagingInput = { into: { rows: 'staging_events', rejects: 'etl_rejects' }, source, files, format: 'ndjson', fileIds: files.map((_, i) => idOf(i)) };
    const [inPlace] = duckdbLoadPlan(stagingEvents, input);
    expect(inPlace!.sql).toMatch(/INSERT INTO staging_events \([^)]*, file_id\)/);
    const [spooled] = duckdbLoadPlan(stagingEvents, input, { directMinBytes: Number.POSITIVE_INFINITY, spoolMinFiles: 0 });
    expect(spooled!.sql).toContain('_sparkify_file_id');
    expect(duckdbLoadPlan(stagingEvents, { ...input, fileIds: undefined })[0]!.sql).not.toContain('file_id');
    await withDuckDB({}, async (wh) => {
      await wh.execute(inPlace!.sql!);
      expect(await rowsByFile(wh, 'staging_events')).toEqual(expectedClean(SAMPLE_LOGS, files, 'ndjson'));
    });
  });

  it('refuses file ids that do not match the files', async () => {
    await withDuckDB({}, async (wh) => {
      const source = new LocalSource(SAMPLE_LOGS);
      const files = await source.list();
      const input: StagingInput = { into: { rows: 'staging_events', rejects: 'etl_rejects' }, source, files, format: 'ndjson' };
      await expect(wh.loadStaging(stagingEvents, { ...input, fileIds: [1, 2] })).rejects.toThrow(/2 file ids for 30 files/);
      await expect(wh.loadStaging(stagingEvents, { ...input, fileIds: files.map(() => 1.5) })).rejects.toThrow(/not a 32-bit integer/);
      expect(await rowsByFile(wh, 'staging_events')).toEqual({});
    });
  });
});
