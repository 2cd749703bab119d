/**
 * The Redshift cluster's life: create, status, delete, provisioned and Serverless.
 *
 * THESE ARE SDK-LEVEL MOCKS OF THE AWS CONTROL PLANE (IAM, Redshift, Redshift
 * Serverless, EC2). No AWS is reachable here. aws-sdk-client-mock replaces each
 * client's `send`; the small in-memory `FakeAws` below plays AWS's part (roles,
 * clusters that take a few polls to become available, security-group rules,
 * AWS's error names). So these tests check which calls we make, in which
 * order, and how we handle AWS's answers; they cannot show that real AWS
 * accepts the calls. Time is a fake clock: nothing here really waits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClusterQuotaExceededFault, InvalidClusterStateFault } from '@aws-sdk/client-redshift';
import { ServiceQuotaExceededException } from '@aws-sdk/client-redshift-serverless';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clusterSettingsFromConfig,
  clusterStatus,
  createCluster,
  deleteCluster,
  type ClusterClients,
  type ClusterEvent,
  type ClusterSettings,
  type ClusterSettingsInput,
} from '../src/cluster/index.js';
import { quietAwsSdk } from '../src/aws/quiet.js';
import { loadConfig } from '../src/config/config.js';
import { readDwhCfg } from '../src/config/dwh-cfg.js';
import { SparkifyError } from '../src/errors.js';

import { ACCOUNT, FakeAws, MY_IP, PASSWORD, S3_READ, awsErr, install, meta, mockedClusterClients, mocks } from './helpers/fake-aws.js';

// ---------------------------------------------------------------------------
// Fixtures: settings from dwh.cfg-like sections, a fake clock, events.
// ---------------------------------------------------------------------------

const SECTIONS = {
  CLUSTER: { DB_NAME: 'sparkify', DB_USER: 'sparkify_admin', DB_PASSWORD: PASSWORD, DB_PORT: '5439' },
  AWS: { REGION: 'us-west-2' },
};

function settingsFor(kind: 'provisioned' | 'serverless', input: Partial<ClusterSettingsInput> = {}): ClusterSettings {
  const { settings, issues } = clusterSettingsFromConfig({ sections: SECTIONS, serverless: kind === 'serverless', requirePassword: true, ...input });
  expect(issues).toEqual([]);
  return settings!;
}

quietAwsSdk();
const clients: ClusterClients = mockedClusterClients();

let fake: FakeAws;
let events: ClusterEvent[];
let clock: { t: number; sleeps: number[] };

/** The options every run shares: the fake clock (sleep only moves it), events, the clients. */
function run() {
  return {
    clients,
    onProgress: (e: ClusterEvent) => events.push(e),
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
}

beforeEach(() => {
  for (const m of Object.values(mocks)) m.reset();
  fake = new FakeAws();
  install(fake);
  events = [];
  clock = { t: Date.UTC(2026, 0, 2, 3, 4, 5), sleeps: [] };
});
afterAll(() => {
  for (const m of Object.values(mocks)) m.restore();
});

async function rejection(p: Promise<unknown>): Promise<SparkifyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SparkifyError);
  return err as SparkifyError;
}

const ROLE = 'sparkify-dwh-redshift-s3-read';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;

// ---------------------------------------------------------------------------

