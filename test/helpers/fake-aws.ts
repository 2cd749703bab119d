/**
 * A small in-memory AWS control plane (IAM, Redshift, Redshift Serverless, EC2)
 * behind aws-sdk-client-mock: SDK-LEVEL MOCKS, not AWS. It lets tests check
 * which calls sparkify makes, in which order, and how it handles AWS's answers
 * (roles, clusters that take a few polls to become available, security-group
 * rules, AWS's error names); it cannot show that real AWS accepts the calls.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import {
  ClusterAlreadyExistsFault,
  ClusterNotFoundFault,
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  InvalidClusterStateFault,
  ModifyClusterIamRolesCommand,
  RedshiftClient,
  ResumeClusterCommand,
  type Cluster,
} from '@aws-sdk/client-redshift';
import {
  ConflictException,
  CreateNamespaceCommand,
  CreateWorkgroupCommand,
  DeleteNamespaceCommand,
  DeleteWorkgroupCommand,
  GetNamespaceCommand,
  GetWorkgroupCommand,
  RedshiftServerlessClient,
  ResourceNotFoundException,
  UpdateNamespaceCommand,
} from '@aws-sdk/client-redshift-serverless';
import { mockClient } from 'aws-sdk-client-mock';
import type { ClusterClients } from '../../src/cluster/index.js';

// ---------------------------------------------------------------------------
// A fake AWS control plane, behind SDK-level mocks.
// ---------------------------------------------------------------------------

export const ACCOUNT = '123456789012';
export const PASSWORD = 'Sup3rSecretPw';
export const MY_IP = '203.0.113.7';
export const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
export const meta = { $metadata: { httpStatusCode: 400 } };

/** An error as the SDK throws it for codes it has no class for (AccessDenied, EC2's dotted codes). */
export function awsErr(name: string, message = name, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

interface Tag {
  Key?: string;
  Value?: string;
}

export class FakeAws {
  calls: { op: string; input: Record<string, any> }[] = [];
  roles = new Map<string, { arn: string; trust: string; tags: Tag[]; policies: string[] }>();
  clusters = new Map<string, { status: string; polls: number; roles: string[]; db: string; user: string; port: number }>();
  namespaces = new Map<string, { status: string; polls: number; roles: string[]; db: string; user: string }>();
  workgroups = new Map<string, { status: string; polls: number; ns: string; port: number }>();
  rules: { id: string; groupId: string; cidr: string; port: number; tags: Tag[] }[] = [];
  /** op → errors to throw, each at a given call from now, before doing anything. */
  failures = new Map<string, { at: number; err: Error }[]>();
  /** Status polls a new cluster / workgroup takes to become available. */
  pollsToReady = 3;
  created = { role: 0, cluster: 0, namespace: 0, workgroup: 0 };
  private ruleSeq = 0;

  /** The next call of `op` (or the `nth` one from now) throws `err`. */
  failOnce(op: string, err: Error, nth = 1): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), { at: this.count(op) + nth, err }]);
  }
  enter(op: string, input: Record<string, any>): void {
    this.calls.push({ op, input });
    const queued = this.failures.get(op) ?? [];
    const due = queued.find((f) => f.at === this.count(op));
    if (due) {
      queued.splice(queued.indexOf(due), 1);
      throw due.err;
    }
  }
  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
  /** The calls that change something, in order. */
  mutations(): string[] {
    return this.ops().filter((op) => !/^(Get|Describe|List)/.test(op));
  }
  count(op: string): number {
    return this.ops().filter((o) => o === op).length;
  }
  inputs(op: string): Record<string, any>[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.input);
  }
  reset(): void {
    this.calls = [];
  }

  // -- IAM
  addRole(name: string, options: { ours?: boolean; trust?: string; policies?: string[] } = {}): string {
    const arn = `arn:aws:iam::${ACCOUNT}:role/${name}`;
    this.roles.set(name, {
      arn,
      trust: options.trust ?? JSON.stringify({ Statement: [{ Principal: { Service: 'redshift.amazonaws.com' } }] }),
      tags: options.ours === false ? [] : [{ Key: 'sparkify-dwh', Value: 'managed' }],
      policies: options.policies ?? [],
    });
    return arn;
  }
  getRole(i: any) {
    const r = this.roles.get(i.RoleName);
    if (!r) throw new NoSuchEntityException({ message: `The role with name ${i.RoleName} cannot be found.`, ...meta });
    return { Role: { RoleName: i.RoleName, Arn: r.arn, AssumeRolePolicyDocument: encodeURIComponent(r.trust), Tags: r.tags, Path: '/', RoleId: 'AROA', CreateDate: new Date() } };
  }
  createRole(i: any) {
    if (this.roles.has(i.RoleName)) throw new EntityAlreadyExistsException({ message: 'exists', ...meta });
    this.roles.set(i.RoleName, { arn: `arn:aws:iam::${ACCOUNT}:role/${i.RoleName}`, trust: i.AssumeRolePolicyDocument, tags: i.Tags ?? [], policies: [] });
    this.created.role++;
    return this.getRole(i);
  }

  // -- Redshift
  describeCluster(id: string): Cluster {
    const c = this.clusters.get(id);
    if (!c) throw new ClusterNotFoundFault({ message: `Cluster ${id} not found.`, ...meta });
    if (c.polls > 0 && --c.polls === 0) {
      if (c.status === 'deleting') {
        this.clusters.delete(id);
        throw new ClusterNotFoundFault({ message: `Cluster ${id} not found.`, ...meta });
      }
      if (['creating', 'modifying', 'resuming'].includes(c.status)) c.status = 'available';
    }
    return {
      ClusterIdentifier: id,
      ClusterStatus: c.status,
      DBName: c.db,
      MasterUsername: c.user,
      Endpoint: c.status === 'available' ? { Address: `${id}.c1x2y3z4.us-west-2.redshift.amazonaws.com`, Port: c.port } : undefined,
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0default', Status: 'active' }],
      IamRoles: c.roles.map((r) => ({ IamRoleArn: r, ApplyStatus: 'in-sync' })),
    };
  }

  // -- Redshift Serverless
  getNamespace(name: string) {
    const n = this.namespaces.get(name);
    if (!n) throw new ResourceNotFoundException({ message: `namespace ${name} not found`, ...meta });
    if (n.polls > 0 && --n.polls === 0) {
      if (n.status === 'DELETING') {
        this.namespaces.delete(name);
        throw new ResourceNotFoundException({ message: `namespace ${name} not found`, ...meta });
      }
      n.status = 'AVAILABLE';
    }
    return {
      namespace: {
        namespaceName: name,
        status: n.status as 'AVAILABLE',
        dbName: n.db,
        adminUsername: n.user,
        iamRoles: n.roles.map((r) => `IamRole(applyStatus=in-sync, iamRoleArn=${r})`),
      },
    };
  }
  getWorkgroup(name: string) {
    const w = this.workgroups.get(name);
    if (!w) throw new ResourceNotFoundException({ message: `workgroup ${name} not found`, ...meta });
    if (w.polls > 0 && --w.polls === 0) {
      if (w.status === 'DELETING') {
        this.workgroups.delete(name);
        throw new ResourceNotFoundException({ message: `workgroup ${name} not found`, ...meta });
      }
      w.status = 'AVAILABLE';
    }
    return {
      workgroup: {
        workgroupName: name,
        namespaceName: w.ns,
        status: w.status as 'AVAILABLE',
        securityGroupIds: ['sg-0serverless'],
        endpoint: w.status === 'AVAILABLE' ? { address: `${name}.${ACCOUNT}.us-west-2.redshift-serverless.amazonaws.com`, port: w.port } : undefined,
      },
    };
  }

  // -- EC2
  authorize(i: any) {
    const perm = i.IpPermissions[0];
    const cidrs: string[] = [...(perm.IpRanges ?? []).map((r: any) => r.CidrIp), ...(perm.Ipv6Ranges ?? []).map((r: any) => r.CidrIpv6)];
    for (const cidr of cidrs) {
      if (this.rules.some((r) => r.groupId === i.GroupId && r.cidr === cidr && r.port === perm.FromPort)) {
        throw awsErr('InvalidPermission.Duplicate', `the specified rule "peer: ${cidr}, TCP, from port: ${perm.FromPort}" already exists`);
      }
    }
    const tags: Tag[] = i.TagSpecifications?.[0]?.Tags ?? [];
    const added = cidrs.map((cidr) => ({ id: `sgr-${++this.ruleSeq}`, groupId: i.GroupId, cidr, port: perm.FromPort, tags }));
    this.rules.push(...added);
    return { Return: true, SecurityGroupRules: added.map((r) => ({ SecurityGroupRuleId: r.id, GroupId: r.groupId })) };
  }
}

