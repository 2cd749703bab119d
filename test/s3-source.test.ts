/**
 * The S3 source against s3rver: a real S3-API server (HTTP, SigV4 checking,
 * XML, ListObjectsV2 pagination) that this file starts on 127.0.0.1, not a
 * mock. Requests go through the real AWS SDK and the real network stack. Only
 * the wrong-region and throttling cases, which s3rver cannot produce, use a
 * tiny loopback HTTP server replaying S3's documented error responses.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redshiftSourceChecks } from '../src/warehouses/redshift/redshift-staging.js';
import { stagingEvents, stagingSongs } from '../src/schema/tables.js';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quietAwsSdk } from '../src/aws/quiet.js';
import { SparkifyError } from '../src/errors.js';
import { createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import { LocalSource } from '../src/sources/local.js';
import { S3Source, type S3SourceOptions } from '../src/sources/s3.js';
import type { Source } from '../src/sources/source.js';
import { credentialsWithFallback } from '../src/aws/credentials.js';
import type { SourceFile } from '../src/sources/source.js';
import { DuckDBWarehouse } from '../src/warehouses/duckdb/duckdb-warehouse.js';
import type { Row } from '../src/warehouses/warehouse.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from './helpers/s3rver.js';
import { comparedColumns, dump, testWarehouses } from './warehouses.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../data/sparkify-sample', import.meta.url));
const SONGS_DIR = `${SAMPLE}/song_data`;
const LOGS_DIR = `${SAMPLE}/log_data`;
const BUCKET = 'sparkify';

// Any warning the AWS SDK emits in this process (it would reach the user's stderr).
const sdkWarnings: string[] = [];
const onWarning = (w: Error) => {
  if (/AWS SDK|NodeVersionSupport/i.test(`${w.name} ${w.message}`)) sdkWarnings.push(w.message);
};
process.on('warning', onWarning);

let s3: RunningS3rver;
let localSongs: SourceFile[];
let localLogs: SourceFile[];
const opened: S3Source[] = [];

async function open(location: string, options: S3SourceOptions = {}): Promise<S3Source> {
  const source = await S3Source.create(location, { s3Endpoint: s3.endpoint, s3Region: s3.region, ...options });
  opened.push(source);
  return source;
}

async function caught(p: Promise<unknown>): Promise<SparkifyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SparkifyError);
  return err as SparkifyError;
}

beforeAll(async () => {
  // The source uses the SDK's default credential chain; s3rver knows one account.
  // Stubbed for this file only, and restored in afterAll.
  vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', undefined);
  vi.stubEnv('AWS_PROFILE', undefined);
  s3 = await startS3rver({ buckets: [BUCKET] });
  expect(await s3.uploadFolder(SONGS_DIR, BUCKET, 'song_data')).toBe(71);
  expect(await s3.uploadFolder(LOGS_DIR, BUCKET, 'log_data')).toBe(30);
  // Noise the listing must skip: a non-JSON object, and a sibling prefix sharing the name's start.
  await s3.put(BUCKET, 'log_data/README.txt', 'not data');
  await s3.put(BUCKET, 'log_data_old/2018-10-01-events.json', '{"ts": 1}');
  localSongs = await new LocalSource(SONGS_DIR).list();
  localLogs = await new LocalSource(LOGS_DIR).list();
});

afterAll(async () => {
  for (const source of opened) await source.close();
  await s3?.stop();
  vi.unstubAllEnvs();
  process.off('warning', onWarning);
});

describe('listing', () => {
  it('lists every *.json below the prefix, keys relative and sorted, sizes from S3', async () => {
    const songs = await open(`s3://${BUCKET}/song_data`);
    const logs = await open(`s3://${BUCKET}/log_data/`);
    expect(songs.uri).toBe(`s3://${BUCKET}/song_data`);
    expect(logs.uri).toBe(`s3://${BUCKET}/log_data`);
    const songFiles = await songs.list();
    const logFiles = await logs.list();
    expect(songFiles).toHaveLength(71);
    expect(logFiles).toHaveLength(30);
    expect(songFiles.map((f) => [f.key, f.size])).toEqual(localSongs.map((f) => [f.key, f.size]));
    expect(logFiles.map((f) => [f.key, f.size])).toEqual(localLogs.map((f) => [f.key, f.size]));
    expect(songFiles[0]!.key).toMatch(/^A\/A\/A\/TR\w+\.json$/);
    expect(logFiles.every((f) => f.uri === `s3://${BUCKET}/log_data/${f.key}`)).toBe(true);
    const keys = songFiles.map((f) => f.key);
    expect([...keys].sort()).toEqual(keys);
  });

  it('follows ListObjectsV2 continuation tokens', async () => {
    const songs = await open(`s3://${BUCKET}/song_data`, { pageSize: 7 });
    s3.requests.length = 0;
    const files = await songs.list();
    const pages = s3.requests.filter((r) => r.startsWith('GET') && r.includes('list-type=2'));
    expect(pages).toHaveLength(Math.ceil(71 / 7));
    expect(pages.filter((r) => r.includes('continuation-token='))).toHaveLength(pages.length - 1);
    expect(files.map((f) => f.key)).toEqual(localSongs.map((f) => f.key));
  });

  it('lists the whole bucket when the prefix is empty', async () => {
    const all = await open(`s3://${BUCKET}`);
    const files = await all.list();
    expect(files).toHaveLength(71 + 30 + 1);
    expect(files.filter((f) => f.key.startsWith('song_data/'))).toHaveLength(71);
    expect(files.some((f) => f.key === 'log_data_old/2018-10-01-events.json')).toBe(true);
  });

  it('lists a prefix naming one object as that object', async () => {
    const one = localLogs[3]!;
    const source = await open(`s3://${BUCKET}/log_data/${one.key}`);
    expect(await source.list()).toEqual([{ key: one.key.split('/').pop(), uri: `s3://${BUCKET}/log_data/${one.key}`, size: one.size, modified: expect.any(Number), etag: expect.any(String) }]);
  });

  it('returns an empty list for a prefix with no objects', async () => {
    expect(await (await open(`s3://${BUCKET}/nothing-here`)).list()).toEqual([]);
  });
});

describe('reading', () => {
  it('reads every object byte-identical to the local file', async () => {
    for (const [prefix, local] of [
      ['song_data', localSongs],
      ['log_data', localLogs],
    ] as const) {
      const source = await open(`s3://${BUCKET}/${prefix}`);
      const files = await source.list();
      const bodies = await Promise.all(files.map((f) => source.read(f)));
      for (let i = 0; i < files.length; i++) {
        expect(Buffer.isBuffer(bodies[i])).toBe(true);
        expect(bodies[i]!.equals(await readFile(local[i]!.uri)), files[i]!.key).toBe(true);
      }
    }
  });

  it('streams objects in several chunks, byte-identical to the local file', async () => {
    const source = await open(`s3://${BUCKET}/log_data`);
    const files = await source.list();
    let maxChunks = 0;
    for (let i = 0; i < files.length; i++) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of source.stream(files[i]!)) chunks.push(chunk);
      maxChunks = Math.max(maxChunks, chunks.length);
      expect(Buffer.concat(chunks).equals(await readFile(localLogs[i]!.uri)), files[i]!.key).toBe(true);
    }
    expect(maxChunks).toBeGreaterThan(1); // streamed, not buffered whole
  });

  it('releases the connection when a consumer stops a stream early', async () => {
    // One socket: a body left half-read would hold it and the next request would hang.
    const source = await open(`s3://${BUCKET}/log_data`, { concurrency: 1 });
    const files = await source.list();
    for (let i = 0; i < 3; i++) {
      for await (const chunk of source.stream(files[i]!)) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
    }
    expect((await source.read(files[0]!)).length).toBe(files[0]!.size);
  });
});

describe('errors', () => {
  it('a missing bucket is S3_BUCKET_NOT_FOUND', async () => {
    const err = await caught((await open('s3://no-such-bucket/song_data')).list());
    expect(err.code).toBe('S3_BUCKET_NOT_FOUND');
    expect(err.message).toContain('no-such-bucket');
    expect(err.message).toContain('s3://no-such-bucket/song_data');
    expect(err.message).not.toContain('\n');
    expect(err.transient).toBe(false);
  });

  it('an empty prefix makes the pipeline fail with SOURCE_EMPTY', async () => {
    const wh = await DuckDBWarehouse.open(':memory:');
    try {
      await createTables(wh);
      const err = await caught(
        etl(wh, { songs: `s3://${BUCKET}/nothing-here`, logs: LOGS_DIR, sourceOptions: { s3Endpoint: s3.endpoint, s3Region: s3.region } }),
      );
      expect(err.code).toBe('SOURCE_EMPTY');
      expect(err.message).toContain(`s3://${BUCKET}/nothing-here`);
    } finally {
      await wh.close();
    }
  });

  it('an unreachable endpoint is a transient SOURCE_READ_FAILED naming the endpoint', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const err = await caught((await open(`s3://${BUCKET}/song_data`, { s3Endpoint: endpoint })).list());
    expect(err.code).toBe('SOURCE_READ_FAILED');
    expect(err.transient).toBe(true);
    expect(err.message).toContain(endpoint);
    expect(err.message).toContain(`s3://${BUCKET}/song_data`);
  });

  it('unknown credentials are S3_ACCESS_DENIED, without the credentials in the message', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAWRONGWRONGWRONG1');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wrong-secret-wrong-secret');
    try {
      const err = await caught((await open(`s3://${BUCKET}/song_data`)).list());
      expect(err.code).toBe('S3_ACCESS_DENIED');
      expect(err.message).toContain(`s3://${BUCKET}/song_data`);
      expect(err.hint).toMatch(/s3:ListBucket.*s3:GetObject/);
      expect(`${err.message} ${err.hint}`).not.toMatch(/AKIAWRONG|wrong-secret/);
    } finally {
      vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    }
  });

  it('AWS_PROFILE and access keys both set: no SDK warning on the console, a hint instead', async () => {
    vi.stubEnv('AWS_PROFILE', 'sparkify-no-such-profile');
    vi.stubEnv('AWS_CONFIG_FILE', `${SAMPLE}/no-such-aws-config`);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', `${SAMPLE}/no-such-aws-credentials`);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const err = await caught((await open(`s3://${BUCKET}/song_data`)).list());
      expect(err.code).toBe('S3_ACCESS_DENIED');
      expect(err.hint).toContain('Both AWS_PROFILE and AWS_ACCESS_KEY_ID are set');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      vi.stubEnv('AWS_PROFILE', undefined);
    }
  });

  it("Redshift's check of the JSONPaths file: found, or said to be missing, before the run", async () => {
    await s3.put(BUCKET, 'log_json_path.json', '{"jsonpaths": ["$.artist"]}');
    const logs = { kind: 's3', uri: `s3://${BUCKET}/log_data`, region: s3.region } as Source;
    const check = (paths: string) => redshiftSourceChecks(stagingEvents, logs, { logJsonPaths: paths }, { s3Endpoint: s3.endpoint });
    expect(await check(`s3://${BUCKET}/log_json_path.json`)).toEqual([]);
    expect(await check(`s3://${BUCKET}/log_jsonpath.json`)).toEqual([
      {
        where: 'JSONPaths file ([S3] LOG_JSONPATH)',
        message: `s3://${BUCKET}/log_jsonpath.json does not exist: COPY needs it to map the event fields to columns (or leave LOG_JSONPATH empty to map them by name)`,
      },
    ]);
    // Songs have no JSONPaths file; nothing to ask.
    expect(await redshiftSourceChecks(stagingSongs, { ...logs, uri: `s3://${BUCKET}/song_data` }, { logJsonPaths: `s3://${BUCKET}/nope.json` }, { s3Endpoint: s3.endpoint })).toEqual([]);
  });

  it("signs with dwh.cfg's [AWS] keys when the AWS chain finds no credentials", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', `${SAMPLE}/no-such-aws-config`);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', `${SAMPLE}/no-such-aws-credentials`);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    try {
      const without = await caught((await open(`s3://${BUCKET}/log_data`)).list());
      expect(without.message).toContain('no AWS credentials were found');
      const credentials = credentialsWithFallback(S3RVER_CREDENTIALS);
      const files = await (await open(`s3://${BUCKET}/log_data`, { credentials })).list();
      expect(files).toHaveLength(30);
    } finally {
      vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    }
  });

  it('a location without a bucket is CONFIG_INVALID', async () => {
    expect((await caught(S3Source.create('s3:///song_data', {}))).code).toBe('CONFIG_INVALID');
  });

  describe('answers s3rver cannot give, replayed from a loopback server', () => {
    const servers: Server[] = [];
    afterAll(async () => {
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    });
    const replay = async (status: number, headers: Record<string, string>, code: string, extra = '') => {
      const server = createServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/xml', ...headers });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>m</Message>${extra}<RequestId>R</RequestId><HostId>H</HostId></Error>`);
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };

    it('301 PermanentRedirect with x-amz-bucket-region is S3_WRONG_REGION naming the region', async () => {
      const endpoint = await replay(301, { 'x-amz-bucket-region': 'eu-west-1' }, 'PermanentRedirect', `<Bucket>${BUCKET}</Bucket>`);
      const err = await caught((await open(`s3://${BUCKET}/song_data`, { s3Endpoint: endpoint, s3Region: 'us-west-2' })).list());
      expect(err.code).toBe('S3_WRONG_REGION');
      expect(err.message).toContain('eu-west-1');
      expect(err.message).toContain(`s3://${BUCKET}/song_data`);
      expect(err.hint).toContain('eu-west-1');
    });

    it("Redshift's check of the JSONPaths file: in another region than the data, it is refused before the run", async () => {
      const endpoint = await replay(301, { 'x-amz-bucket-region': 'us-east-1' }, 'PermanentRedirect', '<Bucket>other</Bucket>');
      const logs = { kind: 's3', uri: `s3://${BUCKET}/log_data`, region: 'us-west-2' } as Source;
      const issues = await redshiftSourceChecks(stagingEvents, logs, { logJsonPaths: 's3://other/log_json_path.json' }, { s3Endpoint: endpoint });
      expect(issues).toEqual([
        {
          where: 'JSONPaths file ([S3] LOG_JSONPATH)',
          message: expect.stringMatching(/^s3:\/\/other\/log_json_path\.json is in another region than the event logs \(us-west-2\), and COPY's REGION applies to the JSONPaths file too \(.*us-east-1.*\): copy it to a bucket in us-west-2$/),
        },
      ]);
    });

    it('400 AuthorizationHeaderMalformed is S3_WRONG_REGION naming the region from the body', async () => {
      const endpoint = await replay(400, {}, 'AuthorizationHeaderMalformed', '<Region>eu-central-1</Region>');
      const err = await caught((await open(`s3://${BUCKET}/log_data`, { s3Endpoint: endpoint, s3Region: 'us-west-2' })).list());
      expect(err.code).toBe('S3_WRONG_REGION');
      expect(err.message).toContain('eu-central-1');
    });

    it('a connection dropped mid-object is a transient SOURCE_READ_FAILED, in read and in stream', async () => {
      const server = createServer((req, res) => {
        if (req.url?.includes('list-type=2')) {
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${BUCKET}</Name><Prefix>log_data/</Prefix><KeyCount>1</KeyCount>` +
              `<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>log_data/a.json</Key><Size>100000</Size></Contents></ListBucketResult>`,
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
        res.write('{"ts": 1}\n'.repeat(2000), () => res.destroy());
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const source = await open(`s3://${BUCKET}/log_data`, { s3Endpoint: endpoint });
      const [file] = await source.list();
      expect(file).toEqual({ key: 'a.json', uri: `s3://${BUCKET}/log_data/a.json`, size: 100000 });
      const fromRead = await caught(source.read(file!));
      expect([fromRead.code, fromRead.transient]).toEqual(['SOURCE_READ_FAILED', true]);
      expect(fromRead.message).toContain(`s3://${BUCKET}/log_data/a.json`);
      const drain = async () => {
        for await (const chunk of source.stream(file!)) expect(chunk.length).toBeGreaterThan(0);
      };
      const fromStream = await caught(drain());
      expect([fromStream.code, fromStream.transient]).toEqual(['SOURCE_READ_FAILED', true]);
    });

    it('503 SlowDown, after the SDK has retried, is a transient SOURCE_READ_FAILED', async () => {
      const endpoint = await replay(503, {}, 'SlowDown');
      const err = await caught((await open(`s3://${BUCKET}/log_data`, { s3Endpoint: endpoint })).list());
      expect(err.code).toBe('SOURCE_READ_FAILED');
      expect(err.transient).toBe(true);
    });
  });
});

describe('region', () => {
  it('uses s3Region, else AWS_REGION, else us-west-2', async () => {
    vi.stubEnv('AWS_CONFIG_FILE', `${SAMPLE}/no-such-aws-config`);
    vi.stubEnv('AWS_REGION', 'ap-south-1');
    try {
      expect((await open(`s3://${BUCKET}`, { s3Region: 'eu-north-1' })).region).toBe('eu-north-1');
      expect((await open(`s3://${BUCKET}`, { s3Region: undefined })).region).toBe('ap-south-1');
      vi.stubEnv('AWS_REGION', undefined);
      expect((await open(`s3://${BUCKET}`, { s3Region: undefined })).region).toBe('us-west-2');
    } finally {
      vi.stubEnv('AWS_REGION', undefined);
    }
  });
});

describe('end to end', () => {
  it('loads the same rows from s3:// as from the local folders, printing nothing', async () => {
    const local = await runPipeline({ songs: SONGS_DIR, logs: LOGS_DIR });
    const printed: unknown[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args) => void printed.push(args)),
    );
    const stderr = vi.spyOn(process.stderr, 'write');
    let remote;
    try {
      remote = await runPipeline({
        songs: `s3://${BUCKET}/song_data`,
        logs: `s3://${BUCKET}/log_data`,
        sourceOptions: { s3Endpoint: s3.endpoint, s3Region: 'us-east-1' },
      });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const stderrWrites = stderr.mock.calls.length;
    stderr.mockRestore();
    expect(printed).toEqual([]);
    expect(stderrWrites).toBe(0);

    expect(remote.counts).toEqual(local.counts);
    expect(local.counts.staging_events).toBe(8056);
    expect(local.counts.staging_songs).toBe(71);
    expect(local.counts.songplays).toBeGreaterThan(0);
    for (const table of ALL_TABLES) {
      if (table.name === 'etl_rejects') continue;
      expect(remote.tables[table.name], table.name).toEqual(local.tables[table.name]);
    }
    // Rejects name their file: a local path on one side, an s3:// URI on the other.
    const relative = (rows: Row[], root: string) => rows.map((r) => ({ ...r, source: String(r.source).replace(root, '') }));
    expect(relative(remote.tables.etl_rejects!, `s3://${BUCKET}/`)).toEqual(relative(local.tables.etl_rejects!, `${SAMPLE}/`));
    // The ledger marks a file's version by its ETag on S3 (the MD5 of a file put in one part), by its modification time on disk.
    expect(remote.markers.every((m) => /^[0-9a-f]{32}$/.test(m))).toBe(true);
    expect(local.markers.every((m) => /^\d+(\.\d+)?$/.test(m))).toBe(true);

    if (process.env.SPARKIFY_TIMINGS) {
      process.stdout.write(`sample via local folders: ${local.seconds.toFixed(2)} s; via s3rver: ${remote.seconds.toFixed(2)} s\n`);
    }
  });


  it('names the same rejected records, by s3:// URI instead of local path', async () => {
    // The sample has no bad records: add a file with some, locally and in a bucket of its own.
    const dir = await mkdtemp(path.join(tmpdir(), 'sparkify-rejects-'));
    try {
      await mkdir(path.join(dir, '2018/11'), { recursive: true });
      await copyFile(localLogs[0]!.uri, path.join(dir, localLogs[0]!.key));
      await writeFile(path.join(dir, '2018/11/zz-bad.json'), '{"ts": 1541105830796, "page": "NextSong"\nnot json\n{"page": "NextSong"}\n');
      await s3.client.send(new CreateBucketCommand({ Bucket: 'sparkify-rejects' }));
      await s3.uploadFolder(dir, 'sparkify-rejects', 'log_data');
      const local = await runPipeline({ songs: SONGS_DIR, logs: dir });
      const remote = await runPipeline({
        songs: `s3://${BUCKET}/song_data`,
        logs: 's3://sparkify-rejects/log_data',
        sourceOptions: { s3Endpoint: s3.endpoint, s3Region: s3.region },
      });
      expect(local.counts.etl_rejects).toBeGreaterThanOrEqual(2);
      expect(remote.tables.etl_rejects!.every((r) => String(r.source).startsWith('s3://sparkify-rejects/log_data/2018/11/'))).toBe(true);
      const relative = (rows: Row[], root: string) => rows.map((r) => ({ ...r, source: String(r.source).replace(root, '') }));
      expect(relative(remote.tables.etl_rejects!, 's3://sparkify-rejects/log_data/')).toEqual(relative(local.tables.etl_rejects!, `${dir}/`));
      for (const table of ALL_TABLES) {
        if (table.name !== 'etl_rejects') expect(remote.tables[table.name], table.name).toEqual(local.tables[table.name]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The same check in every warehouse that runs here: each pulls S3 objects through the SDK.
for (const kind of testWarehouses()) {
  describe(`${kind.name}: star schema from s3://`, () => {
    it('equals the star schema built from the local folders', async () => {
      const build = async (songs: string, logs: string) => {
        const ctx = await kind.open();
        try {
          await createTables(ctx.warehouse);
          await etl(ctx.warehouse, { songs, logs, sourceOptions: { s3Endpoint: s3.endpoint, s3Region: s3.region } });
          const tables: Record<string, unknown[][]> = {};
          for (const t of ALL_TABLES) {
            if (t.name !== 'etl_rejects') tables[t.name] = await dump(ctx.warehouse, t.name, comparedColumns(t).filter((c) => c !== 'uri' && c !== 'marker'));
          }
          return tables;
        } finally {
          await ctx.cleanup();
        }
      };
      const remote = await build(`s3://${BUCKET}/song_data`, `s3://${BUCKET}/log_data`);
      expect(remote.songplays).toHaveLength(6820);
      expect(remote).toEqual(await build(SONGS_DIR, LOGS_DIR));
    });
  });
}

describe('the AWS SDK stays quiet', () => {
  it('emitted no Node-version warning in this process', () => {
    expect(sdkWarnings).toEqual([]);
  });

  it.skipIf(Number(process.versions.node.split('.')[0]) >= 22)('would warn on this Node without quietAwsSdk', () => {
    quietAwsSdk(); // idempotent: a second call changes nothing
    const script = `const { S3Client } = require('@aws-sdk/client-s3'); new S3Client({ region: 'us-east-1' });`;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const loud = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' });
    expect(loud.stderr).toContain('NodeVersionSupportWarning');
    const quiet = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env: process.env, encoding: 'utf8' });
    expect(quiet.stderr).toBe('');
  });
});

async function runPipeline(options: Parameters<typeof etl>[1]) {
  const wh = await DuckDBWarehouse.open(':memory:');
  try {
    await createTables(wh);
    const report = await etl(wh, options);
    const tables: Record<string, Row[]> = {};
    for (const table of ALL_TABLES) tables[table.name] = await wh.query(`SELECT * FROM ${table.name} ORDER BY ALL`);
    // What differs between a bucket and a folder holding the same files: where each file is, what marks its
    // version (ETag, modification time), and when the run ran. Compared apart.
    const markers = tables.etl_files!.map((r) => String(r.marker));
    tables.etl_files = tables.etl_files!.map(({ uri: _uri, marker: _marker, ...rest }) => rest);
    tables.etl_runs = tables.etl_runs!.map(({ started_at: _s, finished_at: _f, ...rest }) => rest);
    return { counts: report.counts, seconds: report.seconds, tables, markers };
  } finally {
    await wh.close();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