describe('createCluster: provisioned', () => {
  it('creates the role, the cluster and one /32 ingress rule, waits with backoff, and returns the endpoint', async () => {
    const started = Date.now();
    const result = await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP });

    expect(fake.mutations()).toEqual(['CreateRole', 'AttachRolePolicy', 'CreateCluster', 'AuthorizeSecurityGroupIngress']);
    expect(fake.ops().slice(0, 6)).toEqual(['DescribeClusters', 'GetRole', 'CreateRole', 'AttachRolePolicy', 'CreateCluster', 'DescribeClusters']);

    const [role] = fake.inputs('CreateRole');
    expect(JSON.parse(role!.AssumeRolePolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'redshift.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(fake.inputs('AttachRolePolicy')).toEqual([{ RoleName: ROLE, PolicyArn: S3_READ }]);
    expect(fake.inputs('CreateCluster')[0]).toMatchObject({
      ClusterIdentifier: 'sparkify-dwh',
      ClusterType: 'multi-node',
      NodeType: 'ra3.large',
      NumberOfNodes: 2,
      DBName: 'sparkify',
      MasterUsername: 'sparkify_admin',
      MasterUserPassword: PASSWORD,
      Port: 5439,
      IamRoles: [ROLE_ARN],
      PubliclyAccessible: true,
    });
    expect(fake.inputs('AuthorizeSecurityGroupIngress')[0]).toMatchObject({
      GroupId: 'sg-0default',
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5439, ToPort: 5439, IpRanges: [{ CidrIp: `${MY_IP}/32` }] }],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'sparkify-dwh', Value: 'cluster/sparkify-dwh' }] }],
    });

    expect(result).toMatchObject({
      kind: 'provisioned',
      name: 'sparkify-dwh',
      endpoint: { host: 'sparkify-dwh.c1x2y3z4.us-west-2.redshift.amazonaws.com', port: 5439 },
      roleArn: ROLE_ARN,
      created: { role: true, cluster: true },
      ingress: { cidr: `${MY_IP}/32`, securityGroupIds: ['sg-0default'], added: ['sg-0default'] },
    });
    // Backoff: pauses grow; the waiting was on the fake clock only.
    expect(clock.sleeps.length).toBeGreaterThan(0);
    expect(clock.sleeps).toEqual([...clock.sleeps].sort((a, b) => a - b));
    expect(events.some((e) => e.status === 'waiting' && e.state === 'creating')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('uses the injected IP discovery when no address is given', async () => {
    let asked = 0;
    const result = await createCluster({ ...run(), settings: settingsFor('provisioned'), discoverIp: async () => (asked++, '198.51.100.23') });
    expect(asked).toBe(1);
    expect(result.ingress?.cidr).toBe('198.51.100.23/32');
    expect(fake.rules.map((r) => r.cidr)).toEqual(['198.51.100.23/32']);
  });

  it('retries CreateCluster while a new role is not yet visible to Redshift (IAM is eventually consistent)', async () => {
    fake.failOnce('CreateCluster', awsErr('InvalidParameterValue', `The IAM role ${ROLE_ARN} is not valid or cannot be assumed.`));
    await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP });
    expect(fake.count('CreateCluster')).toBe(2);
    expect(fake.created).toMatchObject({ role: 1, cluster: 1 });
  });

  it('waits for a cluster that is already being created instead of creating it again', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'creating', polls: 4, roles: [], db: 'sparkify', user: 'sparkify_admin', port: 5439 });
    fake.addRole(ROLE, { policies: [S3_READ] });
    // An existing cluster may lack our role: it is added once the cluster is available.
    const result = await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP });
    expect(fake.mutations()).toEqual(['AuthorizeSecurityGroupIngress', 'ModifyClusterIamRoles']);
    expect(fake.inputs('ModifyClusterIamRoles')).toEqual([{ ClusterIdentifier: 'sparkify-dwh', AddIamRoles: [ROLE_ARN] }]);
    expect(result.created).toEqual({ role: false, cluster: false });
    expect(events).toContainEqual(expect.objectContaining({ step: 'cluster', status: 'skipped' }));
  });

  it('resumes a paused cluster', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'paused', polls: 0, roles: [ROLE_ARN], db: 'sparkify', user: 'sparkify_admin', port: 5439 });
    fake.addRole(ROLE, { policies: [S3_READ] });
    const result = await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP });
    expect(fake.mutations()).toEqual(['ResumeCluster', 'AuthorizeSecurityGroupIngress']);
    expect(result.endpoint.host).toContain('sparkify-dwh');
  });

  it('asks for a password only when something must be created, before changing anything', async () => {
    const settings = settingsFor('provisioned', { sections: { CLUSTER: {} }, requirePassword: false });
    const err = await rejection(createCluster({ ...run(), settings, callerIp: MY_IP }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('DB_PASSWORD');
    expect(fake.mutations()).toEqual([]);
  });
});

