/**
 * Typed errors. Every failure a user can meet is a `SparkifyError` with a stable
 * `code`, a one-line `message` naming the values involved, and a `hint` saying
 * what to do next. Driver errors are classified once, at the backend seam, and
 * the pipeline adds which stage failed. Messages never contain secrets.
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_EMPTY'
  | 'SOURCE_READ_FAILED'
  | 'S3_BUCKET_NOT_FOUND'
  | 'S3_ACCESS_DENIED'
  | 'S3_WRONG_REGION'
  | 'WAREHOUSE_UNREACHABLE'
  | 'WAREHOUSE_AUTH_FAILED'
  | 'WAREHOUSE_DATABASE_MISSING'
  | 'WAREHOUSE_PERMISSION_DENIED'
  | 'WAREHOUSE_LOCKED'
  | 'WAREHOUSE_NOT_READY'
  | 'WAREHOUSE_QUERY_FAILED'
  | 'WAREHOUSE_UNSUPPORTED'
  | 'LOAD_FAILED'
  | 'FULL_REFRESH_NEEDED'
  | 'NOTHING_LOADED'
  | 'REJECT_LIMIT_EXCEEDED'
  | 'AWS_FAILED'
  | 'CLUSTER_FAILED'
  | 'ABORTED'
  | 'DEPENDENCY_MISSING'
  | 'QUERY_REFUSED'
  | 'EXPORT_FAILED'
  /** A check of `sparkify doctor` failed (its report says which). */
  | 'CHECK_FAILED'
  /** The command line itself is wrong (an unknown option, options that exclude each other); exit code 2. */
  | 'USAGE_INVALID'
  | 'INTERNAL';

export interface SparkifyErrorOptions {
  /** What the user should do next. */
  hint?: string;
  /** The underlying error (driver, SDK, file system). Shown only with --verbose. */
  cause?: unknown;
  /** The SQL that failed, when a statement did. Shown only with --verbose. */
  sql?: string;
  /** True when retrying the same call may succeed (network blips, throttling). */
  transient?: boolean;
  /** The pipeline stage that was running, added by the pipeline. */
  stage?: string;
}

export class SparkifyError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly sql: string | undefined;
  readonly transient: boolean;
  stage: string | undefined;

  constructor(code: ErrorCode, message: string, options: SparkifyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SparkifyError';
    this.code = code;
    this.hint = options.hint;
    this.sql = options.sql;
    this.transient = options.transient ?? false;
    this.stage = options.stage;
  }
}

/** One problem found while reading the configuration. */
export interface ConfigIssue {
  /** Where the value came from: `dwh.cfg [CLUSTER] DB_PORT`, `--warehouse`, `PGPORT`. */
  where: string;
  message: string;
}

/** Every configuration problem at once; the CLI exits with 2 and nothing was touched. */
export class ConfigError extends SparkifyError {
  readonly issues: readonly ConfigIssue[];
  /** The message's first line without the list: `The configuration has 2 problems.` (JSON output lists `issues` apart). */
  readonly summary: string;

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.where}: ${i.message}`).join('\n');
    const summary = `The configuration has ${plural(issues.length, 'problem')}`;
    super('CONFIG_INVALID', `${summary}:\n${lines}`, {
      hint: 'Fix each value listed, in dwh.cfg, the environment or the command-line flags (see `sparkify --help`).',
    });
    this.name = 'ConfigError';
    this.issues = issues;
    this.summary = `${summary}.`;
  }
}

/**
 * A count and its noun, for messages a person reads: the count with thousands
 * separators, the noun in the singular for exactly one. Never for JSON fields.
 *
 * @example
 *   plural(1, 'file');            // '1 file'
 *   plural(2400, 'file');         // '2,400 files'
 *   plural(3, 'entry', 'entries'); // '3 entries'
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/**
 * A count for a person: thousands separated (`2,400`), as in every message. Never for JSON fields.
 *
 * @example
 *   num(1234567); // '1,234,567'
 */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}

export function isSparkifyError(err: unknown): err is SparkifyError {
  return err instanceof SparkifyError;
}

/** The hint of an error nobody classified: a bug, not a failed load. */
export const INTERNAL_HINT = 'This looks like a bug in sparkify: run again with --verbose and report it with that output.';

/**
 * Wraps anything thrown into a SparkifyError, keeping typed errors as they are.
 * What nobody classified is `INTERNAL`: a plain bug must not look like a failed load.
 */
export function toSparkifyError(err: unknown): SparkifyError {
  if (err instanceof SparkifyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SparkifyError('INTERNAL', message, { cause: err, hint: INTERNAL_HINT });
}

/** The first line of a (driver's) message, trimmed; `fallback` when there is none. */
export function firstLine(text: string | undefined, fallback = 'unknown error'): string {
  return (text ?? '').split('\n', 1)[0]!.trim() || fallback;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
