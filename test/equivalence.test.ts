/**
 * One input, every warehouse, the same tables: after create-tables + etl, each
 * table (etl_rejects too) holds exactly the same rows in every warehouse that
 * runs here, floats and timestamps compared exactly. The first warehouse
 * (DuckDB) is the reference.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import { writeEdgeFixtures, writeGeneratedFixtures, writeStrayCarriageReturnLogs, type EdgeFixtures } from './helpers/edge-fixtures.js';
import { FIXTURES, SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { comparedColumns, dump, testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

type Tables = Record<string, unknown[][]>;

let edge: EdgeFixtures;
let generated: EdgeFixtures;
beforeAll(() => {
  edge = writeEdgeFixtures();
  generated = writeGeneratedFixtures();
});
afterAll(() => {
  rmSync(edge.dir, { recursive: true, force: true });
  rmSync(generated.dir, { recursive: true, force: true });
});

const INPUTS: { name: string; songs: () => string; logs: () => string }[] = [
  { name: 'the real sample', songs: () => SAMPLE_SONGS, logs: () => SAMPLE_LOGS },
  { name: 'the odd and malformed fixtures', songs: () => path.join(FIXTURES, 'odd-songs'), logs: () => path.join(FIXTURES, 'bad-logs') },
  { name: 'values at the edges of the coercion rules', songs: () => edge.songs, logs: () => edge.logs },
  { name: 'generated records (fast-check, fixed seed)', songs: () => generated.songs, logs: () => generated.logs },
];

const kinds = testWarehouses();

async function loadAndDump(ctx: OpenedTestWarehouse, songs: string, logs: string): Promise<Tables> {
  await createTables(ctx.warehouse);
  await etl(ctx.warehouse, { songs, logs });
  const out: Tables = {};
  for (const t of ALL_TABLES) out[t.name] = await dump(ctx.warehouse, t.name, comparedColumns(t));
  return out;
}

describe.skipIf(kinds.length < 2)(`equivalence: ${kinds.map((k) => k.name).join(' = ')}`, () => {
  for (const input of INPUTS) {
    describe(input.name, () => {
      const results = new Map<string, Tables>();

      beforeAll(async () => {
        // One after another: the warehouses share two cores.
        for (const kind of kinds) {
          const ctx = await kind.open();
          try {
            results.set(kind.name, await loadAndDump(ctx, input.songs(), input.logs()));
          } finally {
            await ctx.cleanup();
          }
        }
      });

      for (const table of ALL_TABLES) {
        it(`${table.name} holds the same rows`, () => {
          const [reference, ...others] = kinds.map((k) => results.get(k.name)!);
          for (const other of others) expect(other[table.name]).toEqual(reference![table.name]);
        });
      }

      it('is not trivially empty', () => {
        const reference = results.get(kinds[0]!.name)!;
        expect(reference.staging_events!.length + reference.etl_rejects!.length).toBeGreaterThan(0);
        expect(reference.staging_songs!.length).toBeGreaterThan(0);
      });

      if (input.songs === INPUTS[2]!.songs) {
        it('follows the rules of coerce.ts at the edges', () => {
          const t = results.get(kinds[0]!.name)!;
          const col = (table: string, name: string) => ALL_TABLES.find((x) => x.name === table)!.columns.findIndex((c) => c.name === name);
          const locations = t.staging_events!.map((r) => r[col('staging_events', 'location')]).filter((l) => l !== 'X');
          expect(locations.sort()).toEqual(['0', '0', '1.2345678901234567e+19', '1.5', '1000000000000000', '1e+21', '1e-05', '2001', '9007199254740992.0', 'true']);
          const lengths = t.staging_events!.map((r) => r[col('staging_events', 'length')]);
          expect(lengths.filter((v) => typeof v === 'number' && !Number.isFinite(v))).toEqual([]);
          expect(lengths.filter((v) => Object.is(v, -0))).toEqual([]);
          const reasons = t.etl_rejects!.map((r) => r[3] as string);
          expect(reasons).toContain('artist: text contains a NUL character (U+0000), which PostgreSQL cannot store');
          expect(reasons).toContain('ts: expected integer, got 9007199254740992');
          // A lone surrogate (flat and 2000 deep), an event cut short, a NUL byte, a song object cut short;
          // bare NaN, bare -Infinity and inf, a trailing comma inside a loaded field (DuckDB's parser takes all three).
          expect(reasons.filter((r) => r === 'invalid JSON')).toHaveLength(8);
          expect(reasons).toContain('duplicate key "userId"');
          expect(reasons).toContain('duplicate key "extra"');
          expect(reasons).toContain('length: number beyond the range of a double');
          expect(reasons).toContain(
            'itemInSession: number beyond the range of a double; location: number beyond the range of a double; registration: number beyond the range of a double',
          );
          expect(reasons).toContain('artist: expected text, got an array'); // 5,000 deep
          expect(t.staging_events!.map((r) => r[col('staging_events', 'song')])).toContain('Infinity'); // a string, so fine
          const artists = t.staging_events!.map((r) => r[col('staging_events', 'artist')]);
          expect(artists).toEqual(expect.arrayContaining(['gzipped', 'gz2', 'gzip named json']));
          const songIds = t.staging_songs!.map((r) => r[col('staging_songs', 'song_id')]);
          expect(songIds).toEqual(expect.arrayContaining(['SOEDGE10', 'SOEDGE11', 'SOEDGE12', 'SOEDGE14', 'SOEDGE20']));
          expect(songIds).not.toContain('SOEDGE13');
          const raws = t.etl_rejects!.map((r) => r[4] as string);
          expect(raws).toContain('{"artist":"raw\uFFFDnul"}');
          expect(raws.map((r) => [...r].length).sort((a, b) => b - a)[0]).toBe(1000);
          expect(t.songplays!.filter((r) => r[4] !== null).map((r) => r[4])).toEqual(
            Array(t.songplays!.filter((r) => r[4] !== null).length).fill('SOEDGE0A'),
          );
          expect(t.songs!.find((r) => r[0] === 'SOEDGE2')![1]).toBe('Zed'); // byte order: 'Z' < 'a'
          expect(t.users!.find((r) => r[0] === 9)![4]).toBe('free'); // byte order: 'free' > 'Paid'
        });
      }
    });
  }
});

describe('a carriage return in the middle of a line', () => {
  // A CR that does not end a line stays in the text, as records are split on LF only.
  it('gives a blank line and one reject, in every warehouse', async () => {
    for (const kind of kinds) {
      const ctx = await kind.open();
      try {
        await createTables(ctx.warehouse);
        const report = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: writeStrayCarriageReturnLogs(edge.dir) });
        expect(report.stages[1]).toMatchObject({ rows: 2, rejected: 1 });
        expect(await dump(ctx.warehouse, 'etl_rejects', ['line', 'reason'])).toEqual([[3, 'invalid JSON']]);
      } finally {
        await ctx.cleanup();
      }
    }
  });
});
