/**
 * `sparkify cluster create | status | delete` through the CLI's main function.
 *
 * THE AWS CONTROL PLANE HERE IS AN SDK-LEVEL MOCK (test/helpers/fake-aws.ts,
 * aws-sdk-client-mock): no AWS is reachable from this machine. These tests
 * check the CLI's wiring, output, exit codes and dwh.cfg update, not AWS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { quietAwsSdk } from '../src/aws/quiet.js';
import type { ClusterClients } from '../src/cluster/index.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { DescribeClustersCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import { RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import { FakeAws, MY_IP, PASSWORD, awsErr, install, mockedClusterClients, mocks } from './helpers/fake-aws.js';
import { runMain } from './helpers/cli.js';

quietAwsSdk();
const clients: ClusterClients = mockedClusterClients();

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-cli-cluster-'));
const cfg = path.join(dir, 'dwh.cfg');
let fake: FakeAws;

beforeEach(() => {
  for (const m of Object.values(mocks)) m.reset();
  fake = new FakeAws();
  install(fake);
  writeFileSync(
    cfg,
    `# course settings\n[CLUSTER]\nHOST=\nDB_NAME=dwh\nDB_USER=dwhuser\nDB_PASSWORD=${PASSWORD}\nDB_PORT=5439\n\n[IAM_ROLE]\nARN=\n\n[S3]\nLOG_DATA='s3://udacity-dend/log_data'\n\n[AWS]\nREGION=us-west-2\n`,
  );
});
afterAll(() => {
  for (const m of Object.values(mocks)) m.restore();
  rmSync(dir, { recursive: true, force: true });
});

async function sparkify(args: string[], over: ClusterClients = clients) {
  let t = Date.UTC(2026, 0, 1);
  return runMain(args, {
    cwd: dir,
    deps: {
      cluster: {
        clients: () => over,
        discoverIp: async () => MY_IP,
        runOptions: { now: () => t, sleep: async (ms) => void (t += ms) },
      },
    },
  });
}

describe('sparkify cluster (SDK-level mocks of AWS)', () => {
  it('creates a provisioned cluster, prints progress, and writes HOST and the role ARN into dwh.cfg', async () => {
    const r = await sparkify(['cluster', 'create']);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/✓ role/);
    expect(r.stderr).toMatch(/✓ network/);
    expect(r.stdout).toMatch(/Cluster sparkify-dwh is available at .+:5439/);
    const text = readFileSync(cfg, 'utf8');
    expect(text).toMatch(/^# course settings/);
    expect(text).toMatch(/HOST=.+\.redshift\.amazonaws\.com/);
    expect(text).toMatch(/ARN=arn:aws:iam::\d+:role\/sparkify-dwh-redshift-s3-read/);
    expect(text).toContain("LOG_DATA='s3://udacity-dend/log_data'");
    const ingress = fake.calls.filter((c) => c.op === 'AuthorizeSecurityGroupIngress');
    expect(JSON.stringify(ingress)).toContain(`${MY_IP}/32`);
    expect(JSON.stringify(ingress)).not.toContain('0.0.0.0/0');
  });

  it('reports status as JSON, and deletes with --yes', async () => {
    expect((await sparkify(['cluster', 'create', '--quiet'])).code).toBe(0);
    const status = await sparkify(['cluster', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, command: 'cluster status', result: { kind: 'provisioned', name: 'sparkify-dwh', phase: 'available' } });
    const del = await sparkify(['cluster', 'delete', '--yes']);
    expect(del.code).toBe(0);
    expect(del.stdout).toMatch(/sparkify-dwh deleted; 1 inbound rule revoked; role deleted/);
    expect(fake.clusters.size).toBe(0);
  });

  it('refuses to delete without confirmation when there is no terminal', async () => {
    const r = await sparkify(['cluster', 'delete']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[ABORTED\]: Nothing was deleted/);
    expect(r.stderr).toMatch(/--yes/);
    expect(fake.calls.filter((c) => c.op.startsWith('Delete'))).toEqual([]);
  });

  it("reads the course notebook's [DWH] settings: creates dwhcluster with its nodes, role and password", async () => {
    writeFileSync(
      cfg,
      `[AWS]\nKEY=AKIAIOSFODNN7EXAMPLE\nSECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nREGION=us-west-2\n\n[DWH]\nDWH_CLUSTER_TYPE=multi-node\nDWH_NUM_NODES=4\n` +
        `DWH_NODE_TYPE=dc2.large\nDWH_IAM_ROLE_NAME=dwhRole\nDWH_CLUSTER_IDENTIFIER=dwhCluster\nDWH_DB=dwh\nDWH_DB_USER=dwhuser\nDWH_DB_PASSWORD=${PASSWORD}\nDWH_PORT=5439\n`,
      { mode: 0o600 },
    );
    const r = await sparkify(['cluster', 'create', '--quiet']);
    expect(r.code).toBe(0);
    const create = fake.calls.find((c) => c.op === 'CreateCluster')!;
    expect(create.input).toMatchObject({ ClusterIdentifier: 'dwhcluster', NodeType: 'dc2.large', NumberOfNodes: 4, DBName: 'dwh', MasterUsername: 'dwhuser', Port: 5439 });
    expect(fake.calls.find((c) => c.op === 'CreateRole')!.input).toMatchObject({ RoleName: 'dwhRole' });
    const status = await sparkify(['cluster', 'status', '--json']);
    expect(JSON.parse(status.stdout).result).toMatchObject({ name: 'dwhcluster', phase: 'available' });
    expect(r.stdout + r.stderr + status.stdout + status.stderr).not.toMatch(new RegExp(`${PASSWORD}|AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI`));
  });

  it('creates a Serverless workgroup with --serverless', async () => {
    const r = await sparkify(['cluster', 'create', '--serverless', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, command: 'cluster create', result: { kind: 'serverless', endpoint: { port: 5439 } } });
    expect(readFileSync(cfg, 'utf8')).toMatch(/WORKGROUP=sparkify-dwh/);
  });

  it('answers --json with one envelope for create, status and delete, success and failure alike', async () => {
    const parse = (r: { code: number; stdout: string; stderr: string }, command: string) => {
      expect(r.stderr).toBe('');
      const env = JSON.parse(r.stdout) as { ok: boolean; command: string; result?: Record<string, unknown>; error?: { code: string; issues?: unknown[] }; warnings: string[] };
      expect(env).toMatchObject({ ok: r.code === 0, command });
      return env;
    };
    // The dwh.cfg of these tests holds a password and is readable by others: a warning, listed in the envelope.
    expect(parse(await sparkify(['cluster', 'status', '--json']), 'cluster status').warnings).toEqual([expect.stringMatching(/holds \[CLUSTER\] DB_PASSWORD .*chmod 600/)]);
    const created = parse(await sparkify(['cluster', 'create', '--json']), 'cluster create');
    expect(created.result).toMatchObject({ kind: 'provisioned', name: 'sparkify-dwh' });
    expect(String(created.result!.seconds)).toMatch(/^\d+(\.\d{1,3})?$/);
    expect(parse(await sparkify(['cluster', 'status', '--json']), 'cluster status').result).toMatchObject({ phase: 'available' });
    const refused = await sparkify(['cluster', 'delete', '--json']);
    expect(refused.code).toBe(1);
    expect(parse(refused, 'cluster delete').error).toMatchObject({ code: 'ABORTED' });
    expect(parse(await sparkify(['cluster', 'delete', '--yes', '--json']), 'cluster delete').result).toMatchObject({ deployment: 'deleted' });
    writeFileSync(cfg, '[CLUSTER]\nDB_PORT=abc\n');
    const bad = await sparkify(['cluster', 'status', '--json']);
    expect(bad.code).toBe(2);
    expect(parse(bad, 'cluster status').error).toMatchObject({ code: 'CONFIG_INVALID', issues: expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining('abc') })]) });
  });

  /*
   * The next three run against the SDK-level mocks of test/helpers/fake-aws.ts (aws-sdk-client-mock),
   * not AWS: real SDK clients whose `send` the mocks answer. Credentials are what the clients resolve
   * themselves (config.credentials), which the mocks leave alone.
   */
  it('status without AWS credentials: one message naming them, the same on every run, before any call', async () => {
    const nothing = () => Promise.reject(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const config = { region: 'us-west-2', credentials: nothing };
    const bare: ClusterClients = { iam: new IAMClient(config), redshift: new RedshiftClient(config), redshiftServerless: new RedshiftServerlessClient(config), ec2: new EC2Client(config) };
    // Were the lookups made, each would fail on its own, differently.
    for (const op of ['DescribeClusters', 'GetRole', 'DescribeSecurityGroupRules']) fake.failOnce(op, awsErr('UnrecognizedClient', `${op}: The security token included in the request is invalid`, 403));
    const runs = await Promise.all([1, 2, 3, 4, 5].map(() => sparkify(['cluster', 'status'], bare)));
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(runs[0]!.stderr);
    }
    expect(runs[0]!.stderr.split('\n').find((l) => l.startsWith('error'))).toBe(
      'error [AWS_FAILED]: Could not read where cluster sparkify-dwh stands: no AWS credentials were found (not in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ' +
        'AWS_PROFILE, ~/.aws/credentials or ~/.aws/config, SSO, nor an instance role; nor [AWS] KEY/SECRET in dwh.cfg)',
    );
    expect(runs[0]!.stderr).toMatch(/hint: Configure credentials: `aws configure`/);
    expect(fake.calls).toEqual([]);
  });

  it('status without network: the first lookup in a fixed order is reported, with a hint that fits status', async () => {
    const offline = (host: string) => Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    // The cluster's lookup fails last in time, and is still the one reported.
    mocks.redshift.on(DescribeClustersCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw offline('redshift.us-west-2.amazonaws.com');
    });
    fake.failOnce('GetRole', offline('iam.amazonaws.com'));
    fake.failOnce('DescribeSecurityGroupRules', offline('ec2.us-west-2.amazonaws.com'));
    const r = await sparkify(['cluster', 'status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [AWS_FAILED]: Could not look up Redshift cluster sparkify-dwh: AWS did not answer (ENOTFOUND: getaddrinfo ENOTFOUND redshift.us-west-2.amazonaws.com)');
    expect(r.stderr).toContain('hint: Check the network connection (and a proxy, if you use one), then try again in a minute.');
    expect(r.stderr).not.toMatch(/resumes/);
  });

  it('create cut off by the network says that re-running it resumes where it stopped', async () => {
    fake.failOnce('CreateCluster', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const r = await sparkify(['cluster', 'create']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hint: Try again in a minute; the command resumes where it stopped.');
  });

  it('lists configuration problems with exit code 2 before calling AWS', async () => {
    writeFileSync(cfg, '[CLUSTER]\nDB_PORT=abc\n');
    const r = await sparkify(['cluster', 'create']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DB_PORT/);
    expect(r.stderr).toMatch(/DB_PASSWORD/);
    expect(fake.calls).toEqual([]);
  });
});
