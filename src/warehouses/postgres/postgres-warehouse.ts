import pg from 'pg';
import { SparkifyError, type ConfigIssue } from '../../errors.js';
import { baseDialect, dialect, type SqlDialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
import type { Source } from '../../sources/source.js';
import { inTransaction, notCreatedForReading, type Row, type StagingInput, type StagingLoadResult, type Warehouse } from '../warehouse.js';
import { classifyConnectError, classifyPgError, type PgWhere } from './postgres-errors.js';
import { copyStaging } from './postgres-staging.js';
import { describeConnection, type PostgresConnection, type PostgresTarget } from './postgres-target.js';
import { pgTypes } from './postgres-types.js';

export const postgresDialect = dialect({
  name: 'postgres',
  typeName(type) {
    // Text compares byte by byte (as in DuckDB) whatever the database's
    // collation, so ORDER BY in the transforms picks the same rows everywhere.
    const name = baseDialect.typeName(type);
    return type === 'text' ? `${name} COLLATE "C"` : name;
  },
  // Building a primary key's index once after the insert took about half the
  // time of maintaining it row by row (840k time rows: 2.8 s against 5.2 s).
  primaryKeys: 'index',
});

export interface PostgresOptions {
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** The command only reads: a missing schema is WAREHOUSE_NOT_READY, never created. */
  readOnly?: boolean;
}

/** First key of the advisory lock; the second is the schema's OID. `SPRK`. */
const LOCK_CLASS = 0x5350524b;

/**
 * PostgreSQL through one `pg` client (a transaction needs one connection).
 * Staging loads parse each record in Node with the shared coercion rules and
 * stream rows with `COPY … FROM STDIN` (postgres-staging.ts). Redshift
 * extends this class: it keeps the connection, query, transaction and error
 * handling, and overrides `loadStaging` (COPY from S3) and `lock`.
 *
 * @example
 *   const wh = await PostgresWarehouse.open({ connection: { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' }, schema: 'public' });
 *   try { console.log(await wh.query('SELECT COUNT(*) AS n FROM songplays')); } finally { await wh.close(); }
 */
export class PostgresWarehouse implements Warehouse {
  readonly kind: string = 'postgres';
  readonly dialect: SqlDialect = postgresDialect;
  private closed = false;
  /** Set when the socket dies; every later call fails with it. */
  private lost: Error | undefined;

  /**
   * @param connect opens a new client like the first (for `reconnect`).
   */
  protected constructor(
    protected client: pg.Client,
    protected readonly where: PgWhere & { schema: string },
    readonly description: string,
    private readonly connect: () => Promise<pg.Client>,
    /** A reading command's warehouse: the schema is never created. */
    protected readonly readOnly = false,
  ) {
    this.watch(client);
  }

  /** Connects and sets up the session; the schema (`target.schema`) is created when missing. */
  static async open(target: Pick<PostgresTarget, 'connection' | 'schema'>, options: PostgresOptions = {}): Promise<PostgresWarehouse> {
    const where = { product: 'PostgreSQL', ...pick(target.connection), schema: target.schema };
    const connect = () => connectPostgres(target.connection, where, options.connectTimeoutMs);
    return PostgresWarehouse.ready(new PostgresWarehouse(await connect(), where, describeConnection(where.product, where, where.schema), connect, options.readOnly));
  }

  /** Sets up a new warehouse's session; closes it when that fails. Subclasses open through this too. */
  protected static async ready<W extends PostgresWarehouse>(wh: W): Promise<W> {
    try {
      await wh.setUpSession();
    } catch (err) {
      await wh.close();
      throw err;
    }
    return wh;
  }

  /**
   * UTC timestamps, floats printed exactly, and the chosen schema first on the
   * search path so that the shared unqualified SQL finds its tables.
   */
  protected async setUpSession(): Promise<void> {
    const schema = this.where.schema;
    const q = this.dialect.quoteString;
    await this.execute(postgresSessionSql(schema)[0]!);
    const [found] = await this.query<{ usable: boolean }>(
      `SELECT has_schema_privilege(oid, 'USAGE') AS usable FROM pg_namespace WHERE nspname = ${q(schema)}`,
    );
    // Only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
    if (!found && this.readOnly) throw notCreatedForReading(`Schema ${schema} on ${this.where.host}:${this.where.port}/${this.where.database}`);
    if (!found) await this.execute(`CREATE SCHEMA IF NOT EXISTS ${this.dialect.quoteIdent(schema)}`);
    else if (!found.usable) {
      // The search path silently skips such a schema; say so now rather than fail later with "no schema selected".
      throw classifyPgError(
        { code: '42501', message: `permission denied for schema ${schema} (no USAGE privilege)` },
        this.where,
      );
    }
    await this.execute(postgresSessionSql(schema)[1]!);
  }

  async execute(sql: string): Promise<void> {
    await this.run(sql);
  }

  async query<T extends Row = Row>(sql: string): Promise<T[]> {
    const result = await this.run(sql);
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return (last?.rows ?? []) as T[];
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return inTransaction((sql) => (sql === 'ROLLBACK' ? this.client.query(sql) : this.execute(sql)), fn);
  }

  async sourceIssues(_table: Table, _source: Source): Promise<ConfigIssue[]> {
    return []; // records pass through Node, from folders and S3 alike
  }

  /** Parses and types records in Node and streams them with COPY (see `copyStaging`); Redshift overrides it. */
  async loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    if (this.lost) throw classifyPgError(this.lost, this.where);
    try {
      return await copyStaging(this.client, table, input);
    } catch (err) {
      // Failures of the server or the connection are classified here; a source
      // that failed to read keeps its own error (the pipeline names the stage).
      if (err instanceof pg.DatabaseError) throw classifyPgError(err, this.where, `COPY ${table.name}`);
      if (this.lost) throw classifyPgError(this.lost, this.where, `COPY ${table.name}`);
      throw err;
    }
  }

  async lock(): Promise<() => Promise<void>> {
    const { take, release } = postgresLockSql(this.where.schema);
    const [row] = await this.query<{ ok: boolean | null }>(take);
    if (row?.ok === null) {
      throw new SparkifyError('WAREHOUSE_NOT_READY', `Schema ${this.where.schema} no longer exists on ${this.where.host}:${this.where.port}/${this.where.database}.`, {
        hint: 'Someone dropped it while sparkify was connected; run the command again to create it, then `sparkify create-tables`.',
      });
    }
    if (!row?.ok) throw await this.lockedError();
    let released = false;
    return async () => {
      if (released || this.closed) return;
      released = true;
      // A session lock dies with the session; if the connection is gone there is nothing to release.
      await this.query(release).catch(() => undefined);
    };
  }

  /**
   * PostgreSQL's cancel request for the statement (or COPY) running now: a
   * short connection of its own that needs no login, only the session's key.
   */
  async cancel(): Promise<void> {
    const client = this.client as unknown as { activeQuery?: unknown; host: string; port: number };
    if (this.closed || !client.activeQuery) return;
    try {
      const canceller = new pg.Client({ host: client.host, port: client.port }) as unknown as { cancel(c: pg.Client, q: unknown): void };
      canceller.cancel(this.client, client.activeQuery);
    } catch {
      // best effort: the run stops at the end of the statement anyway
    }
  }

  /** A new connection and session; the old one is ended (its server process rolls back what it held). */
  async reconnect(): Promise<void> {
    if (this.closed) throw new SparkifyError('INTERNAL', `The warehouse ${this.description} is closed.`);
    const old = this.client;
    const oldPid = (old as unknown as { processID?: number }).processID;
    this.client = await this.connect();
    this.lost = undefined;
    this.watch(this.client);
    void old.end().catch(() => undefined);
    // The old server process may outlive its socket for a while (a network fault), holding the
    // lock and its transaction: end it now, as its user may (best effort; it is gone already after a restart).
    if (oldPid !== undefined) await this.client.query(`SELECT pg_terminate_backend(${Number(oldPid)})`).catch(() => undefined);
    await this.setUpSession();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end().catch(() => undefined);
  }

  /** Remembers the first error of `client`'s socket: every later call fails with it. */
  private watch(client: pg.Client): void {
    client.on('error', (err) => {
      if (client === this.client) this.lost ??= err;
    });
  }

  /** Runs SQL (one or more statements), classifying any failure. */
  protected async run(sql: string): Promise<pg.QueryResult | pg.QueryResult[]> {
    if (this.closed) throw new SparkifyError('INTERNAL', `The warehouse ${this.description} is closed.`);
    if (this.lost) throw classifyPgError(this.lost, this.where, sql);
    try {
      return (await this.client.query(sql)) as pg.QueryResult | pg.QueryResult[];
    } catch (err) {
      // The server's own reason (e.g. 57P01, session terminated) beats "connection lost".
      throw classifyPgError(err instanceof pg.DatabaseError ? err : (this.lost ?? err), this.where, sql);
    }
  }

  private async lockedError(): Promise<SparkifyError> {
    const schema = this.where.schema;
    const holders = await this.query<{ pid: number; application_name: string; client_addr: string | null; backend_start: string }>(`
      SELECT a.pid, a.application_name, a.client_addr, a.backend_start
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LOCK_CLASS} AND l.objsubid = 2
        AND l.objid = (SELECT oid FROM pg_namespace WHERE nspname = ${this.dialect.quoteString(schema)})`).catch(() => []);
    const h = holders[0];
    const who = h
      ? ` (server process ${h.pid}${h.application_name ? `, ${h.application_name}` : ''}${h.client_addr ? ` from ${h.client_addr}` : ''}, connected since ${h.backend_start.slice(0, 19)} UTC)`
      : '';
    return new SparkifyError('WAREHOUSE_LOCKED', `Another sparkify run is loading schema ${schema} on ${this.where.host}:${this.where.port}/${this.where.database}${who}.`, {
      hint: h
        ? `Wait for it to finish, or use another --schema; if it is stuck, end it with SELECT pg_terminate_backend(${h.pid}) (its changes are rolled back).`
        : 'Wait for it to finish, or use another --schema.',
    });
  }
}

