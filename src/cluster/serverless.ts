import {
  CreateNamespaceCommand,
  CreateWorkgroupCommand,
  DeleteNamespaceCommand,
  DeleteWorkgroupCommand,
  GetNamespaceCommand,
  GetWorkgroupCommand,
  UpdateNamespaceCommand,
  type Namespace,
  type Workgroup,
} from '@aws-sdk/client-redshift-serverless';
import { SparkifyError } from '../errors.js';
import { isAwsError } from '../aws/aws-errors.js';
import { awsCall, classifyAwsError, type AwsAction } from './cluster-errors.js';
import { waitGone, waitSettled, type Deployment, type DeploymentState, type Phase } from './deployment.js';
import type { ClusterContext } from './progress.js';
import { pollUntil } from './wait.js';
import type { ServerlessSettings } from './settings.js';

/** A Redshift Serverless namespace (storage, users, roles) + workgroup (compute, endpoint), as a Deployment. */
export function serverlessDeployment(ctx: ClusterContext, settings: ServerlessSettings): Deployment {
  const { namespace: ns, workgroup: wg } = settings;
  const label = `Redshift Serverless workgroup ${wg}`;
  const nsLabel = `Redshift Serverless namespace ${ns}`;
  const client = ctx.clients.redshiftServerless;
  // Creating, changing or deleting is resumable (re-running the command goes on from there); looking up is not.
  const action = (permission: string, doing: string, alsoNeeds?: string): AwsAction => ({
    permission: `redshift-serverless:${permission}`,
    doing,
    alsoNeeds,
    code: 'CLUSTER_FAILED',
    resumable: !permission.startsWith('Get'),
  });

  const getNamespace = async (): Promise<Namespace | undefined> => {
    try {
      return (await client.send(new GetNamespaceCommand({ namespaceName: ns }))).namespace;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFound')) return undefined;
      throw classifyAwsError(err, action('GetNamespace', `look up ${nsLabel}`));
    }
  };
  const getWorkgroup = async (): Promise<Workgroup | undefined> => {
    try {
      return (await client.send(new GetWorkgroupCommand({ workgroupName: wg }))).workgroup;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFound')) return undefined;
      throw classifyAwsError(err, action('GetWorkgroup', `look up ${label}`));
    }
  };
  const namespaceState = async (): Promise<{ phase: Phase; state: string; namespace?: Namespace }> => {
    const n = await getNamespace();
    return n ? { phase: phaseOf(n.status), state: n.status ?? 'unknown', namespace: n } : { phase: 'absent', state: 'absent' };
  };

  const describe = async (): Promise<DeploymentState> => {
    const [w, n] = await Promise.all([getWorkgroup(), getNamespace()]);
    const namespace = n ? { name: ns, state: n.status ?? 'unknown' } : undefined;
    const common = { roleArns: roleArnsOf(n), database: n?.dbName, user: n?.adminUsername, namespace };
    if (!w) return { phase: 'absent', state: 'absent', securityGroupIds: [], ...common };
    const state = w.status ?? 'unknown';
    return {
      phase: phaseOf(state),
      state,
      endpoint: w.endpoint?.address ? { host: w.endpoint.address, port: w.endpoint.port ?? settings.port } : undefined,
      securityGroupIds: w.securityGroupIds ?? [],
      ...common,
    };
  };

  return {
    kind: 'serverless',
    name: wg,
    label,
    step: 'workgroup',
    ingressTag: `workgroup/${wg}`,
    cfgKeys: { WORKGROUP: wg },
    describe,

    async create(roleArn) {
      let n = await namespaceState();
      if (n.phase === 'deleting') {
        throw new SparkifyError('CLUSTER_FAILED', `${nsLabel} is being deleted; a workgroup cannot be created in it.`, {
          hint: 'Wait until `sparkify cluster status --serverless` shows it gone, then re-run `sparkify cluster create --serverless`.',
        });
      }
      if (n.phase === 'absent') {
        ctx.emit({ step: 'namespace', status: 'start', message: `creating ${nsLabel}` });
        try {
          await client.send(
            new CreateNamespaceCommand({
              namespaceName: ns,
              adminUsername: settings.user,
              adminUserPassword: settings.password,
              dbName: settings.database,
              iamRoles: [roleArn],
              defaultIamRoleArn: roleArn,
              tags: [{ key: 'sparkify-dwh', value: 'managed' }],
            }),
          );
          ctx.emit({ step: 'namespace', status: 'done', message: `created ${nsLabel}` });
        } catch (err) {
          if (!isAwsError(err, 'Conflict')) throw classifyAwsError(err, action('CreateNamespace', `create ${nsLabel}`, `iam:PassRole on ${roleArn}`));
        }
      } else {
        ctx.emit({ step: 'namespace', status: 'skipped', message: `${nsLabel} already exists; reusing it` });
      }
      n = await namespaceState();
      if (n.phase !== 'available') {
        await pollUntil(ctx, {
          step: 'namespace',
          what: `${nsLabel} to become available`,
          check: async () => {
            const s = await namespaceState();
            if (s.phase === 'available') return { done: true, value: undefined };
            if (s.phase === 'absent' || s.phase === 'deleting') throw new SparkifyError('CLUSTER_FAILED', `${nsLabel} disappeared while being created (${s.state}).`, { hint: 'Re-run `sparkify cluster create --serverless`.' });
            return { done: false, state: s.state };
          },
        });
      }
      ctx.emit({ step: 'workgroup', status: 'start', message: `creating ${label} (${settings.baseCapacity} RPUs)` });
      try {
        await client.send(
          new CreateWorkgroupCommand({
            workgroupName: wg,
            namespaceName: ns,
            baseCapacity: settings.baseCapacity,
            publiclyAccessible: settings.publiclyAccessible,
            port: settings.port,
            tags: [{ key: 'sparkify-dwh', value: 'managed' }],
          }),
        );
      } catch (err) {
        if (isAwsError(err, 'Conflict') && (await getWorkgroup())) return;
        throw classifyAwsError(err, action('CreateWorkgroup', `create ${label}`));
      }
      ctx.emit({ step: 'workgroup', status: 'done', message: `asked AWS to create ${label}` });
    },

    async resume() {
      // Serverless has no paused state; nothing to do.
    },

    async attachRole(state, roleArn) {
      ctx.emit({ step: 'role', status: 'start', message: `letting ${nsLabel} assume ${roleArn}` });
      await awsCall(action('UpdateNamespace', `add IAM role ${roleArn} to ${nsLabel}`, `iam:PassRole on ${roleArn}`), () =>
        client.send(new UpdateNamespaceCommand({ namespaceName: ns, iamRoles: [...state.roleArns, roleArn] })),
      );
    },

    async delete(finalSnapshot) {
      let result: 'deleted' | 'absent' = 'absent';
      let w = await describe();
      if (w.phase === 'absent') {
        ctx.emit({ step: 'workgroup', status: 'skipped', message: `${label} is already gone` });
      } else {
        result = 'deleted';
        if (w.phase === 'creating' || w.phase === 'busy') w = await waitSettled(ctx, 'workgroup', label, describe);
        if (w.phase !== 'deleting' && w.phase !== 'absent') {
          ctx.emit({ step: 'workgroup', status: 'start', message: `deleting ${label}` });
          try {
            await client.send(new DeleteWorkgroupCommand({ workgroupName: wg }));
          } catch (err) {
            if (!isAwsError(err, 'ResourceNotFound')) throw classifyAwsError(err, action('DeleteWorkgroup', `delete ${label}`));
          }
        }
        await waitGone(ctx, 'workgroup', label, describe);
        ctx.emit({ step: 'workgroup', status: 'done', message: `deleted ${label}` });
      }

      let n = await namespaceState();
      if (n.phase === 'absent') {
        ctx.emit({ step: 'namespace', status: 'skipped', message: `${nsLabel} is already gone` });
        return result;
      }
      if (n.phase === 'busy') n = await waitSettled(ctx, 'namespace', nsLabel, namespaceState);
      if (n.phase !== 'deleting' && n.phase !== 'absent') {
        ctx.emit({ step: 'namespace', status: 'start', message: `deleting ${nsLabel}${finalSnapshot ? ` (final snapshot ${finalSnapshot})` : ' (no final snapshot)'}` });
        try {
          await client.send(new DeleteNamespaceCommand({ namespaceName: ns, ...(finalSnapshot ? { finalSnapshotName: finalSnapshot } : {}) }));
        } catch (err) {
          if (!isAwsError(err, 'ResourceNotFound')) throw classifyAwsError(err, action('DeleteNamespace', `delete ${nsLabel}`));
        }
      }
      await waitGone(ctx, 'namespace', nsLabel, namespaceState);
      ctx.emit({ step: 'namespace', status: 'done', message: `deleted ${nsLabel}` });
      return 'deleted';
    },
  };
}

function phaseOf(status: string | undefined): Phase {
  switch (status) {
    case 'AVAILABLE':
      return 'available';
    case 'CREATING':
      return 'creating';
    case 'DELETING':
      return 'deleting';
    default:
      return 'busy';
  }
}

/** GetNamespace lists roles as `IamRole(applyStatus=in-sync, iamRoleArn=arn:aws:iam::…:role/x)`; plain ARNs are accepted too. */
export function roleArnsOf(namespace: Namespace | undefined): string[] {
  return (namespace?.iamRoles ?? []).flatMap((r) => {
    const m = /arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+/.exec(r);
    return m ? [m[0]] : [];
  });
}
