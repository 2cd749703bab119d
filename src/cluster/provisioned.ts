import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  ModifyClusterIamRolesCommand,
  ResumeClusterCommand,
  type Cluster,
} from '@aws-sdk/client-redshift';
import { isAwsError } from '../aws/aws-errors.js';
import { awsCall, classifyAwsError } from './cluster-errors.js';
import { waitGone, waitSettled, type Deployment, type DeploymentState, type Phase } from './deployment.js';
import type { ClusterContext } from './progress.js';
import type { ProvisionedSettings } from './settings.js';

/** A provisioned Redshift cluster, as a Deployment. */
export function provisionedDeployment(ctx: ClusterContext, settings: ProvisionedSettings): Deployment {
  const id = settings.identifier;
  const label = `Redshift cluster ${id}`;
  const redshift = ctx.clients.redshift;

  const describe = async (): Promise<DeploymentState> => {
    let cluster: Cluster | undefined;
    try {
      cluster = (await redshift.send(new DescribeClustersCommand({ ClusterIdentifier: id }))).Clusters?.[0];
    } catch (err) {
      if (!isAwsError(err, 'ClusterNotFound')) throw classifyAwsError(err, { permission: 'redshift:DescribeClusters', doing: `look up ${label}`, code: 'CLUSTER_FAILED' });
    }
    if (!cluster) return { phase: 'absent', state: 'absent', securityGroupIds: [], roleArns: [] };
    const state = cluster.ClusterStatus ?? 'unknown';
    return {
      phase: phaseOf(state),
      state,
      endpoint: cluster.Endpoint?.Address ? { host: cluster.Endpoint.Address, port: cluster.Endpoint.Port ?? settings.port } : undefined,
      securityGroupIds: (cluster.VpcSecurityGroups ?? []).flatMap((g) => (g.VpcSecurityGroupId ? [g.VpcSecurityGroupId] : [])),
      roleArns: (cluster.IamRoles ?? []).flatMap((r) => (r.IamRoleArn && r.ApplyStatus !== 'removing' ? [r.IamRoleArn] : [])),
      database: cluster.DBName,
      user: cluster.MasterUsername,
    };
  };

  return {
    kind: 'provisioned',
    name: id,
    label,
    step: 'cluster',
    ingressTag: `cluster/${id}`,
    cfgKeys: { IDENTIFIER: id },
    describe,

    async create(roleArn) {
      ctx.emit({ step: 'cluster', status: 'start', message: `creating ${label} (${settings.numberOfNodes} × ${settings.nodeType})` });
      try {
        await redshift.send(
          new CreateClusterCommand({
            ClusterIdentifier: id,
            ClusterType: settings.clusterType,
            NodeType: settings.nodeType,
            ...(settings.clusterType === 'multi-node' ? { NumberOfNodes: settings.numberOfNodes } : {}),
            DBName: settings.database,
            MasterUsername: settings.user,
            MasterUserPassword: settings.password,
            Port: settings.port,
            IamRoles: [roleArn],
            DefaultIamRoleArn: roleArn,
            PubliclyAccessible: settings.publiclyAccessible,
            Tags: [{ Key: 'sparkify-dwh', Value: 'managed' }],
          }),
        );
      } catch (err) {
        // A concurrent run got there first: the caller waits for it like any other.
        if (isAwsError(err, 'ClusterAlreadyExists')) return;
        throw classifyAwsError(err, { permission: 'redshift:CreateCluster', doing: `create ${label}`, alsoNeeds: `iam:PassRole on ${roleArn}`, code: 'CLUSTER_FAILED', resumable: true });
      }
      ctx.emit({ step: 'cluster', status: 'done', message: `asked AWS to create ${label}` });
    },

    async resume() {
      ctx.emit({ step: 'cluster', status: 'start', message: `${label} is paused; resuming it` });
      await awsCall({ permission: 'redshift:ResumeCluster', doing: `resume ${label}`, code: 'CLUSTER_FAILED', resumable: true }, () =>
        redshift.send(new ResumeClusterCommand({ ClusterIdentifier: id })),
      );
    },

    async attachRole(_state, roleArn) {
      ctx.emit({ step: 'role', status: 'start', message: `letting ${label} assume ${roleArn}` });
      await awsCall({ permission: 'redshift:ModifyClusterIamRoles', doing: `add IAM role ${roleArn} to ${label}`, alsoNeeds: `iam:PassRole on ${roleArn}`, code: 'CLUSTER_FAILED', resumable: true }, () =>
        redshift.send(new ModifyClusterIamRolesCommand({ ClusterIdentifier: id, AddIamRoles: [roleArn] })),
      );
    },

    async delete(finalSnapshot) {
      let s = await describe();
      if (s.phase === 'absent') {
        ctx.emit({ step: 'cluster', status: 'skipped', message: `${label} is already gone` });
        return 'absent';
      }
      if (s.phase === 'creating' || s.phase === 'busy') s = await waitSettled(ctx, 'cluster', label, describe);
      if (s.phase !== 'deleting' && s.phase !== 'absent') {
        ctx.emit({ step: 'cluster', status: 'start', message: `deleting ${label}${finalSnapshot ? ` (final snapshot ${finalSnapshot})` : ' (no final snapshot)'}` });
        try {
          await redshift.send(
            new DeleteClusterCommand({
              ClusterIdentifier: id,
              SkipFinalClusterSnapshot: !finalSnapshot,
              ...(finalSnapshot ? { FinalClusterSnapshotIdentifier: finalSnapshot } : {}),
            }),
          );
        } catch (err) {
          if (!isAwsError(err, 'ClusterNotFound')) throw classifyAwsError(err, { permission: 'redshift:DeleteCluster', doing: `delete ${label}`, code: 'CLUSTER_FAILED', resumable: true });
        }
      }
      await waitGone(ctx, 'cluster', label, describe);
      ctx.emit({ step: 'cluster', status: 'done', message: `deleted ${label}` });
      return 'deleted';
    },
  };
}

function phaseOf(state: string): Phase {
  const s = state.toLowerCase();
  if (s === 'available') return 'available';
  if (s === 'creating') return 'creating';
  if (s === 'deleting' || s === 'final-snapshot') return 'deleting';
  if (s === 'paused') return 'paused';
  if (s.startsWith('incompatible') || s === 'hardware-failure' || s === 'failed') return 'failed';
  return 'busy';
}
