import type pg from 'pg';
import type { ConfigIssue } from '../../errors.js';
import type { SqlDialect } from '../../schema/dialect.js';
import type { Table } from '../../schema/tables.js';
import type { Source } from '../../sources/source.js';
import type { PgWhere } from '../postgres/postgres-errors.js';
import { connectPostgres, PostgresWarehouse } from '../postgres/postgres-warehouse.js';
import type { StagingInput, StagingLoadResult } from '../warehouse.js';
import { redshiftDialect } from './redshift-dialect.js';
import type { LoadErrorTable } from './redshift-load-errors.js';
import { acquireTableLock } from './redshift-lock.js';
import { setUpRedshiftSession } from './redshift-session.js';
import { loadStagingRedshift, redshiftSourceChecks } from './redshift-staging.js';
import { describeRedshift, loadErrorTableFor, type RedshiftTarget } from './redshift-target.js';

/**
 * Amazon Redshift over its PostgreSQL wire protocol: a PostgresWarehouse
 * (connection, queries, transactions, error classification) with Redshift's
 * dialect, a staging load that is Redshift's own COPY from S3, and a lock
 * table instead of advisory locks. The Data API transport (data-api/) shares
 * the dialect, the load and the lock.
 */

export interface RedshiftOptions {
  /** STL_LOAD_ERRORS (provisioned) or SYS_LOAD_ERROR_DETAIL (Serverless); guessed from the endpoint by default. */
  loadErrors?: LoadErrorTable;
  /** How long a crashed run's lock lasts. Default 6 hours. */
  lockLeaseMs?: number;
  connectTimeoutMs?: number;
  /** The command only reads: a missing schema is WAREHOUSE_NOT_READY, never created. */
  readOnly?: boolean;
}

export { isServerlessHost } from './redshift-target.js';

/** Redshift over its PostgreSQL wire protocol. */
export class RedshiftWarehouse extends PostgresWarehouse {
  override readonly kind: string = 'redshift';
  override readonly dialect: SqlDialect = redshiftDialect;

  private constructor(
    client: pg.Client,
    where: PgWhere & { schema: string },
    private readonly target: RedshiftTarget,
    private readonly options: RedshiftOptions,
  ) {
    super(client, where, describeRedshift(target), () => connectPostgres(target.connection, where, options.connectTimeoutMs), options.readOnly);
  }

  /**
   * Connects (TLS by default) and sets up the session.
   *
   * @example
   *   const wh = await RedshiftWarehouse.open({ kind: 'redshift', connection: { host, port: 5439, database: 'dev', user: 'awsuser', password, sslmode: 'require' }, schema: 'public', copy: { iamRoleArn } });
   */
  static override async open(target: RedshiftTarget, options: RedshiftOptions = {}): Promise<RedshiftWarehouse> {
    const c = target.connection;
    const where = { product: 'Redshift', host: c.host, port: c.port, user: c.user, database: c.database, schema: target.schema };
    const client = await connectPostgres(c, where, options.connectTimeoutMs);
    return PostgresWarehouse.ready(new RedshiftWarehouse(client, where, target, options));
  }

  protected override async setUpSession(): Promise<void> {
    await setUpRedshiftSession(this, this.where.schema, `Redshift at ${this.where.host}:${this.where.port}`, this.readOnly);
  }

  override sourceIssues(table: Table, source: Source): Promise<ConfigIssue[]> {
    return redshiftSourceChecks(table, source, this.target.copy);
  }

  override loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    return loadStagingRedshift(this, table, input, { copy: this.target.copy, loadErrors: this.options.loadErrors ?? loadErrorTableFor(this.target) });
  }

  override lock(): Promise<() => Promise<void>> {
    return acquireTableLock(this, {
      where: `schema ${this.where.schema} on Redshift ${this.where.host}:${this.where.port}/${this.where.database}`,
      schema: this.where.schema,
      leaseMs: this.options.lockLeaseMs,
    });
  }
}
