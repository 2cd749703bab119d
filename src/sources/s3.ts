import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { quietAwsSdk } from '../aws/quiet.js';
import { SparkifyError } from '../errors.js';
import type { Source, SourceFile, SourceOptions } from './source.js';

/** The course's bucket (udacity-dend) lives here. */
const DEFAULT_REGION = 'us-west-2';

export interface S3SourceOptions extends SourceOptions {
  /** Keys per ListObjectsV2 page; S3 caps it at 1000. Lowered by tests to force pagination. */
  pageSize?: number;
}

/** What was being done when S3 failed, for the message: listing the source, or reading one object. */
interface Operation {
  verb: 'listing' | 'reading';
  uri: string;
}

/**
 * JSON objects below `s3://bucket/prefix`, through the AWS SDK v3. Credentials
 * come from the SDK's default chain (env, profile, SSO, instance role); the
 * region from `s3Region`, else the chain, else us-west-2. With `s3Endpoint`
 * any S3-compatible store works (MinIO, s3rver), path-style.
 *
 * @example
 *   const songs = await S3Source.create('s3://udacity-dend/song_data', { s3Region: 'us-west-2' });
 *   for (const f of await songs.list()) console.log(f.key, f.size);
 */
export class S3Source implements Source {
  readonly kind = 's3' as const;
  readonly uri: string;
  private closed = false;

  private constructor(
    readonly bucket: string,
    /** Without a trailing slash; `''` for the whole bucket. */
    readonly prefix: string,
    readonly region: string,
    /** Where requests go, safe to print. */
    readonly endpoint: string,
    private readonly client: S3Client,
    private readonly pageSize: number,
  ) {
    this.uri = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
  }

