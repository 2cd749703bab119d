import { firstLine, SparkifyError } from '../../errors.js';

/**
 * Driver errors sorted once, at the PostgreSQL seam, into the codes users see.
 * Redshift speaks the same protocol and reuses this. Messages name host, port,
 * user, database or schema, never the password.
 */

/** Where a connection points, for messages; no password. */
export interface PgWhere {
  /** `PostgreSQL` or `Redshift`, as shown to the user. */
  product: string;
  host: string;
  port: number;
  user: string;
  database: string;
  schema?: string;
}

/** Node's socket error codes that mean "the server could not be reached". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** Fields of a `pg` DatabaseError (SQLSTATE in `code`) or a Node socket error. */
interface DriverError {
  message?: string;
  code?: string;
  table?: string;
  /** The server's DETAIL (Redshift puts "Serializable isolation violation on table …" there, after ERROR: 1023). */
  detail?: string;
}

/** Classifies an error met while connecting or setting up the session. */
export function classifyConnectError(err: unknown, where: PgWhere): SparkifyError {
  const e = asDriverError(err);
  const server = `${where.host}:${where.port}`;
  if (isNetworkError(e)) {
    return new SparkifyError('WAREHOUSE_UNREACHABLE', `Cannot reach ${where.product} at ${server}: ${describeNetworkError(e)}.`, {
      cause: err,
      transient: true,
      hint: `Check that the server is running and that host ${where.host} and port ${where.port} are right (and, for a cloud database, that its security group or firewall lets this machine in).`,
    });
  }
  if (isTlsError(e)) {
    return new SparkifyError('WAREHOUSE_UNREACHABLE', `TLS to ${where.product} at ${server} failed: ${firstLine(e.message)}.`, {
      cause: err,
      hint: /does not support SSL/i.test(e.message ?? '')
        ? 'The server does not speak TLS: use sslmode=disable (or leave sslmode out) for it.'
        : 'Check sslmode: verify-full needs a certificate this machine trusts (NODE_EXTRA_CA_CERTS) issued for this host name; require encrypts without checking it.',
    });
  }
  return classifyPgError(err, where);
}

/** Classifies an error from a statement (or from connecting, once the socket is open). */
export function classifyPgError(err: unknown, where: PgWhere, sql?: string): SparkifyError {
  if (err instanceof SparkifyError) return err;
  const e = asDriverError(err);
  const code = e.code ?? '';
  const message = firstLine(e.message);
  const server = `${where.host}:${where.port}`;
  if (isNetworkError(e)) {
    return new SparkifyError('WAREHOUSE_UNREACHABLE', `Lost the connection to ${where.product} at ${server}: ${describeNetworkError(e)}.`, {
      cause: err,
      transient: true,
      hint: 'Check that the server is still running and reachable, then run the command again; a load that was cut off is rolled back.',
    });
  }
  if (code === '28P01' || code === '28000') {
    return new SparkifyError('WAREHOUSE_AUTH_FAILED', `${where.product} at ${server} refused user "${where.user}": ${message}.`, {
      cause: err,
      hint: 'Check the user name and password (PGUSER / PGPASSWORD, dwh.cfg [CLUSTER] DB_USER / DB_PASSWORD, or the warehouse URL), and that the role may log in.',
    });
  }
  if (code === '3D000') {
    return new SparkifyError('WAREHOUSE_DATABASE_MISSING', `Database "${where.database}" does not exist on ${where.product} at ${server}.`, {
      cause: err,
      hint: `Check the database name (PGDATABASE, dwh.cfg [CLUSTER] DB_NAME, or the warehouse URL), or create it: CREATE DATABASE ${where.database}.`,
    });
  }
  if (code === '42501') {
    return new SparkifyError('WAREHOUSE_PERMISSION_DENIED', `User "${where.user}" may not do this on ${where.product}: ${message}.`, {
      cause: err,
      sql,
      hint: `Ask an administrator to grant "${where.user}" USAGE and CREATE on schema ${where.schema ?? 'public'} (and CREATE on database ${where.database} if the schema does not exist yet), or choose a schema you own with --schema.`,
    });
  }
  if (code === '42P01') {
    const table = /relation "([^"]+)" does not exist/.exec(e.message ?? '')?.[1] ?? e.table ?? 'a table';
    return new SparkifyError('WAREHOUSE_NOT_READY', `Table ${table} does not exist in this warehouse${where.schema ? ` (schema ${where.schema})` : ''}.`, {
      cause: err,
      sql,
      hint: 'Run `sparkify create-tables` first (or `sparkify run`, which does both).',
    });
  }
  if (code === '57P01' || code === '57P02') {
    return new SparkifyError('WAREHOUSE_UNREACHABLE', `${where.product} at ${server} ended the session: ${message}.`, {
      cause: err,
      transient: true,
      hint: 'Someone stopped this session (pg_terminate_backend) or the server; run the command again: what was being loaded was rolled back.',
    });
  }
  if (code.startsWith('08') || code === '57P03' || code === '53300') {
    return new SparkifyError('WAREHOUSE_UNREACHABLE', `${where.product} at ${server} is not accepting connections: ${message}.`, {
      cause: err,
      transient: true,
      hint: 'The server is starting, shutting down or full of connections; wait a moment and run the command again.',
    });
  }
  // Redshift reports a serialization failure as ERROR 1023 (SQLSTATE XX000) and says so in DETAIL; its documentation's advice is to retry.
  const serializable = /serializable isolation violation/i.test(`${e.message ?? ''} ${e.detail ?? ''}`);
  const transient = code === '40001' || code === '40P01' || code === '55P03' || serializable;
  return new SparkifyError('WAREHOUSE_QUERY_FAILED', `${where.product}: ${serializable && !/serializable/i.test(message) ? `${message}: ${firstLine(e.detail)}` : message}`, {
    cause: err,
    sql,
    transient,
    hint: transient
      ? 'Another session got in the way; run the command again.'
      : 'Run again with --verbose to see the statement; if the tables were made by an older version, run `sparkify create-tables`.',
  });
}

function asDriverError(err: unknown): DriverError {
  if (err && typeof err === 'object') return err as DriverError;
  return { message: String(err) };
}

function isNetworkError(e: DriverError): boolean {
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  // `pg` reports its connect timeout and dropped sockets with plain messages.
  return !e.code && /timeout expired|connection timeout|Connection terminated|ECONNREFUSED|ENOTFOUND/i.test(e.message ?? '');
}

/** The server refused TLS, or its certificate did not check out. */
function isTlsError(e: DriverError): boolean {
  if (e.code && /CERT|SSL|TLS|SIGNATURE|ISSUER/.test(e.code) && !/^[0-9A-Z]{5}$/.test(e.code)) return true;
  return !e.code && /SSL|TLS|certificate/i.test(e.message ?? '');
}

function describeNetworkError(e: DriverError): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was reset';
  }
  if (/timeout/i.test(e.message ?? '')) return 'timed out while connecting';
  return firstLine(e.message);
}
