import type { ClusterClients } from './clients.js';
import { resolveAwsAccess } from './cluster-errors.js';
import type { Endpoint, Phase } from './deployment.js';
import { describeRole, type RoleStatus } from './iam-role.js';
import { listTaggedIngress } from './ingress.js';
import { openDeployment } from './open-deployment.js';
import { makeContext } from './progress.js';
import type { ClusterSettings } from './settings.js';

export interface ClusterStatusOptions {
  settings: ClusterSettings;
  clients: ClusterClients;
}

/** A plain object, ready for `--json` or a table. Contains no secrets. */
export interface ClusterStatus {
  kind: ClusterSettings['kind'];
  /** Cluster identifier or workgroup name. */
  name: string;
  /** `absent`, `creating`, `available`, `busy`, `paused`, `deleting` or `failed`. */
  phase: Phase;
  /** AWS's own word for the state. */
  state: string;
  endpoint?: Endpoint;
  database?: string;
  user?: string;
  securityGroupIds: string[];
  /** Serverless only. */
  namespace?: { name: string; state: string };
  role: RoleStatus & { attached: boolean };
  /** The inbound rules sparkify added (`cluster delete` revokes them). */
  ingress: { securityGroupId: string; cidr: string; port?: number }[];
}

/**
 * Where the cluster (or Serverless workgroup) and its role stand. Read-only.
 *
 * @example
 *   const s = await clusterStatus({ settings, clients });
 *   if (s.phase === 'available') console.log(s.endpoint);
 */
export async function clusterStatus(options: ClusterStatusOptions): Promise<ClusterStatus> {
  const ctx = makeContext(options.clients, options.settings, {});
  const dep = openDeployment(ctx);
  // Credentials and region first, once: the three lookups below run in parallel.
  await resolveAwsAccess(options.clients, `read where ${options.settings.kind === 'serverless' ? 'workgroup' : 'cluster'} ${dep.name} stands`);
  const [state, role, rules] = await allInOrder([dep.describe(), describeRole(ctx), listTaggedIngress(ctx, dep.ingressTag)]);
  return {
    kind: options.settings.kind,
    name: dep.name,
    phase: state.phase,
    state: state.state,
    endpoint: state.endpoint,
    database: state.database,
    user: state.user,
    securityGroupIds: state.securityGroupIds,
    ...(state.namespace ? { namespace: state.namespace } : {}),
    role: { ...role, attached: !!role.arn && state.roleArns.includes(role.arn) },
    ingress: rules.map((r) => ({ securityGroupId: r.GroupId ?? '', cidr: r.CidrIpv4 ?? r.CidrIpv6 ?? '', port: r.FromPort })),
  };
}

/**
 * Like Promise.all, but when several fail, the error of the first in `values`'
 * order, whichever failed first in time: the same problem reads the same on every run.
 */
async function allInOrder<T extends readonly unknown[] | []>(values: T): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const settled = await Promise.allSettled(values);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [P in keyof T]: Awaited<T[P]> };
}
