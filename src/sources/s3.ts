import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { silentLogger } from '../aws/aws-errors.js';
import { quietAwsSdk } from '../aws/quiet.js';
import { SparkifyError } from '../errors.js';
import { classifyS3Error, type S3Operation } from './s3-errors.js';
import { endpointWithoutUserInfo, isHttpEndpoint, parseS3Location } from './s3-location.js';
import { isJsonName, type Source, type SourceFile, type SourceOptions } from './source.js';

/** The course's bucket (udacity-dend) lives here. */
const DEFAULT_REGION = 'us-west-2';

export interface S3SourceOptions extends SourceOptions {
  /** Keys per ListObjectsV2 page; S3 caps it at 1000. Lowered by tests to force pagination. */
  pageSize?: number;
}

/**
 * JSON objects below `s3://bucket/prefix`, through the AWS SDK v3. Credentials
 * come from the SDK's default chain (env, profile, SSO, instance role); the
 * region from `s3Region`, else the chain, else us-west-2. With `s3Endpoint`
 * any S3-compatible store works (MinIO, s3rver), path-style.
 *
 * @example
 *   const songs = await S3Source.create('s3://udacity-dend/song_data', { s3Region: 'us-west-2' });
 *   try { for (const f of await songs.list()) console.log(f.key, f.size); } finally { await songs.close(); }
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
    readonly customEndpoint: string | undefined,
    private readonly client: S3Client,
    private readonly pageSize: number,
  ) {
    this.uri = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
  }

  /** Opens a location; a location or endpoint that cannot work is CONFIG_INVALID, before any request. */
  static async create(location: string, options: S3SourceOptions = {}): Promise<S3Source> {
    quietAwsSdk();
    const parsed = parseS3Location(location);
    if (!parsed) {
      throw new SparkifyError('CONFIG_INVALID', `"${location}" is not an S3 location (expected s3://bucket/prefix).`, {
        hint: 'Check --songs/--logs or [S3] SONG_DATA/LOG_DATA of dwh.cfg.',
      });
    }
    const endpoint = options.s3Endpoint?.replace(/\/+$/, '');
    if (endpoint !== undefined && !isHttpEndpoint(endpoint)) {
      throw new SparkifyError('CONFIG_INVALID', `S3 endpoint "${endpointWithoutUserInfo(endpoint)}" is not an http(s) URL.`, {
        hint: 'Give it as e.g. http://127.0.0.1:9000 (--s3-endpoint, SPARKIFY_S3_ENDPOINT or [S3] ENDPOINT).',
      });
    }
    const region = options.s3Region || (await regionFromChain()) || DEFAULT_REGION;
    // records.ts keeps a window of objects in flight; a socket each is enough, and more would only queue at S3.
    const maxSockets = Math.max(1, Math.floor(Number.isFinite(options.concurrency) ? options.concurrency! : 16));
    const client = new S3Client({
      region,
      ...(options.credentials ? { credentials: options.credentials } : {}),
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
    const shown = endpoint ? endpointWithoutUserInfo(endpoint) : `https://s3.${region}.amazonaws.com`;
    const pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
    return new S3Source(parsed.bucket, parsed.prefix, region, shown, endpoint ? shown : undefined, client, pageSize);
  }

  async list(): Promise<SourceFile[]> {
    // `song_data` must not match `song_data_old/…`; a prefix naming one object (`…/x.json`) is listed as itself.
    const single = isJsonName(this.prefix);
    const listPrefix = this.prefix === '' || single ? this.prefix : `${this.prefix}/`;
    const files: SourceFile[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(this.operation('listing', this.uri), () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token, MaxKeys: this.pageSize })),
      );
      for (const obj of page.Contents ?? []) {
        const full = obj.Key;
        if (!full || !isJsonName(full)) continue;
        let key: string;
        if (single && full === this.prefix) key = full.slice(full.lastIndexOf('/') + 1);
        else if (single && !full.startsWith(`${this.prefix}/`)) continue;
        else key = full.slice(single ? this.prefix.length + 1 : listPrefix.length);
        const etag = obj.ETag?.replace(/^"(.*)"$/, '$1');
        files.push({ key, uri: `s3://${this.bucket}/${full}`, size: obj.Size ?? 0, modified: obj.LastModified?.getTime(), ...(etag ? { etag } : {}) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return files;
  }

  async read(file: SourceFile): Promise<Buffer> {
    return this.call(this.operation('reading', file.uri), async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(file) }));
      if (!out.Body) return Buffer.alloc(0);
      const bytes = await out.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  async *stream(file: SourceFile): AsyncIterable<Uint8Array> {
    const op = this.operation('reading', file.uri);
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
          throw classifyS3Error(err, op);
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

  private operation(verb: S3Operation['verb'], uri: string): S3Operation {
    return { verb, uri, source: { uri: this.uri, bucket: this.bucket, region: this.region, endpoint: this.endpoint } };
  }

  private async call<T>(op: S3Operation, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifyS3Error(err, op);
    }
  }
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