describe('createCluster: serverless', () => {
  it('creates the role, the namespace, the workgroup and one /32 ingress rule', async () => {
    const result = await createCluster({ ...run(), settings: settingsFor('serverless'), callerIp: MY_IP });

    expect(fake.mutations()).toEqual(['CreateRole', 'AttachRolePolicy', 'CreateNamespace', 'CreateWorkgroup', 'AuthorizeSecurityGroupIngress']);
    expect(fake.inputs('CreateNamespace')[0]).toMatchObject({
      namespaceName: 'sparkify-dwh',
      adminUsername: 'sparkify_admin',
      adminUserPassword: PASSWORD,
      dbName: 'sparkify',
      iamRoles: [ROLE_ARN],
    });
    expect(fake.inputs('CreateWorkgroup')[0]).toMatchObject({ workgroupName: 'sparkify-dwh', namespaceName: 'sparkify-dwh', baseCapacity: 8, publiclyAccessible: true, port: 5439 });
    expect(fake.inputs('AuthorizeSecurityGroupIngress')[0]).toMatchObject({
      GroupId: 'sg-0serverless',
      IpPermissions: [{ FromPort: 5439, ToPort: 5439, IpRanges: [{ CidrIp: `${MY_IP}/32` }] }],
    });
    expect(result).toMatchObject({
      kind: 'serverless',
      name: 'sparkify-dwh',
      endpoint: { host: `sparkify-dwh.${ACCOUNT}.us-west-2.redshift-serverless.amazonaws.com`, port: 5439 },
      roleArn: ROLE_ARN,
      created: { role: true, cluster: true },
    });
  });

  it('reuses an existing namespace and adds our role to it', async () => {
    fake.namespaces.set('sparkify-dwh', { status: 'AVAILABLE', polls: 0, roles: ['arn:aws:iam::123456789012:role/other'], db: 'sparkify', user: 'sparkify_admin' });
    await createCluster({ ...run(), settings: settingsFor('serverless'), callerIp: MY_IP });
    expect(fake.mutations()).toEqual(['CreateRole', 'AttachRolePolicy', 'CreateWorkgroup', 'AuthorizeSecurityGroupIngress', 'UpdateNamespace']);
    expect(fake.inputs('UpdateNamespace')[0]!.iamRoles).toEqual(['arn:aws:iam::123456789012:role/other', ROLE_ARN]);
  });
});