  static async create(location: string, options: S3SourceOptions = {}): Promise<S3Source> {
    quietAwsSdk();
    const { bucket, prefix } = parseS3Location(location);
    const endpoint = options.s3Endpoint?.replace(/\/+$/, '');
    if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
      throw new SparkifyError('CONFIG_INVALID', `S3 endpoint "${endpoint}" is not an http(s) URL.`, {
        hint: 'Give it as e.g. http://127.0.0.1:9000 (--s3-endpoint, SPARKIFY_S3_ENDPOINT or [S3] ENDPOINT).',
      });
    }
    const region = options.s3Region || (await regionFromChain()) || DEFAULT_REGION;
    // records.ts keeps a window of objects in flight; a socket each is enough, and more would only queue at S3.
    const maxSockets = Math.max(1, Math.floor(Number.isFinite(options.concurrency) ? options.concurrency! : 16));
    const client = new S3Client({
      region,
      // Without a logger of its own the SDK warns on console (e.g. AWS_PROFILE and access keys both set); we never print.
      logger: silentLogger,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      requestHandler: {
        httpAgent: { maxSockets, keepAlive: true },
        httpsAgent: { maxSockets, keepAlive: true },
        connectionTimeout: 10_000,
        // The handler's own logger defaults to console (socket-exhaustion warnings); we never print.
        logger: silentLogger,
      },
    });
    const shown = endpoint ? withoutUserInfo(endpoint) : `https://s3.${region}.amazonaws.com`;
    return new S3Source(bucket, prefix, region, shown, client, Math.min(1000, Math.max(1, options.pageSize ?? 1000)));
  }

  async list(): Promise<SourceFile[]> {
    // `song_data` must not match `song_data_old/…`; a prefix naming one object (`…/x.json`) is listed as itself.
    const single = this.prefix.endsWith('.json');
    const listPrefix = this.prefix === '' || single ? this.prefix : `${this.prefix}/`;
    const files: SourceFile[] = [];
    let token: string | undefined;
    do {
      const page = await this.call({ verb: 'listing', uri: this.uri }, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token, MaxKeys: this.pageSize }),
        ),
      );
      for (const obj of page.Contents ?? []) {
        const full = obj.Key;
        if (!full || !full.endsWith('.json')) continue;
        let key: string;
        if (single && full === this.prefix) key = full.slice(full.lastIndexOf('/') + 1);
        else if (single && !full.startsWith(`${this.prefix}/`)) continue;
        else key = full.slice(single ? this.prefix.length + 1 : listPrefix.length);
        files.push({ key, uri: `s3://${this.bucket}/${full}`, size: obj.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return files;
  }

  async read(file: SourceFile): Promise<Buffer> {
    const op: Operation = { verb: 'reading', uri: file.uri };
    return this.call(op, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(file) }));
      if (!out.Body) return Buffer.alloc(0);
      const bytes = await out.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  async *stream(file: SourceFile): AsyncIterable<Uint8Array> {
    const op: Operation = { verb: 'reading', uri: file.uri };
    const out = await this.call(op, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(file) })));
    const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!body) return;
    let done = false;
    try {
      const it = body[Symbol.asyncIterator]();
      for (;;) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (err) {
          throw this.classify(err, op);
        }
        if (r.done) break;
        yield r.value;
      }
      done = true;
    } finally {
      // A consumer that stops early must not leave the socket held by a half-read body.
      if (!done) body.destroy?.();
    }
  }

  localPath(): undefined {
    return undefined;
  }

  /** Releases the client's sockets. Idempotent; the source is unusable afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private objectKey(file: SourceFile): string {
    const root = `s3://${this.bucket}/`;
    if (!file.uri.startsWith(root)) {
      throw new SparkifyError('INTERNAL', `${file.uri} is not in bucket ${this.bucket} of source ${this.uri}.`);
    }
    return file.uri.slice(root.length);
  }

  private async call<T>(op: Operation, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, op);
    }
  }

  /** Sorts an SDK or network failure into one of our codes, with a one-line message naming the bucket and prefix. */
  private classify(err: unknown, op: Operation): SparkifyError {
    if (err instanceof SparkifyError) return err;
    const e = (err ?? {}) as SdkError;
    const name = e.name ?? '';
    const status = e.$metadata?.httpStatusCode;
    const where = op.verb === 'listing' ? `listing ${op.uri}` : `reading ${op.uri} (source ${this.uri})`;
    const bucketRegion = e.$response?.headers?.['x-amz-bucket-region'] ?? e.Region ?? regionFromEndpoint(e.Endpoint);

    if (status === 301 || WRONG_REGION.has(name) || (status === 400 && bucketRegion && bucketRegion !== this.region)) {
      const right = bucketRegion && bucketRegion !== this.region ? bucketRegion : undefined;
      const message = right
        ? `S3 bucket ${this.bucket} is in region ${right}, not ${this.region} (${where}).`
        : `S3 bucket ${this.bucket} is not in region ${this.region} (${where}; S3 answered ${name || status}).`;
      return new SparkifyError('S3_WRONG_REGION', message, {
        cause: err,
        hint: `Set the region to ${right ?? "the bucket's region"}: --region, AWS_REGION or [AWS] REGION in dwh.cfg.`,
      });
    }
    if (name === 'NoSuchBucket' || name === 'InvalidBucketName' || (status === 404 && op.verb === 'listing')) {
      const what = name === 'InvalidBucketName' ? 'is not a valid bucket name' : 'does not exist';
      return new SparkifyError('S3_BUCKET_NOT_FOUND', `S3 bucket ${this.bucket} ${what} (${where} at ${this.endpoint}).`, {
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
          `and that they allow s3:ListBucket on ${this.bucket} and s3:GetObject on its objects.${both}`,
      });
    }
    if (name === 'NoSuchKey' || (status === 404 && op.verb === 'reading')) {
      return new SparkifyError('SOURCE_READ_FAILED', `${op.uri} was listed but no longer exists (source ${this.uri}).`, {
        cause: err,
        hint: 'Something is changing the bucket during the run; run again once it is stable.',
      });
    }
    if (status === undefined && (NETWORK.has(e.code ?? '') || NETWORK.has(name))) {
      return new SparkifyError('SOURCE_READ_FAILED', `Cannot reach S3 endpoint ${this.endpoint} while ${where} (${e.code ?? name}).`, {
        cause: err,
        transient: true,
        hint: 'Check the network, the region and --s3-endpoint; then run again.',
      });
    }
    const transient = (status !== undefined && (status >= 500 || status === 429)) || TRANSIENT.has(name);
    const detail = status === undefined ? firstLine(e.message) : `HTTP ${status}`;
    return new SparkifyError('SOURCE_READ_FAILED', `S3 failed ${where}: ${name || 'error'} (${detail}).`, {
      cause: err,
      transient,
      hint: transient ? 'S3 is busy or briefly unavailable; run again.' : undefined,
    });
  }
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

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
]);

const silentLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** `s3://bucket/a/b/` → `{ bucket, prefix: 'a/b' }`; `s3a://` is accepted too. */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const m = /^s3a?:\/\/([^/]*)\/?(.*)$/.exec(location.trim());
  const bucket = m?.[1] ?? '';
  if (!m || bucket === '') {
    throw new SparkifyError('CONFIG_INVALID', `"${location}" is not an S3 location (expected s3://bucket/prefix).`, {
      hint: 'Check --songs/--logs or [S3] SONG_DATA/LOG_DATA of dwh.cfg.',
    });
  }
  return { bucket, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

/** The region of the SDK's default chain (AWS_REGION, the profile's `region`), if any. */
async function regionFromChain(): Promise<string | undefined> {
  const probe = new S3Client({ logger: silentLogger });
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n', 1)[0]!.slice(0, 200) || 'no detail';
}

/** The endpoint as it may be printed: `http://user:secret@host:9000` → `http://host:9000`. */
function withoutUserInfo(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return endpoint.replace(/\/\/[^@/]*@/, '//');
  }
}

/** `bucket.s3.eu-west-1.amazonaws.com` → `eu-west-1`. */
function regionFromEndpoint(endpoint: string | undefined): string | undefined {
  return endpoint ? /(?:^|\.)s3[.-]([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com/.exec(endpoint)?.[1] : undefined;
}
