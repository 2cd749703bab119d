/**
 * What every AWS caller (S3 sources, the Redshift Data API, the cluster
 * commands) needs to read an SDK error: its name without the SDK's suffix, and
 * whether retrying may help. Each caller maps these to its own codes.
 */

/** The error's name without the SDK's `Exception`/`Fault` suffix: `ClusterNotFound`, `InvalidPermission.Duplicate`. */
export function awsErrorName(err: unknown): string {
  if (!err || typeof err !== 'object') return '';
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  const raw = [e.name, e.Code, e.code].find((v): v is string => typeof v === 'string' && v !== 'Error' && v !== '') ?? '';
  return raw.replace(/(Exception|Fault)$/, '');
}

/**
 * Whether `err` is one of the named AWS errors (with or without the suffix).
 *
 * @example
 *   if (isAwsError(err, 'ClusterNotFoundFault')) return 'absent';
 */
export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return names.some((n) => n.replace(/(Exception|Fault)$/, '') === name);
}

const TRANSIENT = [
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequests',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalServer',
  'InternalError',
  'ServiceFailure',
  'RequestTimeout',
  'TimeoutError',
];
const NETWORK_CODES = ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'];

/** True when the same call may succeed if retried (throttling, 5xx, network blips). */
export function isTransientAwsError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if ((err as { transient?: unknown }).transient === true) return true;
  const e = err as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: unknown };
  if (TRANSIENT.includes(awsErrorName(err))) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.includes(e.code)) return true;
  return !!e.$retryable || (e.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** A logger for SDK clients: the SDK writes to the console unless given one, and sparkify never prints outside the CLI. */
export const silentLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