describe('createCluster resumes after a failure at any step', () => {
  // `nth`: which call of the operation fails (3rd DescribeClusters = the first poll while waiting).
  const steps: { kind: 'provisioned' | 'serverless'; op: string; nth?: number }[] = [
    { kind: 'provisioned', op: 'CreateRole' },
    { kind: 'provisioned', op: 'AttachRolePolicy' },
    { kind: 'provisioned', op: 'CreateCluster' },
    { kind: 'provisioned', op: 'AuthorizeSecurityGroupIngress' },
    { kind: 'provisioned', op: 'DescribeClusters', nth: 3 },
    { kind: 'serverless', op: 'CreateRole' },
    { kind: 'serverless', op: 'CreateNamespace' },
    { kind: 'serverless', op: 'CreateWorkgroup' },
    { kind: 'serverless', op: 'AuthorizeSecurityGroupIngress' },
    { kind: 'serverless', op: 'GetWorkgroup', nth: 3 },
  ];
  for (const { kind, op, nth } of steps) {
    it(`${kind}: ${op}${nth ? ` (call ${nth})` : ''} fails, the re-run finishes and creates nothing twice`, async () => {
      const settings = settingsFor(kind);
      fake.failOnce(op, awsErr('AccessDenied', `User is not authorized to perform: ${op}`, 403), nth);
      const err = await rejection(createCluster({ ...run(), settings, callerIp: MY_IP }));
      expect(err.code).toBe('AWS_FAILED');
      const madeBefore = { ...fake.created };
      fake.reset();

      const result = await createCluster({ ...run(), settings, callerIp: MY_IP });
      // The re-run does not even ask to create what the failed run made.
      const createOp = { role: 'CreateRole', cluster: 'CreateCluster', namespace: 'CreateNamespace', workgroup: 'CreateWorkgroup' } as const;
      for (const [what, n] of Object.entries(madeBefore)) if (n > 0) expect(fake.count(createOp[what as keyof typeof createOp])).toBe(0);
      expect(result.endpoint.port).toBe(5439);
      expect(fake.created.role).toBe(1);
      expect(kind === 'provisioned' ? fake.created.cluster : fake.created.workgroup).toBe(1);
      if (kind === 'serverless') expect(fake.created.namespace).toBe(1);
      expect(fake.rules).toHaveLength(1);
      expect(fake.roles.get(ROLE)!.policies).toEqual([S3_READ]);
    });
  }

  it('role created, then the cluster call fails: the re-run reuses the role', async () => {
    const settings = settingsFor('provisioned');
    fake.failOnce('CreateCluster', new ClusterQuotaExceededFault({ message: 'The request would exceed the allowed number of clusters.', ...meta }));
    await rejection(createCluster({ ...run(), settings, callerIp: MY_IP }));
    expect(fake.mutations()).toEqual(['CreateRole', 'AttachRolePolicy', 'CreateCluster']);

    fake.reset();
    await createCluster({ ...run(), settings, callerIp: MY_IP });
    expect(fake.ops().slice(0, 3)).toEqual(['DescribeClusters', 'GetRole', 'ListAttachedRolePolicies']);
    expect(fake.mutations()).toEqual(['CreateCluster', 'AuthorizeSecurityGroupIngress']);
    expect(events).toContainEqual(expect.objectContaining({ step: 'role', status: 'skipped', message: expect.stringContaining('reusing') }));
  });

  it('a re-run after success changes nothing: the ingress rule already exists (InvalidPermission.Duplicate) and is fine', async () => {
    const settings = settingsFor('provisioned');
    await createCluster({ ...run(), settings, callerIp: MY_IP });
    fake.reset();
    const again = await createCluster({ ...run(), settings, callerIp: MY_IP });
    expect(fake.mutations()).toEqual(['AuthorizeSecurityGroupIngress']);
    expect(again.ingress).toMatchObject({ added: [] });
    expect(fake.rules).toHaveLength(1);
    expect(again.created).toEqual({ role: false, cluster: false });
  });

  it('times out on the fake clock, then the re-run keeps waiting without creating again', async () => {
    const settings = settingsFor('provisioned');
    fake.pollsToReady = 40;
    const err = await rejection(createCluster({ ...run(), settings, callerIp: MY_IP, timeoutMs: 60_000 }));
    expect(err.code).toBe('CLUSTER_FAILED');
    expect(err.transient).toBe(true);
    expect(err.message).toMatch(/Timed out after .* waiting for Redshift cluster sparkify-dwh to become available \(last state: creating\)/);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(30_000);

    const result = await createCluster({ ...run(), settings, callerIp: MY_IP });
    expect(result.created).toEqual({ role: false, cluster: false });
    expect(fake.created.cluster).toBe(1);
  });

  it('caps the pause between polls and keeps polling through a transient error', async () => {
    fake.pollsToReady = 12;
    // Calls 1-2 are the opening looks; the 4th is a poll while waiting.
    fake.failOnce('DescribeClusters', awsErr('Throttling', 'Rate exceeded', 400), 4);
    const settings = settingsFor('provisioned');
    await createCluster({ ...run(), settings, callerIp: MY_IP, pollMs: { initial: 1_000, max: 4_000 } });
    expect(clock.sleeps[0]).toBe(1_000);
    expect(Math.max(...clock.sleeps)).toBe(4_000);
    expect(events).toContainEqual(expect.objectContaining({ status: 'waiting', state: expect.stringContaining('unknown') }));
  });

  it('stops on a state that will never become available', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'incompatible-network', polls: 0, roles: [ROLE_ARN], db: 'sparkify', user: 'sparkify_admin', port: 5439 });
    const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP }));
    expect(err.code).toBe('CLUSTER_FAILED');
    expect(err.message).toContain('incompatible-network');
    expect(clock.sleeps).toEqual([]);
  });

  it('stops waiting when cancelled', async () => {
    const controller = new AbortController();
    const options = run();
    options.sleep = async () => controller.abort();
    const err = await rejection(createCluster({ ...options, settings: settingsFor('provisioned'), callerIp: MY_IP, signal: controller.signal }));
    expect(err.code).toBe('ABORTED');
  });
});

