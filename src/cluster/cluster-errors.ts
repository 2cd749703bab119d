import { awsErrorName, isTransientAwsError } from '../aws/aws-errors.js';
import { SparkifyError, type ErrorCode } from '../errors.js';
import type { ClusterClients } from './clients.js';

/**
 * The cluster commands' AWS errors sorted once, at the seam: access denied
 * (naming the missing IAM permission), quotas, resource states, credentials
 * and region, transient failures. Everything else keeps AWS's own message. Passwords never reach
 * these messages: they are not part of any error AWS returns.
 */

/** One AWS call, described for error messages. */
export interface AwsAction {
  /** The IAM permission the call needs, e.g. `redshift:CreateCluster`. */
  permission: string;
  /** What was being done, e.g. `create Redshift cluster sparkify-dwh`. */
  doing: string;
  /** Other permissions the call needs, e.g. `iam:PassRole on arn:…`. */
  alsoNeeds?: string;
  /** Default code for failures that are not about access or credentials. */
  code?: ErrorCode;
  /**
   * True for the calls that create, change or delete (`cluster create`, `cluster delete`):
   * re-running the command resumes where it stopped, and the hints say so. Lookups
   * (all that `cluster status` does) are not: their hints say to try again.
   */
  resumable?: boolean;
}

const ACCESS = ['AccessDenied', 'UnauthorizedOperation', 'UnauthorizedAccess', 'AccessToClusterDenied'];
const CREDENTIALS = ['CredentialsProviderError', 'ExpiredToken', 'InvalidClientTokenId', 'UnrecognizedClient', 'SignatureDoesNotMatch', 'AuthFailure', 'InvalidAccessKeyId'];
const QUOTA = [
  'ClusterQuotaExceeded',
  'NumberOfNodesQuotaExceeded',
  'NumberOfNodesPerClusterLimitExceeded',
  'ServiceQuotaExceeded',
  'LimitExceeded',
  'InsufficientClusterCapacity',
  'InsufficientCapacity',
  'RulesPerSecurityGroupLimitExceeded',
];
const STATE = ['InvalidClusterState', 'Conflict', 'InvalidNamespaceState', 'ConcurrentModification', 'EntityTemporarilyUnmodifiable'];
const NETWORK = ['InvalidVPCNetworkState', 'ClusterSubnetGroupNotFound', 'InvalidSubnet', 'VPCIdNotSpecified', 'InvalidClusterSubnetGroupState'];

const CREDENTIALS_HINT =
  'Configure credentials: `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; refresh them if they expired (`aws sso login`).';

/** Turns anything an AWS call threw into a SparkifyError naming the resource and the fix. */
export function classifyAwsError(err: unknown, action: AwsAction): SparkifyError {
  if (err instanceof SparkifyError) return err;
  const name = awsErrorName(err);
  const awsMessage = err instanceof Error ? err.message : String(err);
  const detail = awsMessage && awsMessage !== name ? `${name ? `${name}: ` : ''}${awsMessage}` : name || 'unknown error';
  const base = `Could not ${action.doing}`;
  const make = (code: ErrorCode, message: string, hint: string, transient = false) => new SparkifyError(code, message, { hint, cause: err, transient });

  if (ACCESS.includes(name)) {
    const also = action.alsoNeeds ? ` (and ${action.alsoNeeds})` : '';
    return make('AWS_FAILED', `${base}: access denied (${detail})`, `Grant the AWS identity you are using the IAM permission ${action.permission}${also}, or run with credentials that have it (AWS_PROFILE).`);
  }
  if (/could not load credentials from any providers/i.test(awsMessage)) {
    return make(
      'AWS_FAILED',
      `${base}: no AWS credentials were found (not in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials or ~/.aws/config, SSO, nor an instance role; nor [AWS] KEY/SECRET in dwh.cfg)`,
      CREDENTIALS_HINT,
    );
  }
  if (CREDENTIALS.includes(name) || /could not load credentials/i.test(awsMessage)) {
    return make('AWS_FAILED', `${base}: no valid AWS credentials (${detail})`, CREDENTIALS_HINT);
  }
  if (/region is missing/i.test(awsMessage)) {
    return make('AWS_FAILED', `${base}: no AWS region is set`, 'Set [AWS] REGION in dwh.cfg, pass --region, or set AWS_REGION (e.g. us-west-2).');
  }
  if (QUOTA.includes(name)) {
    return make(
      'CLUSTER_FAILED',
      `${base}: an AWS quota or capacity limit was reached (${detail})`,
      'Delete resources you no longer use, choose fewer nodes or another node type / base capacity, or ask for a higher quota in the Service Quotas console (Amazon Redshift).',
    );
  }
  if (STATE.includes(name)) {
    const then = action.resumable ? 'then re-run the command; it resumes where it stopped' : 'then try again';
    return make('CLUSTER_FAILED', `${base}: the resource is busy with another operation (${detail})`, `Wait for it to finish (\`sparkify cluster status\`), ${then}.`, true);
  }
  if (NETWORK.includes(name)) {
    return make('CLUSTER_FAILED', `${base}: the network setup is not usable (${detail})`, 'The account needs a default VPC in this region (`aws ec2 create-default-vpc`), or create the cluster in the console and point dwh.cfg at it.');
  }
  if (isTransientAwsError(err)) {
    const hint = action.resumable ? 'Try again in a minute; the command resumes where it stopped.' : 'Check the network connection (and a proxy, if you use one), then try again in a minute.';
    return make('AWS_FAILED', `${base}: AWS did not answer (${detail})`, hint, true);
  }
  const hint = action.resumable
    ? 'Check the values in dwh.cfg [CLUSTER]; re-running the command resumes where it stopped.'
    : 'Check the values in dwh.cfg [CLUSTER] and the region (--region, [AWS] REGION), then try again.';
  return make(action.code ?? 'AWS_FAILED', `${base}: ${detail}`, hint);
}

/** Runs one AWS call and classifies what it throws. */
export async function awsCall<T>(action: AwsAction, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyAwsError(err, action);
  }
}

/**
 * Resolves the credentials and the region the clients sign with, once, before
 * calls that run in parallel: otherwise each of them fails on its own, and
 * whichever loses the race names the problem, differently from run to run.
 * Throws the classified error (no credentials found, expired, no region).
 *
 * @example
 *   await resolveAwsAccess(clients, 'read the status of cluster sparkify-dwh');
 */
export async function resolveAwsAccess(clients: Pick<ClusterClients, 'iam' | 'redshift'>, doing: string): Promise<void> {
  const action: AwsAction = { permission: 'any AWS call', doing };
  await awsCall(action, () => clients.iam.config.credentials());
  await awsCall(action, () => clients.redshift.config.region());
}
