/**
 * Typed errors. Every failure a user can meet is a `SparkifyError` with a stable
 * `code`, a one-line `message` naming the values involved, and a `hint` saying
 * what to do next. Driver errors are classified once, at the backend seam, and
 * the pipeline adds which stage failed. Messages never contain secrets.
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
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
  | 'REJECT_LIMIT_EXCEEDED'
  | 'AWS_FAILED'
  | 'CLUSTER_FAILED'
  | 'ABORTED'
  | 'INTERNAL';

export interface SparkifyErrorOptions {
  /** What the user should do next. */
  hint?: string;
  /** The underlying error (driver, SDK, file system). Shown only with --verbose. */
  cause?: unknown;
  /** True when retrying the same call may succeed (network blips, throttling). */
  transient?: boolean;
  /** The pipeline stage that was running, added by the pipeline. */
  stage?: string;
}

export class SparkifyError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly transient: boolean;
  stage: string | undefined;

  constructor(code: ErrorCode, message: string, options: SparkifyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SparkifyError';
    this.code = code;
    this.hint = options.hint;
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

export class ConfigError extends SparkifyError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.where}: ${i.message}`).join('\n');
    super('CONFIG_INVALID', `The configuration has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${lines}`, {
      hint: 'Fix the values above in dwh.cfg, the environment or the command-line flags (see `sparkify --help`).',
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function isSparkifyError(err: unknown): err is SparkifyError {
  return err instanceof SparkifyError;
}

/** Wraps anything thrown into a SparkifyError, keeping typed errors as they are. */
export function toSparkifyError(err: unknown, fallback: ErrorCode = 'INTERNAL', hint?: string): SparkifyError {
  if (err instanceof SparkifyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SparkifyError(fallback, message, { cause: err, hint });
}