describe('network access', () => {
  it('never opens 0.0.0.0/0 by default', async () => {
    await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: `${MY_IP}/32` });
    await createCluster({ ...run(), settings: settingsFor('serverless'), discoverIp: async () => MY_IP });
    const cidrs = fake.inputs('AuthorizeSecurityGroupIngress').flatMap((i) => i.IpPermissions.flatMap((p: any) => (p.IpRanges ?? []).map((r: any) => r.CidrIp)));
    expect(cidrs).toEqual([`${MY_IP}/32`, `${MY_IP}/32`]);
    expect(JSON.stringify(fake.calls)).not.toContain('0.0.0.0/0');
  });

  it('opens to the world only when asked explicitly, and says so', async () => {
    await createCluster({ ...run(), settings: settingsFor('provisioned'), openToWorld: true, callerIp: MY_IP });
    expect(fake.rules.map((r) => r.cidr)).toEqual(['0.0.0.0/0']);
    expect(events).toContainEqual(expect.objectContaining({ step: 'network', status: 'warning', message: expect.stringContaining('0.0.0.0/0') }));
  });

  it('refuses a range or a non-address, and a missing address, before changing anything', async () => {
    for (const callerIp of ['10.0.0.0/8', 'my-laptop', '0.0.0.0/0']) {
      const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp }));
      expect(err.code).toBe('CONFIG_INVALID');
    }
    const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned') }));
    expect(err.hint).toContain('--my-ip');
    expect(fake.mutations()).toEqual([]);
  });

  it('allows an IPv6 caller as a /128', async () => {
    await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: '2001:db8::7' });
    expect(fake.inputs('AuthorizeSecurityGroupIngress')[0]!.IpPermissions[0].Ipv6Ranges).toEqual([expect.objectContaining({ CidrIpv6: '2001:db8::7/128' })]);
  });

  it('adds no rule with skipIngress', async () => {
    const result = await createCluster({ ...run(), settings: settingsFor('provisioned'), skipIngress: true });
    expect(fake.count('AuthorizeSecurityGroupIngress')).toBe(0);
    expect(result.ingress).toBeUndefined();
  });
});

