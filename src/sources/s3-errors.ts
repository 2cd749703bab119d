import { firstLine, SparkifyError } from '../errors.js';

/**
 * S3 failures sorted once, at the source's seam, into one line naming the
 * bucket and prefix: a wrong region, a missing bucket, denied access, a
 * vanished object, an unreachable endpoint, or S3 being busy (transient).
 */

/** What was being done when S3 failed, and where. */
export interface S3Operation {
  verb: 'listing' | 'reading';
  /** The object, or the source's root when listing. */
  uri: string;
  /** The source's root, its bucket, the region asked and the endpoint, safe to print. */
  source: { uri: string; bucket: string; region: string; endpoint: string };
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  Region?: string;
  Endpoint?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const WRONG_REGION = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
const CREDENTIALS_MISSING = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const ACCESS_DENIED = new Set([
  ...CREDENTIALS_MISSING,
  'AccessDenied',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
]);
const TRANSIENT = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError']);

/**
 * Sorts an SDK or network failure into one of our codes.
 *
 * @example
 *   throw classifyS3Error(err, { verb: 'listing', uri: source.uri, source: { uri, bucket, region, endpoint } });
 */
export function classifyS3Error(err: unknown, op: S3Operation): SparkifyError {
  if (err instanceof SparkifyError) return err;
  const { bucket, region, endpoint } = op.source;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const where = op.verb === 'listing' ? `listing ${op.uri}` : `reading ${op.uri} (source ${op.source.uri})`;
  const bucketRegion = e.$response?.headers?.['x-amz-bucket-region'] ?? e.Region ?? regionFromEndpoint(e.Endpoint);

  if (status === 301 || WRONG_REGION.has(name) || (status === 400 && bucketRegion && bucketRegion !== region)) {
    const right = bucketRegion && bucketRegion !== region ? bucketRegion : undefined;
    const message = right
      ? `S3 bucket ${bucket} is in region ${right}, not ${region} (${where}).`
      : `S3 bucket ${bucket} is not in region ${region} (${where}; S3 answered ${name || status}).`;
    return new SparkifyError('S3_WRONG_REGION', message, {
      cause: err,
      hint: `Set the region to ${right ?? "the bucket's region"}: --region, AWS_REGION or [AWS] REGION in dwh.cfg.`,
    });
  }
  if (name === 'NoSuchBucket' || name === 'InvalidBucketName' || (status === 404 && op.verb === 'listing')) {
    const what = name === 'InvalidBucketName' ? 'is not a valid bucket name' : 'does not exist';
    return new SparkifyError('S3_BUCKET_NOT_FOUND', `S3 bucket ${bucket} ${what} (${where} at ${endpoint}).`, {
      cause: err,
      hint: 'Check the bucket name in --songs/--logs or [S3] SONG_DATA/LOG_DATA of dwh.cfg (and --s3-endpoint, if you use one).',
    });
  }
  if (ACCESS_DENIED.has(name) || status === 403) {
    const why = CREDENTIALS_MISSING.has(name) ? 'no AWS credentials were found' : `S3 answered ${name || status}`;
    // The SDK prefers the profile when both are set, and would only have said so on the console.
    const both = process.env.AWS_PROFILE && process.env.AWS_ACCESS_KEY_ID ? ' Both AWS_PROFILE and AWS_ACCESS_KEY_ID are set; the profile is used.' : '';
    return new SparkifyError('S3_ACCESS_DENIED', `Access denied ${where}: ${why}.`, {
      cause: err,
      hint:
        'Check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, `aws sso login`) ' +
        `and that they allow s3:ListBucket on ${bucket} and s3:GetObject on its objects.${both}`,
    });
  }
  if (name === 'NoSuchKey' || (status === 404 && op.verb === 'reading')) {
    return new SparkifyError('SOURCE_READ_FAILED', `${op.uri} was listed but no longer exists (source ${op.source.uri}).`, {
      cause: err,
      hint: 'Something is changing the bucket during the run; run again once it is stable.',
    });
  }
  if (status === undefined && (NETWORK.has(e.code ?? '') || NETWORK.has(name))) {
    return new SparkifyError('SOURCE_READ_FAILED', `Cannot reach S3 endpoint ${endpoint} while ${where} (${e.code ?? name}).`, {
      cause: err,
      transient: true,
      hint: 'Check the network, the region and --s3-endpoint; then run again.',
    });
  }
  const transient = (status !== undefined && (status >= 500 || status === 429)) || TRANSIENT.has(name);
  const detail = status === undefined ? firstLine(e.message, 'no detail').slice(0, 200) : `HTTP ${status}`;
  return new SparkifyError('SOURCE_READ_FAILED', `S3 failed ${where}: ${name || 'error'} (${detail}).`, {
    cause: err,
    transient,
    hint: transient ? 'S3 is busy or briefly unavailable; run again.' : undefined,
  });
}

/** `bucket.s3.eu-west-1.amazonaws.com` → `eu-west-1`. */
function regionFromEndpoint(endpoint: string | undefined): string | undefined {
  return endpoint ? /(?:^|\.)s3[.-]([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com/.exec(endpoint)?.[1] : undefined;
}
