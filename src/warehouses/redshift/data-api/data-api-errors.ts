import { awsErrorName, isTransientAwsError } from '../../../aws/aws-errors.js';
import { firstLine, messageOf, SparkifyError, type ErrorCode } from '../../../errors.js';

/**
 * Redshift Data API failures sorted once, at the seam: the SDK's own errors
 * (access, credentials, unknown cluster or workgroup, too many sessions,
 * throttling) and the server's message of a statement that FAILED. Messages
 * name the cluster or workgroup, the database and the region; never a secret
 * (a Secrets Manager ARN is not one, but it is not repeated either).
 */

/** Where the Data API points, for messages. */
export interface DataApiWhere {
  /** `cluster my-cluster` or `workgroup my-workgroup`. */
  target: string;
  database: string;
  region?: string;
  /** How it authenticates: `database user awsuser (temporary credentials)`, `a Secrets Manager secret`, `your IAM identity`. */
  auth: string;
}

const CREDENTIALS = ['CredentialsProviderError', 'ExpiredToken', 'InvalidClientTokenId', 'UnrecognizedClient', 'SignatureDoesNotMatch', 'InvalidSignature', 'InvalidAccessKeyId'];
const TOO_BUSY = ['ActiveStatementsExceeded', 'ActiveSessionsExceeded', 'ActiveWaitingRequestsExceeded'];

