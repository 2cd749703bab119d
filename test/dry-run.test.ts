/**
 * `--dry-run`: every statement a command would send, in order, without
 * connecting. For Redshift, which cannot run here, the dry run is also how its
 * SQL is pinned: each item of the review against the Redshift documentation is
 * checked below in the statements the dry run prints (text only: NO REDSHIFT
 * RUNS THESE TESTS). For DuckDB and PostgreSQL the same pipeline runs for real
 * in the other suites; here it must send nothing and open nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dryRun, type DryRun } from '../src/pipeline/dry-run.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import type { Source, SourceFile } from '../src/sources/source.js';
import type { WarehouseTarget } from '../src/warehouses/open-warehouse.js';
import { runCli } from './helpers/cli.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';

const ROLE = 'arn:aws:iam::123456789012:role/dwhRole';
const JSONPATHS = 's3://udacity-dend/log_json_path.json';
const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-dry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An S3 location whose listing is given (no AWS here). */
function s3(uri: string, keys: string[]): Source {
  const files: SourceFile[] = keys.map((key) => ({ key, uri: `${uri}/${key}`, size: 100 }));
  return {
    kind: 's3',
    uri,
    region: 'us-west-2',
    list: async () => files,
    read: async () => Buffer.alloc(0),
    stream: async function* () {},
    localPath: () => undefined,
    close: async () => undefined,
  };
}

const sources = () => ({
  songs: s3('s3://udacity-dend/song_data', ['A/A/A/TRAAAAK128F9318786.json', 'A/A/B/TRAABJL12903CDCF1A.json']),
  logs: s3('s3://udacity-dend/log_data', ['2018/11/2018-11-01-events.json']),
});
const cluster: WarehouseTarget = {
  kind: 'redshift',
  connection: { host: 'dwhcluster.abc123.us-west-2.redshift.amazonaws.com', port: 5439, database: 'dwh', user: 'dwhuser', password: 'Passw0rd-never-shown' },
  schema: 'public',
  copy: { iamRoleArn: ROLE, logJsonPaths: JSONPATHS },
};
const serverless: WarehouseTarget = {
  kind: 'redshift-data-api',
  dataApi: { workgroupName: 'sparkify', database: 'dev' },
  schema: 'sparkify',
  region: 'us-west-2',
  copy: {},
};

const sql = (plan: DryRun) => plan.statements.flatMap((s) => (s.sql ? [s.sql] : []));
const first = (plan: DryRun, re: RegExp) => sql(plan).find((s) => re.test(s)) ?? '';

describe('dry run: Redshift over the wire protocol (statements as text; nothing runs)', async () => {
  const plan = await dryRun(cluster, 'run', sources());
  const all = sql(plan);

  it('sets the session up, takes the lock in one transaction, builds copies, loads, transforms, publishes in one transaction, analyzes, releases', () => {
    const kinds = all.map((s) => /^(\w+(?: \w+)?)/.exec(s.trim())![1]);
    expect(kinds.slice(0, 3)).toEqual(['SET timezone', 'SET extra_float_digits', 'SELECT has_schema_privilege']);
    expect(all).toContain('SET search_path TO "public"');
    const lock = all.indexOf('LOCK sparkify_lock');
    expect(all[lock - 1]).toBe('BEGIN');
    expect(all[lock + 3]).toBe('COMMIT');
    const publishAt = all.lastIndexOf('BEGIN');
    expect(all[publishAt + 1]).toBe('DROP TABLE IF EXISTS staging_events');
    expect(all.indexOf('COMMIT', publishAt)).toBeGreaterThan(publishAt);
    expect(all.slice(all.indexOf('COMMIT', publishAt) + 1, all.indexOf('COMMIT', publishAt) + 1 + ALL_TABLES.length)).toEqual(ALL_TABLES.map((t) => `ANALYZE ${t.name}`));
    expect(all.at(-1)).toBe("DELETE FROM sparkify_lock WHERE token = '{token}'");
    expect(plan.warehouse).toBe('Redshift dwhuser@dwhcluster.abc123.us-west-2.redshift.amazonaws.com:5439/dwh (schema public)');
  });

  it('never shows the password', () => {
    expect(JSON.stringify(plan)).not.toContain('Passw0rd');
  });

  it('COPYs each source into a landing table, with the role, the JSONPaths file, the region and MAXERROR', () => {
    const copies = all.filter((s) => s.startsWith('COPY '));
    expect(copies).toHaveLength(2);
    expect(copies[1]).toContain(`FROM 's3://udacity-dend/log_data/'\nIAM_ROLE '${ROLE}'\nREGION 'us-west-2'\nFORMAT AS JSON '${JSONPATHS}'`);
    expect(copies[0]).toContain("FORMAT AS JSON 'auto'");
    expect(copies[0]).toContain('MAXERROR 100000');
  });

  it("#1 reads the COPY's ids, then Redshift's account of it; provisioned errors come from STL by pg_last_copy_id()", () => {
    expect(all).toContain('SELECT pg_last_copy_id() AS copy_id, pg_backend_pid() AS pid');
    expect(first(plan, /FROM sys_load_history/)).toContain('WHERE query_id = {copy_id} OR session_id = {pid}');
    expect(first(plan, /FROM stl_load_errors/)).toContain('WHERE query = {copy_id}');
  });

  it('#3 sizes etl_rejects.raw for what it holds, and #9 quotes it', () => {
    expect(first(plan, /^CREATE TABLE _sparkify_next_etl_rejects/)).toContain('"raw" VARCHAR(4000)');
  });

  it('#4 matches plays to songs byte for byte', () => {
    const songplays = first(plan, /^\s*INSERT INTO _sparkify_next_songplays/);
    expect(songplays).toContain('c.title = p.song AND LENGTH(c.title) = LENGTH(p.song)');
    expect(songplays).toContain('PARTITION BY title, LENGTH(title), artist_name, LENGTH(artist_name), duration');
  });

  it('#5 moves the load errors into etl_rejects inside the warehouse, one statement however many there are', () => {
    const moves = all.filter((s) => /^INSERT INTO _sparkify_next_etl_rejects[\s\S]*FROM stl_load_errors/.test(s));
    expect(moves).toHaveLength(2);
    expect(all.some((s) => /VALUES/.test(s) && /etl_rejects/.test(s))).toBe(false);
  });

  it('#8 counts rows keyed on names cast to VARCHAR', () => {
    expect(first(plan, /COUNT\(\*\) AS n FROM songplays/)).toContain("SELECT CAST('songplays' AS VARCHAR(128)) AS name");
  });
});

