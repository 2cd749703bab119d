/**
 * Where raw JSON lives. A source only lists and streams files; parsing and
 * loading belong to the pipeline and the warehouses.
 */
import type { AwsCredentialsProvider } from '../aws/credentials.js';

export interface SourceFile {
  /** Path below the source root, with `/` separators: `A/B/C/TRABCEI128F424C983.json`. */
  key: string;
  /** Full location: a local absolute path or `s3://bucket/key`. */
  uri: string;
  /** Bytes, as listed; a file read with another size changed during the run, and fails it. */
  size: number;
  /** When it last changed, in ms since the epoch (mtime locally, LastModified on S3), when known. */
  modified?: number;
  /** S3: the object's ETag, which changes when its content does. */
  etag?: string;
}

export interface Source {
  readonly kind: 'local' | 's3';
  /** The root as the user gave it, normalised (no trailing slash). */
  readonly uri: string;
  /** S3: the bucket's region, when known. */
  readonly region?: string;
  /** S3: where requests go when it is not Amazon S3 (MinIO, a local server), safe to print. */
  readonly customEndpoint?: string;
  /** Every `*.json` file below the root, sorted by key. Throws SOURCE_NOT_FOUND. */
  list(): Promise<SourceFile[]>;
  /** The whole file, for small files. */
  read(file: SourceFile): Promise<Buffer>;
  /** The file as a stream of chunks, for large files. */
  stream(file: SourceFile): AsyncIterable<Uint8Array>;
  /** A path the warehouse may read directly, when the file is on this machine. */
  localPath(file: SourceFile): string | undefined;
  /** Releases what the source holds (sockets). Idempotent; the source is unusable afterwards. */
  close(): Promise<void>;
}

/** Options shared by every kind of source. */
export interface SourceOptions {
  /** S3-compatible endpoint (MinIO, a local test server); path-style addressing is used with it. */
  s3Endpoint?: string;
  s3Region?: string;
  /** How many objects are fetched at once. */
  concurrency?: number;
  /** AWS credentials when not the SDK's default chain alone (the chain, then dwh.cfg's [AWS] keys: aws/credentials.ts). */
  credentials?: AwsCredentialsProvider;
}

/** The files a source holds: `*.json`, and the same gzipped (`*.json.gz`). */
export function isJsonName(name: string): boolean {
  return name.endsWith('.json') || name.endsWith('.json.gz');
}
