/**
 * The star schema exported as Parquet on every warehouse that runs here, read
 * back by DuckDB and compared with the tables, row by row; and exported to an
 * S3 prefix on s3rver (a real S3-API server on loopback, not a mock).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportParquet } from '../src/analytics/export.js';
import { STAR_TABLES } from '../src/schema/tables.js';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { openWarehouse } from '../src/warehouses/open-warehouse.js';
import { openWithSample, sampleWarehouse } from './helpers/faults.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from './helpers/s3rver.js';
import { dump, testWarehouses } from './warehouses.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every row of a Parquet file, as `dump` gives a table's (DuckDB reads it; values normalised alike). */
async function readBack(location: string, columns: readonly string[]): Promise<unknown[][]> {
  const duck = await openWarehouse({ kind: 'duckdb', path: ':memory:' });
  // A partitioned table is a folder of Hive-style partitions: its partition columns come back from the names.
  const files = location.endsWith(path.sep) || location.endsWith('/') ? `read_parquet('${path.join(location, '**', '*.parquet')}', hive_partitioning = true)` : `read_parquet('${location}')`;
  try {
    await duck.execute(`CREATE VIEW t AS SELECT * FROM ${files}`);
    return await dump(duck, 't', columns);
  } finally {
    await duck.close();
  }
}

for (const kind of testWarehouses()) {
  describe(`${kind.name}: Parquet export`, () => {
    const warehouse = sampleWarehouse(kind);

    it('writes one file per star table that reads back as the same rows (pages of 1,000 from a server)', async () => {
      const out = path.join(dir, kind.name);
      const result = await exportParquet(warehouse(), { out, pageRows: 1000 });
      expect(result.tables.map((t) => [t.table, t.location, t.partitionedBy, t.rows])).toEqual([
        ['songplays', path.join(out, 'songplays') + path.sep, ['year', 'month'], 6820],
        ['users', path.join(out, 'users.parquet'), undefined, 97],
        ['songs', path.join(out, 'songs') + path.sep, ['year', 'artist_id'], 71],
        ['artists', path.join(out, 'artists.parquet'), undefined, 69],
        ['time', path.join(out, 'time') + path.sep, ['year', 'month'], 6813],
      ]);
      // The course's Spark layout: the sample's plays are all in November 2018.
      expect(existsSync(path.join(out, 'songplays', 'year=2018', 'month=11'))).toBe(true);
      expect(result.tables.find((t) => t.table === 'songs')!.files).toBeGreaterThan(60);
      for (const t of result.tables) {
        const names = STAR_TABLES.find((x) => x.name === t.table)!.columns.map((c) => c.name);
        expect(await readBack(t.location, names), t.table).toEqual(await dump(warehouse(), t.table, names));
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
      const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: s3.region, credentials: S3RVER_CREDENTIALS });
      const result = await exportParquet(ctx.warehouse, { out: 's3://exports/2018-11', s3: options });
      expect(result.tables.map((t) => t.location)).toEqual([
        's3://exports/2018-11/songplays/',
        's3://exports/2018-11/users.parquet',
        's3://exports/2018-11/songs/',
        's3://exports/2018-11/artists.parquet',
        's3://exports/2018-11/time/',
      ]);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'exports', Prefix: '2018-11/songplays/' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual(['2018-11/songplays/year=2018/month=11/data_0.parquet']);
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