describe('deleteCluster', () => {
  it('requires confirmation and touches nothing without it', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'available', polls: 0, roles: [], db: 'dev', user: 'awsuser', port: 5439 });
    for (const confirm of [false, undefined, 'yes']) {
      const err = await rejection(deleteCluster({ ...run(), settings: settingsFor('provisioned'), confirm: confirm as boolean }));
      expect(err.code).toBe('ABORTED');
      expect(err.message).toContain('sparkify-dwh');
    }
    expect(fake.calls).toEqual([]);
    expect(fake.clusters.has('sparkify-dwh')).toBe(true);
  });

  it('provisioned: revokes our rule, deletes the cluster without a snapshot, waits, then removes the role', async () => {
    const settings = settingsFor('provisioned');
    await createCluster({ ...run(), settings, callerIp: MY_IP });
    // A rule the user made on the same group must survive.
    fake.rules.push({ id: 'sgr-user', groupId: 'sg-0default', cidr: '192.0.2.1/32', port: 5439, tags: [] });
    fake.reset();

    const result = await deleteCluster({ ...run(), settings, confirm: true });
    expect(fake.mutations()).toEqual(['RevokeSecurityGroupIngress', 'DeleteCluster', 'DetachRolePolicy', 'DeleteRole']);
    expect(fake.inputs('DeleteCluster')).toEqual([{ ClusterIdentifier: 'sparkify-dwh', SkipFinalClusterSnapshot: true }]);
    expect(fake.inputs('DetachRolePolicy')).toEqual([{ RoleName: ROLE, PolicyArn: S3_READ }]);
    expect(result).toMatchObject({ deployment: 'deleted', ingressRevoked: 1, role: 'deleted' });
    expect(fake.clusters.size).toBe(0);
    expect(fake.roles.size).toBe(0);
    expect(fake.rules.map((r) => r.id)).toEqual(['sgr-user']);
  });

  it('keeps a final snapshot when asked', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'available', polls: 0, roles: [], db: 'dev', user: 'awsuser', port: 5439 });
    const result = await deleteCluster({ ...run(), settings: settingsFor('provisioned'), confirm: true, finalSnapshot: true });
    expect(fake.inputs('DeleteCluster')).toEqual([{ ClusterIdentifier: 'sparkify-dwh', SkipFinalClusterSnapshot: false, FinalClusterSnapshotIdentifier: 'sparkify-dwh-final-20260102t030405' }]);
    expect(result.finalSnapshot).toBe('sparkify-dwh-final-20260102t030405');
  });

  it('waits for a cluster still being created before deleting it', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'creating', polls: 3, roles: [], db: 'dev', user: 'awsuser', port: 5439 });
    await deleteCluster({ ...run(), settings: settingsFor('provisioned'), confirm: true });
    expect(fake.count('DeleteCluster')).toBe(1);
    expect(fake.clusters.size).toBe(0);
  });

  it('serverless: deletes the workgroup, waits, then the namespace, waits, then the role', async () => {
    const settings = settingsFor('serverless');
    await createCluster({ ...run(), settings, callerIp: MY_IP });
    fake.reset();
    const result = await deleteCluster({ ...run(), settings, confirm: true });
    expect(fake.mutations()).toEqual(['RevokeSecurityGroupIngress', 'DeleteWorkgroup', 'DeleteNamespace', 'DetachRolePolicy', 'DeleteRole']);
    const ops = fake.ops();
    // The namespace is deleted only once the workgroup is gone.
    expect(ops.lastIndexOf('GetWorkgroup')).toBeLessThan(ops.indexOf('DeleteNamespace'));
    expect(result).toMatchObject({ kind: 'serverless', deployment: 'deleted', ingressRevoked: 1, role: 'deleted' });
    expect(fake.workgroups.size + fake.namespaces.size + fake.roles.size + fake.rules.length).toBe(0);
  });

  for (const kind of ['provisioned', 'serverless'] as const) {
    it(`${kind}: everything already gone → succeeds and deletes nothing`, async () => {
      const result = await deleteCluster({ ...run(), settings: settingsFor(kind), confirm: true });
      expect(result).toMatchObject({ deployment: 'absent', ingressRevoked: 0, role: 'absent' });
      expect(fake.mutations()).toEqual([]);
    });
  }

  it('leaves a role sparkify did not create, and one the caller wants kept', async () => {
    fake.addRole(ROLE, { ours: false, policies: [S3_READ] });
    const a = await deleteCluster({ ...run(), settings: settingsFor('provisioned'), confirm: true });
    expect(a.role).toBe('kept');
    expect(fake.roles.get(ROLE)!.policies).toEqual([S3_READ]);
    fake.addRole(ROLE, { policies: [S3_READ] });
    const b = await deleteCluster({ ...run(), settings: settingsFor('provisioned'), confirm: true, keepRole: true });
    expect(b.role).toBe('kept');
    expect(fake.mutations()).toEqual([]);
  });
});

