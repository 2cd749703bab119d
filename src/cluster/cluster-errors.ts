import { awsErrorName, isTransientAwsError } from '../aws/aws-errors.js';
import { SparkifyError, type ErrorCode } from '../errors.js';

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
  if (CREDENTIALS.includes(name) || /could not load credentials/i.test(awsMessage)) {
    return make('AWS_FAILED', `${base}: no valid AWS credentials (${detail})`, 'Configure credentials: `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; refresh them if they expired (`aws sso login`).');
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
    return make('CLUSTER_FAILED', `${base}: the resource is busy with another operation (${detail})`, 'Wait for it to finish (`sparkify cluster status`), then re-run the command; it resumes where it stopped.', true);
  }
  if (NETWORK.includes(name)) {
    return make('CLUSTER_FAILED', `${base}: the network setup is not usable (${detail})`, 'The account needs a default VPC in this region (`aws ec2 create-default-vpc`), or create the cluster in the console and point dwh.cfg at it.');
  }
  if (isTransientAwsError(err)) {
    return make('AWS_FAILED', `${base}: AWS did not answer (${detail})`, 'Try again in a minute; the command resumes where it stopped.', true);
  }
  return make(action.code ?? 'AWS_FAILED', `${base}: ${detail}`, 'Check the values in dwh.cfg [CLUSTER]; re-running the command resumes where it stopped.');
}

/** Runs one AWS call and classifies what it throws. */
export async function awsCall<T>(action: AwsAction, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyAwsError(err, action);
  }
}
