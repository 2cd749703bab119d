/**
 * DuckDB's own loading paths must agree: DuckDB reading NDJSON lines itself vs
 * Node splitting them, and the fast typing path vs the full coercion rules.
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
import { dump } from './warehouses.js';

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
    for (const t of ALL_TABLES) tables[t.name] = await dump(wh, t.name, t.columns.map((c) => c.name));
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

describe('duckdb: loading paths agree', () => {
  for (const [name, songs, logs] of inputs) {
    it(`${name}: DuckDB reading lines itself = Node splitting them`, async () => {
      const a = await build({}, songs, logs);
      const b = await build({ readLocalFiles: false }, songs, logs);
      expect(a.tables).toEqual(b.tables);
      expect(a.report.rejected).toBe(b.report.rejected);
    });

    it(`${name}: fast typing path = full coercion rules`, async () => {
      const a = await build({}, songs, logs);
      const b = await build({ fastPath: false }, songs, logs);
      expect(a.tables).toEqual(b.tables);
    });
  }

  it('small groups and chunks give the same tables as one big one', async () => {
    const a = await build({}, SAMPLE_SONGS, SAMPLE_LOGS);
    const b = await build({ groupBytes: 200_000, chunkRecords: 1000 }, SAMPLE_SONGS, SAMPLE_LOGS);
    const c = await build({ groupBytes: 200_000, chunkRecords: 1000, readLocalFiles: false }, SAMPLE_SONGS, SAMPLE_LOGS);
    expect(b.tables).toEqual(a.tables);
    expect(c.tables).toEqual(a.tables);
  });

  it('falls back to Node for a file DuckDB cannot read as text, and loses nothing', async () => {
    const dir = path.join(tmp, 'latin1');
    mkdirSync(dir, { recursive: true });
    const good = readFileSync(path.join(SAMPLE_LOGS, '2018/11/2018-11-01-events.json'));
    // A byte that is not UTF-8 inside a string (a Latin-1 é), as exported by an old tool.
    const bad = Buffer.concat([Buffer.from('{"artist":"Caf'), Buffer.from([0xe9]), Buffer.from('","page":"Home","ts":1541105830796}\n')]);
    writeFileSync(path.join(dir, 'a.json'), Buffer.concat([good, Buffer.from('\n'), bad]));
    const a = await build({}, SAMPLE_SONGS, dir);
    const b = await build({ readLocalFiles: false }, SAMPLE_SONGS, dir);
    expect(a.tables).toEqual(b.tables);
    expect(a.tables.staging_events).toHaveLength(good.toString().split('\n').length + 1);
  });
});
