import { ConfigError, SparkifyError } from '../errors.js';
import { awsErrorName } from '../aws/aws-errors.js';
import type { ClusterClients } from './clients.js';
import { waitAvailable, type DeploymentState, type Endpoint } from './deployment.js';
import { updateDwhCfg, type DwhCfgUpdate } from '../config/dwh-cfg.js';
import { ensureRole } from './iam-role.js';
import { authorizeIngress, chooseCidr, type IngressChoice } from './ingress.js';
import { openDeployment } from './open-deployment.js';
import { makeContext, type ClusterRunOptions } from './progress.js';
import type { ClusterSettings } from './settings.js';
import { retrying } from './wait.js';

export interface CreateClusterOptions extends ClusterRunOptions, IngressChoice {
  settings: ClusterSettings;
  clients: ClusterClients;
  /** Add no security-group rule (e.g. when only the Redshift Data API is used). */
  skipIngress?: boolean;
  /** The dwh.cfg to write the endpoint and role ARN into (`readConfigLayers(…).file`); undefined leaves files alone. */
  configFile?: string;
}

export interface CreateClusterResult {
  kind: ClusterSettings['kind'];
  /** Cluster identifier or workgroup name. */
  name: string;
  endpoint: Endpoint;
  database: string;
  user: string;
  roleArn: string;
  /** What this run created (false: it existed and was reused). */
  created: { role: boolean; cluster: boolean };
  /** Undefined when `skipIngress`. */
  ingress?: { cidr: string; securityGroupIds: string[]; added: string[] };
  config?: DwhCfgUpdate;
  seconds: number;
}

/**
 * Creates (or resumes creating) everything Sparkify needs on Redshift: the S3
 * read role, the cluster or Serverless workgroup, an inbound rule for the
 * caller's address; waits until it is available and writes its endpoint into
 * dwh.cfg. Every step checks what exists first, so re-running after any
 * failure picks up where it stopped.
 *
 * @example
 *   const result = await createCluster({ settings, clients: createClusterClients({ region }), discoverIp: discoverPublicIp, configFile: layers.file, onProgress: (e) => console.error(e.message) });
 *   console.log(`${result.endpoint.host}:${result.endpoint.port}`);
 */
export async function createCluster(options: CreateClusterOptions): Promise<CreateClusterResult> {
  const { settings, clients } = options;
  const ctx = makeContext(clients, settings, options);
  const started = ctx.now();
  const dep = openDeployment(ctx);

  let state = await dep.describe();
  if (state.phase === 'absent' && !settings.password) {
    throw new ConfigError([{ where: 'dwh.cfg [CLUSTER] DB_PASSWORD', message: `is empty: creating ${dep.label} needs an admin password (8-64 characters with an uppercase letter, a lowercase letter and a digit)` }]);
  }
  if (state.phase === 'deleting') {
    throw new SparkifyError('CLUSTER_FAILED', `${dep.label} is being deleted; it cannot be created again until it is gone.`, {
      hint: 'Wait until `sparkify cluster status` shows it absent, then re-run `sparkify cluster create`.',
    });
  }
  // Settle the address first: failing here leaves nothing half-made.
  const cidr = options.skipIngress ? undefined : await chooseCidr(ctx, options);

  const role = await ensureRole(ctx);

  let clusterCreated = false;
  if (state.phase === 'absent') {
    // A role created seconds ago may not be visible to Redshift yet (IAM is eventually consistent).
    await retrying(ctx, role.created ? 8 : 1, 5_000, isRoleNotYetVisible, () => dep.create(role.arn));
    clusterCreated = true;
  } else if (state.phase === 'paused') {
    await dep.resume();
  } else {
    ctx.emit({ step: dep.step, status: 'skipped', message: `${dep.label} already exists (${state.state}); not creating it again` });
  }

  let ingress: CreateClusterResult['ingress'];
  const allow = async (s: DeploymentState) => {
    if (cidr === undefined || ingress || s.securityGroupIds.length === 0) return;
    ctx.emit({ step: 'network', status: 'start', message: `allowing TCP ${settings.port} from ${cidr} into ${dep.label}` });
    const added = await authorizeIngress(ctx, s.securityGroupIds, cidr, dep.ingressTag);
    ingress = { cidr, securityGroupIds: s.securityGroupIds, added };
  };
  state = await dep.describe();
  await allow(state);

  state = await waitAvailable(ctx, dep.label, dep.describe);
  if (!state.roleArns.includes(role.arn)) {
    await dep.attachRole(state, role.arn);
    state = await waitAvailable(ctx, dep.label, dep.describe);
  }
  await allow(state);
  if (cidr !== undefined && !ingress) {
    ctx.emit({ step: 'network', status: 'warning', message: `${dep.label} reports no VPC security group; no inbound rule was added` });
  }
  const endpoint = state.endpoint!;
  ctx.emit({ step: 'wait', status: 'done', message: `${dep.label} is available at ${endpoint.host}:${endpoint.port}` });

  const database = state.database ?? settings.database;
  const user = state.user ?? settings.user;
  if (database !== settings.database || user !== settings.user) {
    ctx.emit({ step: 'config', status: 'warning', message: `${dep.label} has database ${database} and admin user ${user}, not ${settings.database}/${settings.user} as configured` });
  }

  let config: DwhCfgUpdate | undefined;
  if (options.configFile) {
    config = await updateDwhCfg(options.configFile, {
      CLUSTER: { HOST: endpoint.host, DB_PORT: String(endpoint.port), DB_NAME: database, DB_USER: user, ...dep.cfgKeys },
      IAM_ROLE: { ARN: role.arn },
    });
    ctx.emit({
      step: 'config',
      status: config.changed.length > 0 ? 'done' : 'skipped',
      message: config.changed.length > 0 ? `updated ${config.path}: ${config.changed.join(', ')}` : `${config.path} is already up to date`,
    });
  }

  return {
    kind: settings.kind,
    name: dep.name,
    endpoint,
    database,
    user,
    roleArn: role.arn,
    created: { role: role.created, cluster: clusterCreated },
    ingress,
    config,
    seconds: (ctx.now() - started) / 1000,
  };
}

/** Redshift rejecting a role it cannot see yet: `InvalidParameterValue: … IAM role … is invalid`. */
function isRoleNotYetVisible(err: unknown): boolean {
  const cause = err instanceof SparkifyError ? err.cause : err;
  const name = awsErrorName(cause);
  const message = cause instanceof Error ? cause.message : '';
  return ['InvalidParameterValue', 'InvalidParameterCombination', 'Validation'].includes(name) && /role/i.test(message);
}
