import { SparkifyError } from '../errors.js';
import type { ClusterContext, ClusterStep } from './progress.js';
import { pollUntil } from './wait.js';

/**
 * The seam between the two ways to run Redshift: a provisioned cluster, or a
 * Serverless namespace + workgroup. Each is a small object with the same
 * verbs; the commands (create, status, delete) are written once against it.
 */

/** Where a deployment is in its life, whatever AWS calls the state. */
export type Phase = 'absent' | 'creating' | 'available' | 'busy' | 'paused' | 'deleting' | 'failed';

export interface Endpoint {
  host: string;
  port: number;
}

export interface DeploymentState {
  phase: Phase;
  /** AWS's own word: `creating`, `available`, `AVAILABLE`, `incompatible-network`, … */
  state: string;
  endpoint?: Endpoint;
  securityGroupIds: string[];
  /** IAM roles the cluster / namespace may assume. */
  roleArns: string[];
  database?: string;
  user?: string;
  /** Serverless only: the namespace behind the workgroup. */
  namespace?: { name: string; state: string };
}

export interface Deployment {
  readonly kind: 'provisioned' | 'serverless';
  /** The cluster identifier or the workgroup name. */
  readonly name: string;
  /** `Redshift cluster sparkify-dwh`, for messages. */
  readonly label: string;
  readonly step: ClusterStep;
  /** Tag value marking the ingress rules sparkify added for this deployment. */
  readonly ingressTag: string;
  /** dwh.cfg [CLUSTER] keys naming it: IDENTIFIER or WORKGROUP. */
  readonly cfgKeys: Record<string, string>;
  describe(): Promise<DeploymentState>;
  /** Creates whatever is missing; returns without waiting for it to be available. */
  create(roleArn: string): Promise<void>;
  /** Starts a paused cluster again. */
  resume(): Promise<void>;
  /** Lets it assume `roleArn` as well (it must be available). */
  attachRole(state: DeploymentState, roleArn: string): Promise<void>;
  /** Deletes it and waits until it is gone. Already gone → fine. */
  delete(finalSnapshot: string | undefined): Promise<'deleted' | 'absent'>;
}

/** Waits until available with an endpoint; fails fast on states that will not get there. */
export function waitAvailable(ctx: ClusterContext, label: string, describe: () => Promise<DeploymentState>): Promise<DeploymentState> {
  return pollUntil(ctx, {
    step: 'wait',
    what: `${label} to become available`,
    check: async () => {
      const s = await describe();
      if (s.phase === 'available' && s.endpoint) return { done: true, value: s };
      if (s.phase === 'absent' || s.phase === 'deleting' || s.phase === 'failed' || s.phase === 'paused') {
        throw new SparkifyError('CLUSTER_FAILED', `${label} will not become available: it is ${s.phase === 'absent' ? 'gone' : s.state}.`, {
          hint:
            s.phase === 'failed'
              ? 'Look at its events in the Redshift console, delete it (`sparkify cluster delete`) and create it again.'
              : 'Run `sparkify cluster status`; re-run `sparkify cluster create` once it is gone or paused.',
        });
      }
      return { done: false, state: s.state };
    },
  });
}

/** Waits until a state is gone (`absent`). */
export function waitGone(ctx: ClusterContext, step: ClusterStep, label: string, describe: () => Promise<{ phase: Phase; state: string }>): Promise<void> {
  return pollUntil(ctx, {
    step,
    what: `${label} to be deleted`,
    check: async () => {
      const s = await describe();
      return s.phase === 'absent' ? { done: true, value: undefined } : { done: false, state: s.state };
    },
  });
}

/** Waits until no operation is running, so it can be deleted. */
export function waitSettled<S extends { phase: Phase; state: string }>(ctx: ClusterContext, step: ClusterStep, label: string, describe: () => Promise<S>): Promise<S> {
  return pollUntil(ctx, {
    step,
    what: `${label} to finish its current operation`,
    check: async () => {
      const s = await describe();
      return s.phase === 'creating' || s.phase === 'busy' ? { done: false, state: s.state } : { done: true, value: s };
    },
  });
}

/** `sparkify-dwh-final-20260101t120000`: a snapshot name Redshift accepts. */
export function finalSnapshotName(name: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
  return `${name}-final-${stamp}`.slice(0, 255);
}