/** Classifies an error thrown by the SDK (the call itself failed). */
export function classifyDataApiError(err: unknown, where: DataApiWhere, sql?: string): SparkifyError {
  if (err instanceof SparkifyError) return err;
  const name = awsErrorName(err);
  const message = firstLine(messageOf(err));
  const detail = name && !message.startsWith(name) ? `${name}: ${message}` : message;
  const at = `Redshift ${where.target} (database ${where.database}${where.region ? `, region ${where.region}` : ''})`;
  const make = (code: ErrorCode, text: string, hint: string, transient = false) => new SparkifyError(code, text, { cause: err, sql, hint, transient });

  if (name === 'AccessDenied' || /not authorized to perform|AccessDenied/i.test(detail)) {
    return make(
      'WAREHOUSE_PERMISSION_DENIED',
      `Your AWS identity may not use the Data API on ${at}: ${detail}`,
      `It needs redshift-data:ExecuteStatement, DescribeStatement, GetStatementResult and CancelStatement, plus ${needs(where)}.`,
    );
  }
  if (CREDENTIALS.includes(name) || /could not load credentials/i.test(message)) {
    return make('AWS_FAILED', `No valid AWS credentials to reach ${at}: ${detail}`, 'Configure credentials: `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; refresh them if they expired (`aws sso login`).');
  }
  if (/region is missing/i.test(message)) {
    return make('AWS_FAILED', `No AWS region is set for the Data API on ${at}.`, 'Set [AWS] REGION in dwh.cfg, pass --region, or set AWS_REGION.');
  }
  if (/session/i.test(message) && /(not available|expired|closed|not found|invalid)/i.test(message)) {
    return make('WAREHOUSE_UNREACHABLE', `The Data API session on ${at} has ended: ${detail}`, 'It ends after an hour without statements; run the command again (a load that was cut off is rolled back).', true);
  }
  if (name === 'ResourceNotFound' || /(cluster|workgroup|endpoint).*(not found|doesn't exist|does not exist|could not be found)|not found.*(cluster|workgroup)/i.test(message)) {
    return make(
      'WAREHOUSE_UNREACHABLE',
      `${at} was not found: ${detail}`,
      'Check [CLUSTER] IDENTIFIER / WORKGROUP (or the redshift+data-api:// URL) and the region (--region, AWS_REGION); `sparkify cluster status` shows what exists.',
    );
  }
  if (name === 'DatabaseConnection') {
    return make('WAREHOUSE_UNREACHABLE', `The Data API could not connect to ${at}: ${detail}`, 'The cluster may be paused, resuming or rebooting, or the database name may be wrong; check `sparkify cluster status` and run again.', true);
  }
  if (TOO_BUSY.includes(name)) {
    return make('WAREHOUSE_UNREACHABLE', `${at} has too many Data API statements or sessions open: ${detail}`, 'Wait a minute and run again; idle sessions close after their keep-alive.', true);
  }
  if (name === 'QueryTimeout') {
    return make('WAREHOUSE_QUERY_FAILED', `A statement on ${at} timed out: ${detail}`, 'The cluster may be overloaded; run again, or use a larger cluster.', true);
  }
  if (isTransientAwsError(err)) {
    return make('WAREHOUSE_UNREACHABLE', `The Data API did not answer for ${at}: ${detail}`, 'Try again in a minute; a load that was cut off is rolled back.', true);
  }
  if (name === 'Validation') {
    return make('WAREHOUSE_QUERY_FAILED', `The Data API refused a request for ${at}: ${detail}`, `Check [CLUSTER] IDENTIFIER / WORKGROUP, DB_NAME, DB_USER / SECRET_ARN in dwh.cfg (it authenticates with ${where.auth}).`);
  }
  return make('WAREHOUSE_QUERY_FAILED', `Redshift Data API: ${detail}`, 'Run again with --verbose to see the statement.');
}

/** Classifies a statement the server ran and FAILED, by the server's message. */
export function classifyStatementError(serverMessage: string, where: DataApiWhere, sql?: string): SparkifyError {
  const message = firstLine(serverMessage.replace(/^ERROR:\s*/, ''));
  const cause = new Error(serverMessage);
  const at = `Redshift ${where.target}`;
  const relation = /relation "([^"]+)" does not exist/i.exec(message)?.[1];
  if (relation) {
    return new SparkifyError('WAREHOUSE_NOT_READY', `Table ${relation} does not exist on ${at}.`, {
      cause,
      sql,
      hint: 'Run `sparkify create-tables` first (or `sparkify run`, which does both).',
    });
  }
  const database = /database "([^"]+)" does not exist/i.exec(message)?.[1];
  if (database) {
    return new SparkifyError('WAREHOUSE_DATABASE_MISSING', `Database "${database}" does not exist on ${at}.`, {
      cause,
      sql,
      hint: 'Check [CLUSTER] DB_NAME (or the database in the redshift+data-api:// URL).',
    });
  }
  if (/permission denied/i.test(message)) {
    return new SparkifyError('WAREHOUSE_PERMISSION_DENIED', `${at} refused: ${message}.`, {
      cause,
      sql,
      hint: `The database user (${where.auth}) needs USAGE and CREATE on the schema (or CREATE on database ${where.database}); or choose a schema it owns with --schema.`,
    });
  }
  if (/password authentication failed|IAM Authentication|GetClusterCredentials|not authorized to (get|use) credentials/i.test(message)) {
    return new SparkifyError('WAREHOUSE_AUTH_FAILED', `${at} refused ${where.auth}: ${message}.`, { cause, sql, hint: `Check DB_USER / SECRET_ARN in dwh.cfg; the IAM identity also needs ${needs(where)}.` });
  }
  if (/serializable isolation violation|deadlock/i.test(message)) {
    return new SparkifyError('WAREHOUSE_QUERY_FAILED', `${at}: ${message}`, { cause, sql, transient: true, hint: 'Another session got in the way; run the command again.' });
  }
  return new SparkifyError('WAREHOUSE_QUERY_FAILED', `${at}: ${message}`, {
    cause,
    sql,
    hint: 'Run again with --verbose to see the statement; if the tables were made by an older version, run `sparkify create-tables`.',
  });
}

function needs(where: DataApiWhere): string {
  if (/secret/i.test(where.auth)) return 'secretsmanager:GetSecretValue on the secret';
  if (where.target.startsWith('workgroup')) return 'redshift-serverless:GetCredentials on the workgroup';
  if (/IAM identity/.test(where.auth)) return 'redshift:GetClusterCredentialsWithIAM on the cluster';
  return 'redshift:GetClusterCredentials for the database user';
}
