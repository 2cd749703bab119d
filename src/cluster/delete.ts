import { SparkifyError } from '../errors.js';
import type { ClusterClients } from './clients.js';
import { finalSnapshotName } from './deployment.js';
import { deleteRole } from './iam-role.js';
import { revokeTaggedIngress } from './ingress.js';
import { openDeployment } from './open-deployment.js';
import { makeContext, type ClusterRunOptions } from './progress.js';
import type { ClusterSettings } from './settings.js';

export interface DeleteClusterOptions extends ClusterRunOptions {
  settings: ClusterSettings;
  clients: ClusterClients;
  /** Must be `true`: the caller asked the user (or got `--yes`). Anything else deletes nothing. */
  confirm: boolean;
  /** Keep a final snapshot: `true` names it `<name>-final-<timestamp>`, a string names it. Default: no snapshot. */
  finalSnapshot?: boolean | string;
  /** Leave the IAM role in place. */
  keepRole?: boolean;
}

export interface DeleteClusterResult {
  kind: ClusterSettings['kind'];
  name: string;
  /** `absent`: there was nothing to delete. */
  deployment: 'deleted' | 'absent';
  finalSnapshot?: string;
  /** Inbound rules sparkify had added and now revoked. */
  ingressRevoked: number;
  /** `kept`: `keepRole`, or a role sparkify did not create. */
  role: 'deleted' | 'absent' | 'kept';
  seconds: number;
}

/**
 * Deletes what `createCluster` made: the inbound rules it added, the cluster
 * (or workgroup, then namespace), waiting until gone, then the IAM role.
 * Whatever is already gone is skipped, so it is safe to re-run.
 *
 * @example
 *   await deleteCluster({ settings, clients, confirm: flags.yes === true, onProgress: (e) => console.error(e.message) });
 */
export async function deleteCluster(options: DeleteClusterOptions): Promise<DeleteClusterResult> {
  const { settings, clients } = options;
  const ctx = makeContext(clients, settings, options);
  const dep = openDeployment(ctx);
  if (options.confirm !== true) {
    throw new SparkifyError('ABORTED', `Not deleting ${dep.label}: deletion was not confirmed.`, {
      hint: 'Answer yes when asked, or pass --yes. Deleting drops the database and everything loaded into it.',
    });
  }
  const started = ctx.now();
  const snapshot =
    typeof options.finalSnapshot === 'string' ? options.finalSnapshot : options.finalSnapshot ? finalSnapshotName(dep.name, ctx.now()) : undefined;

  // Revoke first: the port closes even if the deletion below stops half-way.
  const ingressRevoked = await revokeTaggedIngress(ctx, dep.ingressTag);
  const deployment = await dep.delete(snapshot);
  let role: DeleteClusterResult['role'] = 'kept';
  if (options.keepRole) ctx.emit({ step: 'role', status: 'skipped', message: `keeping IAM role ${settings.roleName} as asked` });
  else role = await deleteRole(ctx);

  return {
    kind: settings.kind,
    name: dep.name,
    deployment,
    ...(snapshot && deployment === 'deleted' ? { finalSnapshot: snapshot } : {}),
    ingressRevoked,
    role,
    seconds: (ctx.now() - started) / 1000,
  };
}
