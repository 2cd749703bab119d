/**
 * DuckDB's loading paths must agree: files read in place by DuckDB's own
 * reader, files joined into spool files first, and the exact path (Node splits,
 * SQL applies the full rules) give the same tables, whatever the input.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import { DuckDBWarehouse, type DuckDBWarehouseOptions } from '../src/warehouses/duckdb/duckdb-warehouse.js';
import { writeEdgeFixtures } from './helpers/edge-fixtures.js';
import { FIXTURES, SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { comparedColumns, dump } from './warehouses.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sparkify-duckdb-paths-'));
const edge = writeEdgeFixtures();
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(edge.dir, { recursive: true, force: true });
});

async function build(options: DuckDBWarehouseOptions, songs: string, logs: string) {
  const wh = await DuckDBWarehouse.open(':memory:', options);
  try {
    await createTables(wh);
    const report = await etl(wh, { songs, logs });
    const tables: Record<string, unknown[][]> = {};
    for (const t of ALL_TABLES) tables[t.name] = await dump(wh, t.name, comparedColumns(t));
    return { report, tables };
  } finally {
    await wh.close();
  }
}

const inputs: [string, string, string][] = [
  ['the real sample', SAMPLE_SONGS, SAMPLE_LOGS],
  ['odd and malformed files', path.join(FIXTURES, 'odd-songs'), path.join(FIXTURES, 'bad-logs')],
  ['values at the edges of the rules', edge.songs, edge.logs],
];

const IN_PLACE = { directMinBytes: 0 };
const SPOOLED = { directMinBytes: Number.POSITIVE_INFINITY, spoolMinFiles: 0 };
const EXACT = { fastPath: false };

describe('duckdb: loading paths agree', () => {
  for (const [name, songs, logs] of inputs) {
    it(`${name}: read in place = spooled = the exact path`, async () => {
      const exact = await build(EXACT, songs, logs);
      for (const options of [IN_PLACE, SPOOLED]) {
        const fast = await build(options, songs, logs);
        expect(fast.tables).toEqual(exact.tables);
        expect(fast.report.rejected).toBe(exact.report.rejected);
        expect(fast.report.stages.map((s) => [s.rows, s.files, s.bytes])).toEqual(exact.report.stages.map((s) => [s.rows, s.files, s.bytes]));
      }
    });
  }

  it('takes the real sample whole through the fast path, in place or spooled', async () => {
    for (const options of [IN_PLACE, SPOOLED]) {
      const { report } = await build(options, SAMPLE_SONGS, SAMPLE_LOGS);
      expect(report.stages.slice(0, 2).map((s) => [s.files, s.exactFiles])).toEqual([
        [71, 0],
        [30, 0],
      ]);
    }
    const { report } = await build(EXACT, SAMPLE_SONGS, SAMPLE_LOGS);
    expect(report.stages.slice(0, 2).map((s) => s.exactFiles)).toEqual([71, 30]);
  });

  it('sends only the files with a record to reject or coerce to the exact path', async () => {
    const dir = path.join(tmp, 'one-bad-day');
    mkdirSync(dir, { recursive: true });
    const day = (d: string) => readFileSync(path.join(SAMPLE_LOGS, `2018/11/2018-11-${d}-events.json`));
    writeFileSync(path.join(dir, '01.json'), day('01'));
    writeFileSync(path.join(dir, '02.json'), Buffer.concat([day('02'), Buffer.from('\n{"ts": "soon", "page": "Home"}\n{"ts": 1541105830796, "userId": 42}')]));
    writeFileSync(path.join(dir, '03.json'), day('03'));
    const fast = await build(IN_PLACE, SAMPLE_SONGS, dir);
    expect(fast.report.stages[1]).toMatchObject({ files: 3, exactFiles: 1, rejected: 1 });
    expect(fast.tables).toEqual((await build(EXACT, SAMPLE_SONGS, dir)).tables);
  });

  it('small groups, spool files and chunks give the same tables as one big one', async () => {
    const a = await build({}, SAMPLE_SONGS, SAMPLE_LOGS);
    const b = await build({ ...IN_PLACE, groupBytes: 200_000, spoolBytes: 1000, chunkRecords: 1000 }, SAMPLE_SONGS, SAMPLE_LOGS);
    const c = await build({ ...SPOOLED, spoolBytes: 200_000 }, SAMPLE_SONGS, SAMPLE_LOGS);
    const d = await build({ ...EXACT, chunkRecords: 1000 }, SAMPLE_SONGS, SAMPLE_LOGS);
    expect(b.tables).toEqual(a.tables);
    expect(c.tables).toEqual(a.tables);
    expect(d.tables).toEqual(a.tables);
  });

  it('sends a file DuckDB cannot read as text to the exact path, and loses nothing', async () => {
    const dir = path.join(tmp, 'latin1');
    mkdirSync(dir, { recursive: true });
    const good = readFileSync(path.join(SAMPLE_LOGS, '2018/11/2018-11-01-events.json'));
    // A byte that is not UTF-8 inside a string (a Latin-1 é), as exported by an old tool.
    const bad = Buffer.concat([Buffer.from('{"artist":"Caf'), Buffer.from([0xe9]), Buffer.from('","page":"Home","ts":1541105830796}\n')]);
    writeFileSync(path.join(dir, 'a.json'), Buffer.concat([good, Buffer.from('\n'), bad]));
    const a = await build(IN_PLACE, SAMPLE_SONGS, dir);
    const b = await build(EXACT, SAMPLE_SONGS, dir);
    expect(a.tables).toEqual(b.tables);
    expect(a.tables.staging_events).toHaveLength(good.toString().split('\n').length + 1);
  });

  it('fails, naming the file, when a file read in place vanishes or changes after the listing', async () => {
    for (const change of ['vanish', 'grow'] as const) {
      const dir = path.join(tmp, `in-place-${change}`);
      mkdirSync(dir, { recursive: true });
      for (const d of ['01', '02', '03']) writeFileSync(path.join(dir, `${d}.json`), readFileSync(path.join(SAMPLE_LOGS, `2018/11/2018-11-${d}-events.json`)));
      const target = path.join(dir, '02.json');
      const wh = await DuckDBWarehouse.open(':memory:', IN_PLACE);
      try {
        await createTables(wh);
        const err = await etl(wh, {
          songs: SAMPLE_SONGS,
          logs: dir,
          onEvent: (e) => {
            if (e.type !== 'stage-start' || e.stage !== 'load staging_events') return;
            if (change === 'vanish') rmSync(target);
            else writeFileSync(target, '{"ts": 1}\n', { flag: 'a' });
          },
        }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'SOURCE_READ_FAILED', stage: 'load staging_events' });
        expect((err as Error).message).toContain(target);
        expect(await wh.query('SELECT COUNT(*) AS n FROM staging_events')).toEqual([{ n: 0 }]);
      } finally {
        await wh.close();
      }
    }
  });
});

describe('duckdb: dirty files among many read in place', () => {
  it('sends exactly the dirty files to the exact path, however many, and agrees with it', async () => {
    const dir = path.join(tmp, 'many-dirty');
    mkdirSync(dir, { recursive: true });
    const days = Array.from({ length: 30 }, (_, i) => String(i + 1).padStart(2, '0'));
    const dirty = new Set(['02', '05', '06', '11', '17', '23', '29', '30']);
    for (const d of days) {
      const good = readFileSync(path.join(SAMPLE_LOGS, `2018/11/2018-11-${d}-events.json`));
      writeFileSync(path.join(dir, `${d}.json`), dirty.has(d) ? Buffer.concat([good, Buffer.from(`\n{"ts": "day ${d}"}`)]) : good);
    }
    const fast = await build(IN_PLACE, SAMPLE_SONGS, dir);
    expect(fast.report.stages[1]).toMatchObject({ files: 30, exactFiles: dirty.size, rejected: dirty.size });
    expect(fast.tables).toEqual((await build(EXACT, SAMPLE_SONGS, dir)).tables);
  });
});