describe('clusterStatus', () => {
  it('is a plain object with state, endpoint, role and our ingress rules', async () => {
    const settings = settingsFor('provisioned');
    const before = await clusterStatus({ settings, clients });
    expect(before).toMatchObject({ kind: 'provisioned', name: 'sparkify-dwh', phase: 'absent', role: { exists: false }, ingress: [] });

    await createCluster({ ...run(), settings, callerIp: MY_IP });
    const after = await clusterStatus({ settings, clients });
    expect(JSON.parse(JSON.stringify(after))).toEqual(after);
    expect(after).toMatchObject({
      phase: 'available',
      state: 'available',
      endpoint: { host: 'sparkify-dwh.c1x2y3z4.us-west-2.redshift.amazonaws.com', port: 5439 },
      database: 'sparkify',
      user: 'sparkify_admin',
      role: { name: ROLE, exists: true, arn: ROLE_ARN, s3ReadOnlyAttached: true, createdBySparkify: true, attached: true },
      ingress: [{ securityGroupId: 'sg-0default', cidr: `${MY_IP}/32`, port: 5439 }],
    });
    expect(JSON.stringify(after)).not.toContain(PASSWORD);
  });

  it('serverless: reports the workgroup and its namespace', async () => {
    const settings = settingsFor('serverless');
    await createCluster({ ...run(), settings, callerIp: MY_IP });
    const s = await clusterStatus({ settings, clients });
    expect(s).toMatchObject({ kind: 'serverless', phase: 'available', state: 'AVAILABLE', namespace: { name: 'sparkify-dwh', state: 'AVAILABLE' }, role: { attached: true } });
  });
});

describe('errors name the resource and the fix', () => {
  it('AccessDenied on CreateCluster names the missing permissions', async () => {
    fake.failOnce('CreateCluster', awsErr('AccessDenied', 'User: arn:aws:iam::123456789012:user/student is not authorized to perform: redshift:CreateCluster', 403));
    const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP }));
    expect(err.code).toBe('AWS_FAILED');
    expect(err.message).toContain('Redshift cluster sparkify-dwh');
    expect(err.message).toContain('access denied');
    expect(err.hint).toContain('redshift:CreateCluster');
    expect(err.hint).toContain(`iam:PassRole on ${ROLE_ARN}`);
  });

  it('AccessDenied on CreateRole names iam:CreateRole', async () => {
    fake.failOnce('CreateRole', awsErr('AccessDenied', 'not authorized to perform: iam:CreateRole', 403));
    const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP }));
    expect(err.message).toContain(`IAM role ${ROLE}`);
    expect(err.hint).toContain('iam:CreateRole');
  });

  it('EC2 UnauthorizedOperation names ec2:AuthorizeSecurityGroupIngress', async () => {
    fake.failOnce('AuthorizeSecurityGroupIngress', awsErr('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP }));
    expect(err.message).toContain('sg-0default');
    expect(err.hint).toContain('ec2:AuthorizeSecurityGroupIngress');
  });

  it('quota: ClusterQuotaExceeded and Serverless ServiceQuotaExceeded say what to do', async () => {
    fake.failOnce('CreateCluster', new ClusterQuotaExceededFault({ message: 'The request would exceed the allowed number of clusters for this account.', ...meta }));
    const a = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP }));
    expect(a.code).toBe('CLUSTER_FAILED');
    expect(a.message).toMatch(/Could not create Redshift cluster sparkify-dwh: an AWS quota/);
    expect(a.hint).toMatch(/Service Quotas/);

    fake.failOnce('CreateWorkgroup', new ServiceQuotaExceededException({ message: 'RPU limit reached', ...meta }));
    const b = await rejection(createCluster({ ...run(), settings: settingsFor('serverless'), callerIp: MY_IP }));
    expect(b.code).toBe('CLUSTER_FAILED');
    expect(b.message).toContain('workgroup sparkify-dwh');
    expect(b.hint).toMatch(/quota/i);
  });

  it('InvalidClusterState says to wait and re-run, and is transient', async () => {
    fake.clusters.set('sparkify-dwh', { status: 'available', polls: 0, roles: [ROLE_ARN], db: 'dev', user: 'awsuser', port: 5439 });
    fake.failOnce('DeleteCluster', new InvalidClusterStateFault({ message: 'There is an operation running on the Cluster.', ...meta }));
    const err = await rejection(deleteCluster({ ...run(), settings: settingsFor('provisioned'), confirm: true }));
    expect(err.code).toBe('CLUSTER_FAILED');
    expect(err.transient).toBe(true);
    expect(err.hint).toContain('sparkify cluster status');
  });

  it('no error, event or result ever contains the password', async () => {
    fake.failOnce('CreateCluster', awsErr('InvalidParameterValue', 'The parameter MasterUserPassword is not a valid password.'));
    const err = await rejection(createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP }));
    const result = await createCluster({ ...run(), settings: settingsFor('provisioned'), callerIp: MY_IP });
    for (const text of [err.message, err.hint, JSON.stringify(events), JSON.stringify(result)]) expect(text).not.toContain(PASSWORD);
  });
});

