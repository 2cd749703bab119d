import type { Deployment } from './deployment.js';
import type { ClusterContext } from './progress.js';
import { provisionedDeployment } from './provisioned.js';
import { serverlessDeployment } from './serverless.js';

/** The Deployment for the context's settings: a provisioned cluster or a Serverless workgroup. */
export function openDeployment(ctx: ClusterContext): Deployment {
  const s = ctx.settings;
  return s.kind === 'provisioned' ? provisionedDeployment(ctx, s) : serverlessDeployment(ctx, s);
}
