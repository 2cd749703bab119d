import crypto from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { quietAwsSdk } from '../../src/aws/quiet.js';

/**
 * s3rver is a real S3-API server (HTTP, SigV4 checking, XML, ListObjectsV2
 * pagination) backed by a folder; it runs here on loopback, in this process.
 * It is not a mock: code under test talks to it through the real AWS SDK
 * and the real network stack.
 *
 * @example
 *   const s3 = await startS3rver({ buckets: ['sparkify'] });
 *   await s3.uploadFolder('data/sparkify-sample/log_data', 'sparkify', 'log_data');
 *   // ... S3Source.create('s3://sparkify/log_data', { s3Endpoint: s3.endpoint, s3Region: s3.region })
 *   await s3.stop();
 */

/** The one account s3rver knows. Code using the default credential chain needs these in the environment. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** s3rver ignores regions; clients still have to sign with one. */
  region: string;
  /** `METHOD /path?query` of every request served, oldest first (clear it with `requests.length = 0`). */
  requests: string[];
  /** A client signed with s3rver's credentials, for setting up fixtures. */
  client: S3Client;
  /** Uploads every file below `dir` as `prefix/<relative path>`; returns how many. */
  uploadFolder(dir: string, bucket: string, prefix: string): Promise<number>;
  put(bucket: string, key: string, body: string | Buffer): Promise<void>;
  /** Closes the client and server and removes the data folder. Idempotent. */
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/**
 * s3rver 3.7 encrypts ListObjectsV2 continuation tokens with single DES, which
 * OpenSSL 3 (Node >= 17) only offers through its legacy provider: without
 * this every second page fails with a 500. Triple DES with the key repeated
 * three times is the same cipher, byte for byte, and is still available; so
 * while an s3rver runs, `des` is served as that. Nothing else is touched.
 */
let desShimUsers = 0;
let restoreDes: (() => void) | undefined;

function desUnavailable(): boolean {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return false;
  } catch {
    return true;
  }
}

function installDesShim(): void {
  if (desShimUsers++ > 0 || !desUnavailable()) return;
  const { createCipheriv, createDecipheriv } = crypto;
  const asTripleDes = (key: crypto.CipherKey): Buffer => {
    const k = Buffer.from(key as Buffer);
    return Buffer.concat([k, k, k]);
  };
  const patched = crypto as { createCipheriv: unknown; createDecipheriv: unknown };
  patched.createCipheriv = (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
    algorithm === 'des' ? createCipheriv('des-ede3-cbc', asTripleDes(key), iv) : createCipheriv(algorithm, key, iv, options);
  patched.createDecipheriv = (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
    algorithm === 'des' ? createDecipheriv('des-ede3-cbc', asTripleDes(key), iv) : createDecipheriv(algorithm, key, iv, options);
  restoreDes = () => {
    patched.createCipheriv = createCipheriv;
    patched.createDecipheriv = createDecipheriv;
  };
}

function releaseDesShim(): void {
  if (--desShimUsers > 0) return;
  restoreDes?.();
  restoreDes = undefined;
}

/** Starts s3rver on 127.0.0.1 with a free port and a fresh temporary folder. */
export async function startS3rver(options: { buckets?: string[] } = {}): Promise<RunningS3rver> {
  quietAwsSdk();
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
  installDesShim();
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, vhostBuckets: false });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    releaseDesShim();
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const requests: string[] = [];
  server.httpServer?.on('request', (req: IncomingMessage) => requests.push(`${req.method} ${req.url}`));
  const endpoint = `http://127.0.0.1:${address.port}`;
  const region = 'us-east-1';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    // s3rver predates flexible checksums; send them only when an operation requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const put = async (bucket: string, key: string, body: string | Buffer) => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };

  let stopped = false;
  const running: RunningS3rver = {
    endpoint,
    region,
    requests,
    client,
    put,
    async uploadFolder(dir, bucket, prefix) {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((e) => e.isFile())
        .map((e) => path.join((e as { parentPath?: string }).parentPath ?? (e as { path?: string }).path ?? dir, e.name));
      const base = prefix.replace(/\/+$/, '');
      for (let i = 0; i < files.length; i += 16) {
        await Promise.all(
          files.slice(i, i + 16).map(async (file) => {
            const rel = path.relative(dir, file).split(path.sep).join('/');
            await put(bucket, base ? `${base}/${rel}` : rel, await readFile(file));
          }),
        );
      }
      return files.length;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      // Keep-alive sockets of other clients would hold close() open until they idle out.
      server.httpServer?.closeAllConnections();
      await server.close().catch(() => undefined);
      releaseDesShim();
      await rm(directory, { recursive: true, force: true });
    },
  };
  try {
    for (const bucket of options.buckets ?? []) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