describe('dwh.cfg after create', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-cluster-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const COURSE_CFG = [
    '; Sparkify data warehouse (course layout)',
    '[CLUSTER]',
    "HOST=''",
    "DB_NAME='sparkify'",
    "DB_USER='sparkify_admin'",
    `DB_PASSWORD='${PASSWORD}'`,
    'DB_PORT=5439',
    '',
    '# the role Redshift assumes to read S3',
    '[IAM_ROLE]',
    "ARN=''",
    '',
    '[S3]',
    "LOG_DATA='s3://udacity-dend/log_data'",
    "LOG_JSONPATH='s3://udacity-dend/log_json_path.json'",
    "SONG_DATA='s3://udacity-dend/song_data'",
    '',
    '[AWS]',
    'REGION = us-west-2',
    '',
  ].join('\n');

  it('sets HOST, DB_PORT, IDENTIFIER and ARN, keeping every other line, comment and quote', async () => {
    const file = path.join(dir, 'dwh.cfg');
    writeFileSync(file, COURSE_CFG);
    const { settings, issues } = clusterSettingsFromConfig({ sections: readDwhCfg(file), requirePassword: true });
    expect(issues).toEqual([]);
    const result = await createCluster({ ...run(), settings: settings!, callerIp: MY_IP, configFile: file });

    const host = 'sparkify-dwh.c1x2y3z4.us-west-2.redshift.amazonaws.com';
    expect(readFileSync(file, 'utf8')).toBe(
      COURSE_CFG.replace("HOST=''", `HOST='${host}'`)
        .replace('DB_PORT=5439', 'DB_PORT=5439\nIDENTIFIER=sparkify-dwh')
        .replace("ARN=''", `ARN='${ROLE_ARN}'`),
    );
    expect(result.config?.changed).toEqual(['[CLUSTER] HOST', '[IAM_ROLE] ARN', '[CLUSTER] IDENTIFIER']);
    expect(readFileSync(file, 'utf8').split(PASSWORD)).toHaveLength(2);

    // The rest of sparkify reads it back.
    const { config } = loadConfig({ flags: { config: file, warehouse: 'redshift' }, env: {} });
    expect(config?.warehouse).toMatchObject({ kind: 'redshift', connection: { host, port: 5439, database: 'sparkify', user: 'sparkify_admin' } });
    expect(config?.warehouse).toMatchObject({ copy: { iamRoleArn: ROLE_ARN } });

    // A second run finds nothing to change.
    const again = await createCluster({ ...run(), settings: settings!, callerIp: MY_IP, configFile: file });
    expect(again.config?.changed).toEqual([]);
  });

  it('serverless writes WORKGROUP; a password given elsewhere is never written', async () => {
    const file = path.join(dir, 'dwh.cfg');
    writeFileSync(file, '[CLUSTER]\r\nDB_NAME=sparkify\r\n\r\n[S3]\r\nSONG_DATA=s3://bucket/songs\r\n');
    const settings = settingsFor('serverless', { sections: { CLUSTER: { DB_NAME: 'sparkify', DB_PASSWORD: PASSWORD } } });
    await createCluster({ ...run(), settings, callerIp: MY_IP, configFile: file });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).toBe(
      [
        '[CLUSTER]',
        'DB_NAME=sparkify',
        `HOST=sparkify-dwh.${ACCOUNT}.us-west-2.redshift-serverless.amazonaws.com`,
        'DB_PORT=5439',
        'DB_USER=awsuser',
        'WORKGROUP=sparkify-dwh',
        '',
        '[S3]',
        'SONG_DATA=s3://bucket/songs',
        '',
        '[IAM_ROLE]',
        `ARN=${ROLE_ARN}`,
        '',
      ].join('\r\n'),
    );
  });
});
