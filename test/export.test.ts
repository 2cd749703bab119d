/**
 * The star schema exported as Parquet on every warehouse that runs here, read
 * back by DuckDB and compared with the tables, row by row; and exported to an
 * S3 prefix on s3rver (a real S3-API server on loopback, not a mock).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportParquet } from '../src/analytics/export.js';
import { STAR_TABLES } from '../src/schema/tables.js';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openWarehouse } from '../src/warehouses/open-warehouse.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { openWithSample } from './helpers/faults.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from './helpers/s3rver.js';
import { dump, testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every row of a Parquet file, as `dump` gives a table's (DuckDB reads it; values normalised alike). */
async function readBack(file: string, columns: readonly string[]): Promise<unknown[][]> {
  const duck = await openWarehouse({ kind: 'duckdb', path: ':memory:' });
  try {
    await duck.execute(`CREATE VIEW t AS SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`);
    return await dump(duck, 't', columns);
  } finally {
    await duck.close();
  }
}

for (const kind of testWarehouses()) {
  describe(`${kind.name}: Parquet export`, () => {
    let ctx: OpenedTestWarehouse;
    let wh: Warehouse;
    beforeAll(async () => {
      ctx = await openWithSample(kind);
      wh = ctx.warehouse;
    });
    afterAll(async () => ctx?.cleanup());

    it('writes one file per star table that reads back as the same rows (pages of 1,000 from a server)', async () => {
      const out = path.join(dir, kind.name);
      const result = await exportParquet(wh, { out, pageRows: 1000 });
      expect(result.tables.map((t) => [t.table, t.location, t.rows])).toEqual([
        ['songplays', path.join(out, 'songplays.parquet'), 6820],
        ['users', path.join(out, 'users.parquet'), 97],
        ['songs', path.join(out, 'songs.parquet'), 71],
        ['artists', path.join(out, 'artists.parquet'), 69],
        ['time', path.join(out, 'time.parquet'), 6813],
      ]);
      for (const t of STAR_TABLES) {
        const names = t.columns.map((c) => c.name);
        expect(await readBack(path.join(out, `${t.name}.parquet`), names), t.name).toEqual(await dump(wh, t.name, names));
      }
    });
  });
}

describe('Parquet export to S3 (s3rver)', () => {
  let s3: RunningS3rver;
  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    s3 = await startS3rver({ buckets: ['exports'] });
  });
  afterAll(async () => {
    await s3?.stop();
    vi.unstubAllEnvs();
  });

  it('puts the files under the prefix, and they read back as the tables', async () => {
    const [kind] = testWarehouses();
    const ctx = await openWithSample(kind!);
    try {
      const options = { s3Endpoint: s3.endpoint, s3Region: s3.region };
      const result = await exportParquet(ctx.warehouse, { out: 's3://exports/2018-11', s3: options });
      expect(result.tables.map((t) => t.location)).toEqual(STAR_TABLES.map((t) => `s3://exports/2018-11/${t.name}.parquet`));
      const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: s3.region, credentials: S3RVER_CREDENTIALS });
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: 'exports', Key: '2018-11/users.parquet' }));
        const local = path.join(dir, 'users-from-s3.parquet');
        writeFileSync(local, await got.Body!.transformToByteArray());
        const names = STAR_TABLES[1]!.columns.map((c) => c.name);
        expect(await readBack(local, names)).toEqual(await dump(ctx.warehouse, 'users', names));
      } finally {
        client.destroy();
      }
    } finally {
      await ctx.cleanup();
    }
  });
});