export const mocks = {
  iam: mockClient(IAMClient),
  redshift: mockClient(RedshiftClient),
  serverless: mockClient(RedshiftServerlessClient),
  ec2: mockClient(EC2Client),
};

export function install(fake: FakeAws): void {
  const on = (stub: any, command: any, op: string, fn: (input: any) => unknown) =>
    stub.on(command).callsFake(async (input: any) => {
      fake.enter(op, input);
      return fn(input);
    });
  const { iam, redshift, serverless, ec2 } = mocks;

  on(iam, GetRoleCommand, 'GetRole', (i) => fake.getRole(i));
  on(iam, CreateRoleCommand, 'CreateRole', (i) => fake.createRole(i));
  on(iam, ListAttachedRolePoliciesCommand, 'ListAttachedRolePolicies', (i) => ({
    AttachedPolicies: (fake.roles.get(i.RoleName)?.policies ?? []).map((p) => ({ PolicyArn: p, PolicyName: p.split('/').pop() })),
    IsTruncated: false,
  }));
  on(iam, AttachRolePolicyCommand, 'AttachRolePolicy', (i) => {
    const r = fake.roles.get(i.RoleName)!;
    if (!r.policies.includes(i.PolicyArn)) r.policies.push(i.PolicyArn);
    return {};
  });
  on(iam, DetachRolePolicyCommand, 'DetachRolePolicy', (i) => {
    const r = fake.roles.get(i.RoleName);
    if (!r?.policies.includes(i.PolicyArn)) throw new NoSuchEntityException({ message: 'not attached', ...meta });
    r.policies = r.policies.filter((p) => p !== i.PolicyArn);
    return {};
  });
  on(iam, DeleteRoleCommand, 'DeleteRole', (i) => {
    const r = fake.roles.get(i.RoleName);
    if (!r) throw new NoSuchEntityException({ message: 'gone', ...meta });
    if (r.policies.length > 0) throw new DeleteConflictException({ message: 'Cannot delete entity, must detach all policies first.', ...meta });
    fake.roles.delete(i.RoleName);
    return {};
  });

  on(redshift, DescribeClustersCommand, 'DescribeClusters', (i) => ({ Clusters: [fake.describeCluster(i.ClusterIdentifier)] }));
  on(redshift, CreateClusterCommand, 'CreateCluster', (i) => {
    if (fake.clusters.has(i.ClusterIdentifier)) throw new ClusterAlreadyExistsFault({ message: 'Cluster already exists', ...meta });
    fake.clusters.set(i.ClusterIdentifier, { status: 'creating', polls: fake.pollsToReady, roles: i.IamRoles ?? [], db: i.DBName, user: i.MasterUsername, port: i.Port ?? 5439 });
    fake.created.cluster++;
    return {};
  });
  on(redshift, DeleteClusterCommand, 'DeleteCluster', (i) => {
    const c = fake.clusters.get(i.ClusterIdentifier);
    if (!c) throw new ClusterNotFoundFault({ message: 'not found', ...meta });
    if (c.status !== 'available' && c.status !== 'paused') throw new InvalidClusterStateFault({ message: 'There is an operation running on the Cluster.', ...meta });
    c.status = 'deleting';
    c.polls = 2;
    return {};
  });
  on(redshift, ModifyClusterIamRolesCommand, 'ModifyClusterIamRoles', (i) => {
    const c = fake.clusters.get(i.ClusterIdentifier)!;
    c.roles.push(...(i.AddIamRoles ?? []));
    c.status = 'modifying';
    c.polls = 2;
    return {};
  });
  on(redshift, ResumeClusterCommand, 'ResumeCluster', (i) => {
    const c = fake.clusters.get(i.ClusterIdentifier)!;
    c.status = 'resuming';
    c.polls = 2;
    return {};
  });

  on(serverless, GetNamespaceCommand, 'GetNamespace', (i) => fake.getNamespace(i.namespaceName));
  on(serverless, GetWorkgroupCommand, 'GetWorkgroup', (i) => fake.getWorkgroup(i.workgroupName));
  on(serverless, CreateNamespaceCommand, 'CreateNamespace', (i) => {
    if (fake.namespaces.has(i.namespaceName)) throw new ConflictException({ message: 'exists', ...meta });
    fake.namespaces.set(i.namespaceName, { status: 'AVAILABLE', polls: 0, roles: i.iamRoles ?? [], db: i.dbName, user: i.adminUsername });
    fake.created.namespace++;
    return {};
  });
  on(serverless, CreateWorkgroupCommand, 'CreateWorkgroup', (i) => {
    if (fake.workgroups.has(i.workgroupName)) throw new ConflictException({ message: 'exists', ...meta });
    if (!fake.namespaces.has(i.namespaceName)) throw new ResourceNotFoundException({ message: 'no namespace', ...meta });
    fake.workgroups.set(i.workgroupName, { status: 'CREATING', polls: fake.pollsToReady, ns: i.namespaceName, port: i.port ?? 5439 });
    fake.created.workgroup++;
    return {};
  });
  on(serverless, DeleteWorkgroupCommand, 'DeleteWorkgroup', (i) => {
    const w = fake.workgroups.get(i.workgroupName);
    if (!w) throw new ResourceNotFoundException({ message: 'not found', ...meta });
    w.status = 'DELETING';
    w.polls = 2;
    return {};
  });
  on(serverless, DeleteNamespaceCommand, 'DeleteNamespace', (i) => {
    const n = fake.namespaces.get(i.namespaceName);
    if (!n) throw new ResourceNotFoundException({ message: 'not found', ...meta });
    if ([...fake.workgroups.values()].some((w) => w.ns === i.namespaceName)) throw new ConflictException({ message: 'workgroup still there', ...meta });
    n.status = 'DELETING';
    n.polls = 2;
    return {};
  });
  on(serverless, UpdateNamespaceCommand, 'UpdateNamespace', (i) => {
    fake.namespaces.get(i.namespaceName)!.roles = i.iamRoles;
    return {};
  });

  on(ec2, AuthorizeSecurityGroupIngressCommand, 'AuthorizeSecurityGroupIngress', (i) => fake.authorize(i));
  on(ec2, DescribeSecurityGroupRulesCommand, 'DescribeSecurityGroupRules', (i) => {
    const f = i.Filters?.[0];
    const key = f?.Name?.replace(/^tag:/, '');
    return {
      SecurityGroupRules: fake.rules
        .filter((r) => r.tags.some((t) => t.Key === key && f.Values.includes(t.Value)))
        .map((r) => ({ SecurityGroupRuleId: r.id, GroupId: r.groupId, IsEgress: false, CidrIpv4: r.cidr, FromPort: r.port, ToPort: r.port, Tags: r.tags })),
    };
  });
  on(ec2, RevokeSecurityGroupIngressCommand, 'RevokeSecurityGroupIngress', (i) => {
    for (const id of i.SecurityGroupRuleIds ?? []) {
      if (!fake.rules.some((r) => r.id === id)) throw awsErr('InvalidSecurityGroupRuleId.NotFound');
    }
    fake.rules = fake.rules.filter((r) => !(i.SecurityGroupRuleIds ?? []).includes(r.id));
    return { Return: true };
  });
}


/** Real SDK clients with fake credentials; the mocks above answer their calls. */
export function mockedClusterClients(): ClusterClients {
  const config = { region: 'us-west-2', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } };
  return {
    iam: new IAMClient(config),
    redshift: new RedshiftClient(config),
    redshiftServerless: new RedshiftServerlessClient(config),
    ec2: new EC2Client(config),
  };
}
