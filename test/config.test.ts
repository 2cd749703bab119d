/**
 * Configuration: dwh.cfg, then the environment, then flags; every problem at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsWithFallback } from '../src/aws/credentials.js';
import { clusterSettingsFromConfig } from '../src/cluster/settings.js';
import { loadConfig } from '../src/config/config.js';
import { readConfigLayers } from '../src/config/layers.js';
import { redactUrl } from '../src/config/redact.js';
import { describeTarget } from '../src/warehouses/open-warehouse.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COURSE_CFG = `[CLUSTER]
HOST=dwhcluster.abc123.us-west-2.redshift.amazonaws.com
DB_NAME=dwh
DB_USER=dwhuser
DB_PASSWORD=Passw0rd
DB_PORT=5439

[IAM_ROLE]
ARN='arn:aws:iam::123456789012:role/dwhRole'

[S3]
LOG_DATA='s3://udacity-dend/log_data'
LOG_JSONPATH='s3://udacity-dend/log_json_path.json'
SONG_DATA='s3://udacity-dend/song_data'
`;

function cfg(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('config', () => {
  it('defaults to ./sparkify.duckdb and the bundled sample, with nothing configured', () => {
    const { config, issues } = loadConfig({ env: {}, cwd: dir });
    expect(issues).toEqual([]);
    expect(config!.warehouse).toEqual({ kind: 'duckdb', path: path.join(dir, 'sparkify.duckdb') });
    expect(config!.songs).toMatch(/data[/\\]sparkify-sample[/\\]song_data$/);
    expect(config!.logs).toMatch(/data[/\\]sparkify-sample[/\\]log_data$/);
    expect(config!.load).toEqual({ maxRejects: undefined, matchedOnly: false });
  });

  it("reads the course's dwh.cfg as it is: quoted values, [S3] sources, [IAM_ROLE] ARN", () => {
    const file = cfg('course.cfg', `${COURSE_CFG}\n[WAREHOUSE]\nTARGET=redshift\n`);
    const { config, issues } = loadConfig({ flags: { config: file }, env: {}, cwd: dir });
    expect(issues).toEqual([]);
    expect(config!.songs).toBe('s3://udacity-dend/song_data');
    expect(config!.logs).toBe('s3://udacity-dend/log_data');
    expect(config!.warehouse).toEqual({
      kind: 'redshift',
      connection: { host: 'dwhcluster.abc123.us-west-2.redshift.amazonaws.com', port: 5439, database: 'dwh', user: 'dwhuser', password: 'Passw0rd', sslmode: 'require' },
      schema: 'public',
      // Redshift's own settings travel in its target, not through the pipeline.
      copy: { iamRoleArn: 'arn:aws:iam::123456789012:role/dwhRole', logJsonPaths: 's3://udacity-dend/log_json_path.json' },
    });
    expect(describeTarget(config!.warehouse)).not.toContain('Passw0rd');
  });

  it('lets the environment win over the file, and flags over both', () => {
    const file = cfg('layers.cfg', '[WAREHOUSE]\nTARGET=from-file.duckdb\nMAX_REJECTS=5\n[S3]\nSONG_DATA=songs-file\n');
    const env = { SPARKIFY_WAREHOUSE: 'from-env.duckdb', SPARKIFY_MAX_REJECTS: '7', SPARKIFY_SONGS: 'songs-env' };
    const fromEnv = loadConfig({ flags: { config: file }, env, cwd: dir }).config!;
    expect(fromEnv.warehouse).toEqual({ kind: 'duckdb', path: path.join(dir, 'from-env.duckdb') });
    expect(fromEnv.load.maxRejects).toBe(7);
    expect(fromEnv.songs).toBe(path.join(dir, 'songs-env'));
    const fromFlags = loadConfig({ flags: { config: file, warehouse: 'flag.duckdb', maxRejects: '0', songs: 's3://b/p/' }, env, cwd: dir }).config!;
    expect(fromFlags.warehouse).toEqual({ kind: 'duckdb', path: path.join(dir, 'flag.duckdb') });
    expect(fromFlags.load.maxRejects).toBe(0);
    expect(fromFlags.songs).toBe('s3://b/p');
  });

  it('builds PostgreSQL connections from a URL, DATABASE_URL, or PG* variables over [CLUSTER]', () => {
    const url = loadConfig({ flags: { warehouse: 'postgres://ann:s%40cret@db.example:6543/music?sslmode=require', schema: 'sparkify' }, env: {}, cwd: dir }).config!;
    expect(url.warehouse).toEqual({
      kind: 'postgres',
      schema: 'sparkify',
      connection: { host: 'db.example', port: 6543, database: 'music', user: 'ann', password: 's@cret', sslmode: 'require' },
    });
    const env = loadConfig({ flags: { warehouse: 'postgres' }, env: { DATABASE_URL: 'postgresql://bob@h/db' }, cwd: dir }).config!;
    expect(env.warehouse).toMatchObject({ kind: 'postgres', connection: { host: 'h', port: 5432, user: 'bob', database: 'db' } });
    const file = cfg('pg.cfg', COURSE_CFG);
    const parts = loadConfig({ flags: { config: file, warehouse: 'postgres' }, env: { PGHOST: '127.0.0.1', PGPORT: '5432' }, cwd: dir }).config!;
    expect(parts.warehouse).toMatchObject({ kind: 'postgres', schema: 'public', connection: { host: '127.0.0.1', port: 5432, database: 'dwh', user: 'dwhuser' } });
  });

  it('reads Redshift Data API targets for a cluster or a Serverless workgroup', () => {
    const s3 = { songs: 's3://b/song_data', logs: 's3://b/log_data' };
    const cluster = loadConfig({ flags: { warehouse: 'redshift+data-api://dwhcluster/dwh?user=awsuser', ...s3 }, env: { AWS_REGION: 'us-west-2' }, cwd: dir }).config!;
    expect(cluster.warehouse).toEqual({
      kind: 'redshift-data-api',
      dataApi: { clusterIdentifier: 'dwhcluster', database: 'dwh', dbUser: 'awsuser' },
      schema: 'public',
      region: 'us-west-2',
      copy: { region: 'us-west-2' },
    });
    const serverless = loadConfig({ flags: { warehouse: 'redshift+data-api://sparkify/dev?workgroup=1', ...s3 }, env: {}, cwd: dir }).config!;
    expect(serverless.warehouse).toMatchObject({ kind: 'redshift-data-api', dataApi: { workgroupName: 'sparkify', database: 'dev' } });
    expect(describeTarget(serverless.warehouse)).toBe('Redshift Data API workgroup sparkify/dev (schema public)');
    // Neither a user nor a secret: the caller's IAM identity (GetClusterCredentialsWithIAM), as the Data API allows.
    const iam = loadConfig({ flags: { warehouse: 'redshift+data-api://dwhcluster/dwh', ...s3 }, env: {}, cwd: dir });
    expect(iam.issues).toEqual([]);
    expect(iam.config!.warehouse).toMatchObject({ kind: 'redshift-data-api', dataApi: { clusterIdentifier: 'dwhcluster', database: 'dwh' } });
  });

  it('finds what Redshift cannot load before any run: local folders, other S3 stores, a misplaced JSONPaths file', () => {
    const target = { warehouse: 'redshift://awsuser@x.abc.us-west-2.redshift.amazonaws.com/dev' };
    // The bundled sample is a folder on this machine: COPY cannot read it.
    const local = loadConfig({ flags: target, env: {}, cwd: dir });
    expect(local.config).toBeUndefined();
    expect(local.issues.map((i) => i.where)).toEqual(['the song files (--songs, [S3] SONG_DATA)', 'the event logs (--logs, [S3] LOG_DATA)']);
    expect(local.issues[0]!.message).toMatch(/^Redshift loads only from Amazon S3, and .*sparkify-sample[/\\]song_data is a folder on this machine/);

    const minio = loadConfig({ flags: { ...target, songs: 's3://b/song_data', logs: 's3://b/log_data', s3Endpoint: 'http://127.0.0.1:9000' }, env: {}, cwd: dir });
    expect(minio.issues.map((i) => i.message)).toEqual([
      expect.stringContaining('not the S3-compatible endpoint http://127.0.0.1:9000'),
      expect.stringContaining('not the S3-compatible endpoint http://127.0.0.1:9000'),
    ]);

    const env = { SPARKIFY_LOG_JSONPATH: 's3://b/log_data/paths.json' };
    const paths = loadConfig({ flags: { ...target, songs: 's3://b/song_data', logs: 's3://b/log_data' }, env, cwd: dir });
    expect(paths.issues).toEqual([{ where: 'JSONPaths file ([S3] LOG_JSONPATH)', message: expect.stringContaining('lies under the event log location s3://b/log_data') }]);
    const notS3 = loadConfig({ flags: { ...target, songs: 's3://b/song_data', logs: 's3://b/log_data' }, env: { SPARKIFY_LOG_JSONPATH: '/home/me/paths.json' }, cwd: dir });
    expect(notS3.issues[0]!.message).toMatch(/is not an s3:\/\/ object/);

    const bucketless = loadConfig({ flags: { songs: 's3:///song_data' }, env: {}, cwd: dir });
    expect(bucketless.issues).toEqual([{ where: '--songs', message: '"s3:///song_data" names no bucket (expected s3://bucket/prefix)' }]);
  });

  it('reports every problem at once, saying where each value came from', () => {
    const file = cfg('bad.cfg', '[CLUSTER]\nDB_PORT=99999\nSSLMODE=sometimes\n[WAREHOUSE]\nMAX_REJECTS=many\nMATCHED_ONLY=perhaps\nSCHEMA=1bad\n');
    const { config, issues } = loadConfig({ flags: { config: file, warehouse: 'postgres', s3Endpoint: 'not a url' }, env: {}, cwd: dir });
    expect(config).toBeUndefined();
    expect(issues.map((i) => i.where).sort()).toEqual(
      [
        '--s3-endpoint',
        'bad.cfg [CLUSTER] DB_PORT',
        'bad.cfg [CLUSTER] SSLMODE',
        'bad.cfg [WAREHOUSE] MATCHED_ONLY',
        'bad.cfg [WAREHOUSE] MAX_REJECTS',
        'bad.cfg [WAREHOUSE] SCHEMA',
        'bad.cfg [CLUSTER] HOST',
      ].sort(),
    );
    expect(issues.find((i) => i.where.endsWith('DB_PORT'))!.message).toBe('"99999" is not a port number (1-65535)');
  });

  it('says that no config file was found, and where it looked, when Redshift or PostgreSQL needs [CLUSTER] HOST', () => {
    const empty = mkdtempSync(path.join(dir, 'no-cfg-'));
    for (const warehouse of ['redshift', 'postgres']) {
      const { issues } = loadConfig({ flags: { warehouse }, env: {}, cwd: empty });
      expect(issues).toHaveLength(1);
      expect(issues[0]!.where).toBe('dwh.cfg [CLUSTER] HOST');
      expect(issues[0]!.message).toMatch(new RegExp(`^is not set: no config file was found \\(looked for ${path.join(empty, 'dwh.cfg').replace(/[\\/.]/g, '\\$&')}\\); `));
      expect(issues[0]!.message).toContain('--config <file>');
    }
    // A file named but missing is said once, where it was named; HOST only points there.
    const named = loadConfig({ flags: { warehouse: 'redshift', config: 'gone.cfg' }, env: {}, cwd: empty }).issues;
    expect(named.map((i) => i.where)).toEqual(['--config', 'gone.cfg [CLUSTER] HOST']);
    expect(named[1]!.message).toBe('is not set: the file named by --config does not exist; or set PGHOST to the cluster endpoint');
    // With a dwh.cfg that leaves HOST empty, the message is about the key.
    const file = cfg('empty-host.cfg', '[CLUSTER]\nHOST=\n');
    expect(loadConfig({ flags: { warehouse: 'redshift', config: file }, env: {}, cwd: dir }).issues[0]!.message).toMatch(/^is empty: set it to the cluster endpoint/);
  });

  it('says when an explicit config file is missing, and refuses unknown warehouse URLs without echoing passwords', () => {
    expect(loadConfig({ flags: { config: 'nope.cfg' }, env: {}, cwd: dir }).issues).toEqual([
      { where: '--config', message: `file ${path.join(dir, 'nope.cfg')} does not exist` },
    ]);
    const { issues } = loadConfig({ flags: { warehouse: 'mysql://root:hunter2@h/db' }, env: {}, cwd: dir });
    expect(issues[0]!.message).toContain('mysql://root:***@h/db');
    expect(JSON.stringify(issues)).not.toContain('hunter2');
    expect(redactUrl('postgres://u:p@h:1/d')).toBe('postgres://u:***@h:1/d');
  });
});

describe("the course's own files, as course users have them", () => {
  /** A folder of its own holding `files`, so that a dwh-cluster.cfg beside one dwh.cfg is not beside another. */
  const folder = (files: Record<string, string>) => {
    const d = mkdtempSync(path.join(dir, 'course-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text, { mode: 0o600 });
    return d;
  };
  const IAC = `[AWS]
KEY=AKIAIOSFODNN7EXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[DWH]
DWH_CLUSTER_TYPE=multi-node
DWH_NUM_NODES=4
DWH_NODE_TYPE=dc2.large
DWH_IAM_ROLE_NAME=dwhRole
DWH_CLUSTER_IDENTIFIER=dwhCluster
DWH_DB=dwh
DWH_DB_USER=dwhuser
DWH_DB_PASSWORD=Passw0rd
DWH_PORT=5439
`;

  it('makes [CLUSTER] HOST the target when none is named: Redshift for a Redshift endpoint, and says why', () => {
    const { config, issues } = loadConfig({ env: {}, cwd: folder({ 'dwh.cfg': COURSE_CFG }) });
    expect(issues).toEqual([]);
    expect(config!.warehouse.kind).toBe('redshift');
    expect(config!.warehouseChosen).toBe(
      'dwh.cfg [CLUSTER] HOST, a Redshift endpoint (no --warehouse, SPARKIFY_WAREHOUSE or [WAREHOUSE] TARGET)',
    );
  });

  it('PostgreSQL for another host, Redshift for any host on port 5439; a named target still wins', () => {
    const pg = folder({ 'dwh.cfg': '[CLUSTER]\nHOST=127.0.0.1\nDB_PORT=5432\nDB_NAME=test\nDB_USER=postgres\n' });
    const postgres = loadConfig({ env: {}, cwd: pg }).config!;
    expect(postgres.warehouse).toEqual({ kind: 'postgres', connection: { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' }, schema: 'public' });
    expect(postgres.warehouseChosen).toBe('dwh.cfg [CLUSTER] HOST, not a Redshift endpoint, so PostgreSQL (no --warehouse, SPARKIFY_WAREHOUSE or [WAREHOUSE] TARGET)');
    const tunnel = folder({ 'dwh.cfg': `${COURSE_CFG.replace(/HOST=.*/, 'HOST=localhost')}` });
    expect(loadConfig({ env: {}, cwd: tunnel }).config!.warehouseChosen).toMatch(/HOST, on port 5439 \(dwh\.cfg \[CLUSTER\] DB_PORT\), Redshift's \(no/);
    const named = loadConfig({ flags: { warehouse: 'x.duckdb' }, env: {}, cwd: pg }).config!;
    expect([named.warehouse.kind, named.warehouseChosen]).toEqual(['duckdb', 'named by --warehouse']);
  });

  it("reads the notebook's [DWH] keys for the cluster, in dwh.cfg or dwh-cluster.cfg, ours winning where both are set", () => {
    for (const d of [folder({ 'dwh.cfg': `${COURSE_CFG}\n${IAC}` }), folder({ 'dwh.cfg': COURSE_CFG, 'dwh-cluster.cfg': IAC })]) {
      const layers = readConfigLayers({ env: {}, cwd: d });
      const { settings, issues } = clusterSettingsFromConfig({ sections: layers.sections, fileName: layers.fileName, origin: layers.origin, requirePassword: true });
      expect(issues).toEqual([]);
      // AWS keeps identifiers in lower case: the notebook's dwhCluster is dwhcluster.
      expect(settings).toMatchObject({ kind: 'provisioned', identifier: 'dwhcluster', nodeType: 'dc2.large', numberOfNodes: 4, clusterType: 'multi-node', roleName: 'dwhRole', password: 'Passw0rd' });
    }
    const both = folder({ 'dwh.cfg': `[CLUSTER]\nDB_PORT=5440\n\n${IAC}` });
    const layers = readConfigLayers({ env: {}, cwd: both });
    expect(layers.fromFile('CLUSTER', 'DB_PORT')).toEqual({ value: '5440', where: 'dwh.cfg [CLUSTER] DB_PORT' });
    expect(layers.fromFile('CLUSTER', 'DB_USER')).toEqual({ value: 'dwhuser', where: 'dwh.cfg [DWH] DWH_DB_USER' });
    // A problem in a [DWH] value names the key the user wrote.
    const bad = folder({ 'dwh.cfg': IAC.replace('DWH_NUM_NODES=4', 'DWH_NUM_NODES=many') });
    const l = readConfigLayers({ env: {}, cwd: bad });
    expect(clusterSettingsFromConfig({ sections: l.sections, fileName: l.fileName, origin: l.origin }).issues).toEqual([
      { where: 'dwh.cfg [DWH] DWH_NUM_NODES', message: '"many" is not a number of nodes (a whole number from 1 to 128)' },
    ]);
  });

  it('warns about keys and sections it does not read, with the nearest it does', () => {
    const d = folder({ 'dwh.cfg': '[WAREHOUSE]\nTARGTE=duckdb\n\n[S3]\nSONG_DTA=x\nREGION=us-west-2\nBUCKET=b\n\n[WAREHOSE]\nSCHEMA=s\n\n[NOTES]\nA=1\n' });
    expect(loadConfig({ env: {}, cwd: d }).warnings).toEqual([
      'dwh.cfg [WAREHOUSE] TARGTE is not a setting sparkify reads; did you mean TARGET?',
      'dwh.cfg [S3] SONG_DTA is not a setting sparkify reads; did you mean SONG_DATA?',
      'dwh.cfg [S3] REGION is not a setting sparkify reads; did you mean [AWS] REGION?',
      'dwh.cfg [S3] BUCKET is not a setting sparkify reads',
      'dwh.cfg [WAREHOSE] is not a section sparkify reads; did you mean [WAREHOUSE]?',
      'dwh.cfg [NOTES] is not a section sparkify reads (it reads [CLUSTER], [IAM_ROLE], [S3], [AWS], [DWH], [WAREHOUSE], [DUCKDB])',
    ]);
  });

  it('keeps [AWS] KEY/SECRET as the last resort of the credential chain, says so, and never shows them', () => {
    const d = folder({ 'dwh.cfg': IAC });
    const { config, warnings, trace } = loadConfig({ env: {}, cwd: d });
    expect(config!.aws.keys).toEqual({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
    expect(warnings).toContainEqual(expect.stringMatching(/^dwh\.cfg \[AWS\] KEY and SECRET are used only when AWS finds no other credentials/));
    expect(trace.filter((t) => t.name.startsWith('aws'))).toEqual([
      { name: 'aws key (last resort)', value: 'set', from: 'dwh.cfg [AWS] KEY' },
      { name: 'aws secret (last resort)', value: 'set', from: 'dwh.cfg [AWS] SECRET' },
    ]);
    expect(JSON.stringify({ warnings, trace })).not.toMatch(/AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI/);
    const half = folder({ 'dwh.cfg': '[AWS]\nKEY=AKIAIOSFODNN7EXAMPLE\n' });
    expect(loadConfig({ env: {}, cwd: half }).issues).toEqual([{ where: 'dwh.cfg [AWS] SECRET', message: 'is empty while dwh.cfg [AWS] KEY is set: give both, or neither' }]);
  });

  it('uses the keys only when the chain finds nothing', async () => {
    const keys = { accessKeyId: 'AKIAFILE', secretAccessKey: 'file-secret' };
    const nothing = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const fromEnv = { accessKeyId: 'AKIAENV', secretAccessKey: 'env-secret' };
    expect(credentialsWithFallback(undefined)).toBeUndefined();
    expect(await credentialsWithFallback(keys, async () => fromEnv)!()).toEqual(fromEnv);
    expect(await credentialsWithFallback(keys, async () => Promise.reject(nothing))!()).toEqual(keys);
    const expired = Object.assign(new Error('The SSO session has expired'), { name: 'CredentialsProviderError' });
    await expect(credentialsWithFallback(keys, async () => Promise.reject(expired))!()).rejects.toBe(expired);
  });

  it('sparkify config: every setting with where it came from, the target and why, the cluster, secrets as set/unset', async () => {
    const d = folder({ 'dwh.cfg': `${COURSE_CFG}\n${IAC}\n[WAREHOUSE]\nTARGTE=duckdb\n` });
    const text = await runCli(['config'], { cwd: d });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('warehouse      Redshift dwhuser@dwhcluster.abc123.us-west-2.redshift.amazonaws.com:5439/dwh (schema public)\n');
    expect(text.stdout).toMatch(/ {2}password +set +dwh\.cfg \[CLUSTER\] DB_PASSWORD\n/);
    expect(text.stdout).toMatch(/ {2}identifier +dwhcluster +dwh\.cfg \[DWH\] DWH_CLUSTER_IDENTIFIER\n/);
    expect(text.stdout).toContain('⚠ dwh.cfg [WAREHOUSE] TARGTE is not a setting sparkify reads; did you mean TARGET?');
    const json = await runCli(['config', '--json', '--schema', 'analytics'], { cwd: d });
    const described = JSON.parse(json.stdout).result as { warehouse: string; settings: { name: string; value: unknown; from: string }[]; sample: { songs: boolean } };
    expect(described.settings.find((x) => x.name === 'schema')).toEqual({ name: 'schema', value: 'analytics', from: '--schema' });
    expect(described.sample.songs).toBe(false);
    for (const out of [text.stdout, json.stdout, text.stderr, json.stderr]) expect(out).not.toMatch(/Passw0rd|AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI/);
    const invalid = await runCli(['config', '--max-rejects', 'lots'], { cwd: folder({}) });
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toContain('✗ --max-rejects: "lots" is not a whole number of rejected records (0 or more)');
    expect(invalid.stdout).toContain('songs and logs from the bundled sample at');
  });
});
