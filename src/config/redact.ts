/**
 * A URL (or anything that may hold one) with what could be a credential
 * replaced by `***`, safe to print: the password of `user:password@host`
 * (up to the last `@`, since a password may hold one) and query parameters
 * named like secrets.
 *
 * @example
 *   redactUrl('postgres://ann:s3cr@t@db:5432/music'); // 'postgres://ann:***@db:5432/music'
 *   redactUrl('postgres://db/music?password=x');      // 'postgres://db/music?password=***'
 */
export function redactUrl(value: string): string {
  let out = value;
  const start = out.indexOf('//');
  if (start !== -1) {
    const at = out.lastIndexOf('@');
    const colon = out.indexOf(':', start + 2);
    if (at > start && colon !== -1 && colon < at) out = `${out.slice(0, colon + 1)}***${out.slice(at)}`;
  }
  return out.replace(/([?&;](?:[a-z_]*(?:password|passwd|pwd|secret|token|key|credential)[a-z_]*)=)[^&#;]*/gi, '$1***');
}