describe('dry run: Redshift Serverless through the Data API (statements as text; nothing runs)', async () => {
  const plan = await dryRun(serverless, 'etl', sources());
  const all = sql(plan);

  it('#1 keys Serverless load errors by the load history’s query_id', () => {
    expect(first(plan, /FROM sys_load_error_detail/)).toContain('WHERE query_id = {query_id}');
  });

  it('#2 sends each transaction as one BatchExecuteStatement, no BEGIN or COMMIT', () => {
    expect(all).not.toContain('BEGIN');
    expect(all).not.toContain('COMMIT');
    const batches = plan.statements.filter((s) => s.note?.startsWith('one BatchExecuteStatement'));
    expect(batches.length).toBe(2); // the lock, the publish
    expect(batches[1]!.note).toBe(`one BatchExecuteStatement, run by the Data API as a single transaction (${ALL_TABLES.length * 3 - 3} statements):`);
  });

  it('names the workgroup, and uses the cluster’s default role when none is set', () => {
    expect(plan.warehouse).toBe('Redshift Data API workgroup sparkify/dev in us-west-2 (schema sparkify)');
    expect(first(plan, /^COPY /)).toContain('IAM_ROLE default');
  });
});

describe('dry run: PostgreSQL and DuckDB, without connecting or creating anything', () => {
  it('PostgreSQL: the lock, COPY … FROM STDIN per staging table, the transaction and ANALYZE; nothing is reached', async () => {
    const plan = await dryRun(
      { kind: 'postgres', connection: { host: 'nohost.invalid', port: 1, database: 'db', user: 'me', password: 'hunter2-secret' }, schema: 'sparkify' },
      'run',
      { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS },
    );
    const all = sql(plan);
    expect(all[0]).toBe(`SET TIME ZONE 'UTC'; SET extra_float_digits = 3; SET client_min_messages = warning`);
    expect(all).toContain(`SELECT pg_try_advisory_lock(1397772875, (SELECT oid::int FROM pg_namespace WHERE nspname = 'sparkify')) AS ok`);
    expect(all.filter((s) => / FROM STDIN$/.test(s))).toEqual([
      'COPY _sparkify_next_staging_songs (num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id, title, duration, year, file_id) FROM STDIN',
      'COPY _sparkify_next_etl_rejects (target_table, source, line, reason, raw) FROM STDIN',
      expect.stringMatching(/^COPY _sparkify_next_staging_events \(artist, auth, .*, userId, file_id\) FROM STDIN$/),
      'COPY _sparkify_next_etl_rejects (target_table, source, line, reason, raw) FROM STDIN',
    ]);
    expect(plan.statements.find((s) => s.sql?.startsWith('COPY _sparkify_next_staging_songs'))?.note).toMatch(/^the records of 71 files under .*song_data, read and converted here, each row with its file's id$/);
    expect(all).toContain('ANALYZE songplays');
    expect(JSON.stringify(plan)).not.toContain('hunter2');
  });

  it('DuckDB: read_json over the listed files, no ANALYZE, and the database file is never created', async () => {
    const file = path.join(dir, 'never.duckdb');
    const plan = await dryRun({ kind: 'duckdb', path: file }, 'run', { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    const all = sql(plan);
    const reads = all.filter((s) => s.includes('read_json(['));
    expect(reads).toHaveLength(2);
    expect(reads[1]).toContain(path.join(SAMPLE_LOGS, '2018/11/2018-11-01-events.json'));
    expect(all.some((s) => s.startsWith('ANALYZE'))).toBe(false);
    expect(existsSync(file)).toBe(false);
  });
});

describe('sparkify … --dry-run (the built CLI)', () => {
  it('prints the script of a run and its JSON, sends nothing, and exits 0', async () => {
    const file = path.join(dir, 'cli.duckdb');
    const text = await runCli(['run', '--dry-run', '--warehouse', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^-- sparkify run --dry-run: what would be sent to DuckDB .*cli\.duckdb; nothing was\.\n/);
    expect(text.stdout).toContain('BEGIN;\n');
    expect(existsSync(file)).toBe(false);
    const json = await runCli(['create-tables', '--dry-run', '--json', '--warehouse', 'postgres://me:s3cret@nohost.invalid:1/db']);
    expect(json.code).toBe(0);
    const envelope = JSON.parse(json.stdout) as { ok: boolean; command: string; warehouse: string; dryRun: boolean; result: Pick<DryRun, 'statements'> };
    expect(envelope).toMatchObject({ ok: true, command: 'create-tables', dryRun: true, warehouse: 'PostgreSQL me@nohost.invalid:1/db (schema public)' });
    const plan = envelope.result;
    expect(plan.statements.filter((s) => s.sql?.startsWith('CREATE TABLE '))).toHaveLength(ALL_TABLES.length);
    expect(json.stdout + json.stderr).not.toContain('s3cret');
  });
});
