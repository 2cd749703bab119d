/**
 * `s3://bucket/prefix` locations, without the AWS SDK: the configuration
 * checks them before any run, and the S3 source opens them.
 */

/** Whether a location names S3 (`s3://`, or Hadoop's `s3a://`). */
export function isS3Location(location: string): boolean {
  return /^s3a?:\/\//i.test(location.trim());
}

/**
 * `s3://bucket/a/b/` → `{ bucket, prefix: 'a/b' }`; `s3a://` is accepted too.
 * Undefined when it names no bucket.
 *
 * @example
 *   parseS3Location('s3://udacity-dend/song_data/'); // { bucket: 'udacity-dend', prefix: 'song_data' }
 */
export function parseS3Location(location: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3a?:\/\/([^/]*)\/?(.*)$/i.exec(location.trim());
  const bucket = m?.[1] ?? '';
  if (!m || bucket === '') return undefined;
  return { bucket, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

/** The canonical form of an S3 location: `s3://bucket/prefix`, no trailing slash. */
export function normaliseS3Location(location: string): string {
  return location.trim().replace(/^s3a?:/i, 's3:').replace(/\/+$/, '');
}

/** An S3 endpoint as it may be printed: `http://user:secret@host:9000` → `http://host:9000`. */
export function endpointWithoutUserInfo(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return endpoint.replace(/\/\/[^@/]*@/, '//');
  }
}

/** Whether an endpoint is an http(s) URL, as `--s3-endpoint` must be. */
export function isHttpEndpoint(endpoint: string): boolean {
  return /^https?:\/\/[^/]+/i.test(endpoint.trim());
}
