import { silentLogger } from './aws-errors.js';
import { quietAwsSdk } from './quiet.js';

/**
 * The course's `[AWS] KEY` / `SECRET` as the last resort of AWS's credential
 * chain: the SDK's own chain first (environment, profile, SSO, instance role),
 * these keys only when it finds nothing. They are never printed.
 */

/** An access key pair, from dwh.cfg `[AWS] KEY` / `SECRET`. */
export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** What the SDK's clients take as `credentials`. */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/**
 * The SDK's default chain, then `keys`; undefined without keys (the SDK's
 * default, unchanged). The chain is made on first use; `chain` is injectable
 * for tests.
 *
 * @example
 *   new S3Client({ region, credentials: credentialsWithFallback(config.aws.keys) });
 */
export function credentialsWithFallback(keys: AwsKeys | undefined, chain?: AwsCredentialsProvider): AwsCredentialsProvider | undefined {
  if (!keys) return undefined;
  let first: Promise<AwsCredentialsProvider> | undefined = chain && Promise.resolve(chain);
  return async () => {
    try {
      return await (await (first ??= defaultChain()))();
    } catch (err) {
      if (!nothingFound(err)) throw err;
      return { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey };
    }
  };
}

/** The chain a client without credentials uses, taken from a client that is never sent anything. */
async function defaultChain(): Promise<AwsCredentialsProvider> {
  quietAwsSdk();
  const { S3Client } = await import('@aws-sdk/client-s3');
  const probe = new S3Client({ region: 'us-east-1', logger: silentLogger });
  return probe.config.credentials as unknown as AwsCredentialsProvider;
}

/** The chain ran to its end without finding credentials (not: it found some that failed). */
function nothingFound(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  return e?.name === 'CredentialsProviderError' && /could not load credentials from any providers/i.test(e.message ?? '');
}