/**
 * Opens one `pg` client with sparkify's value parsers, a connect timeout and
 * TLS as `sslmode` asks; failures come back classified. Shared with Redshift.
 */
export async function connectPostgres(connection: PostgresConnection, where: PgWhere, connectTimeoutMs = 10_000): Promise<pg.Client> {
  const ssl =
    connection.sslmode === 'verify-full'
      ? { rejectUnauthorized: true, servername: connection.host }
      : connection.sslmode === 'require'
        ? { rejectUnauthorized: false }
        : false;
  const client = new pg.Client({
    host: connection.host,
    port: connection.port,
    database: connection.database,
    user: connection.user,
    password: connection.password,
    ssl,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    application_name: 'sparkify',
    types: pgTypes as unknown as pg.CustomTypesConfig,
  });
  // Errors after a failed connect must not crash the process as unhandled 'error' events.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classifyConnectError(err, where);
  }
  return client;
}

function pick(c: PostgresConnection): Omit<PgWhere, 'product' | 'schema'> {
  return { host: c.host, port: c.port, user: c.user, database: c.database };
}


/** The run's lock: a session advisory lock keyed on the schema (`take` answers `ok`: true, false, or NULL when the schema is gone). */
export function postgresLockSql(schema: string): { take: string; release: string } {
  const key = `${LOCK_CLASS}, (SELECT oid::int FROM pg_namespace WHERE nspname = ${postgresDialect.quoteString(schema)})`;
  return { take: `SELECT pg_try_advisory_lock(${key}) AS ok`, release: `SELECT pg_advisory_unlock(${key}) AS ok` };
}

/**
 * A session's settings: UTC, floats printed exactly (extra_float_digits = 3:
 * the shortest text that reads back as the same double), quiet notices; then,
 * once the schema exists, the search path.
 */
export function postgresSessionSql(schema: string): [settings: string, searchPath: string] {
  return [`SET TIME ZONE 'UTC'; SET extra_float_digits = 3; SET client_min_messages = warning`, `SET search_path TO ${postgresDialect.quoteIdent(schema)}`];
}
