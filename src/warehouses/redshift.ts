import type pg from 'pg';
import type { PostgresConnection, WarehouseTarget } from '../config.js';
import { SparkifyError } from '../errors.js';
import type { Table } from '../schema/tables.js';
import type { PgWhere } from './postgres-errors.js';
import { connectPostgres, PostgresWarehouse } from './postgres.js';
import type { DataApiOptions } from './redshift-data-api.js';
import { redshiftDialect } from './redshift-dialect.js';
import type { LoadErrorTable } from './redshift-load-errors.js';
import { acquireTableLock } from './redshift-lock.js';
import { setUpRedshiftSession } from './redshift-session.js';
import { loadStagingRedshift, type RedshiftStagingOptions } from './redshift-staging.js';
import type { SqlDialect, StagingInput, StagingLoadResult, Warehouse } from './warehouse.js';

/**
 * Amazon Redshift: PostgreSQL plus what really differs. Over the wire
 * protocol it is a PostgresWarehouse (connection, queries, transactions,
 * error classification) with Redshift's dialect, a staging load that is
 * Redshift's own COPY from S3, and a lock table instead of advisory locks.
 * The Data API transport shares the dialect, the load and the lock.
 */

export type RedshiftTarget = Extract<WarehouseTarget, { kind: 'redshift' }>;

export interface RedshiftOptions {
  /** Overrides `target.iamRoleArn`: the role COPY assumes to read S3. */
  iamRoleArn?: string;
  /** STL_LOAD_ERRORS (provisioned) or SYS_LOAD_ERROR_DETAIL (Serverless); guessed from the endpoint by default. */
  loadErrors?: LoadErrorTable;
  /** How long a crashed run's lock lasts. Default 6 hours. */
  lockLeaseMs?: number;
  connectTimeoutMs?: number;
  /** Data API transport only: injected client, polling and timeouts (see DataApiOptions). */
  dataApi?: Omit<DataApiOptions, 'region'>;
}

/**
 * Opens Redshift as the config names it: `pg` (wire protocol, TLS, port 5439)
 * or `data-api`.
 *
 * @example
 *   const wh = await openRedshift({ kind: 'redshift', transport: 'pg', connection: { host, port: 5439, database: 'dev', user: 'awsuser', password, sslmode: 'require' }, schema: 'public', iamRoleArn });
 */
export async function openRedshift(target: RedshiftTarget, options: RedshiftOptions = {}): Promise<Warehouse> {
  const iamRoleArn = options.iamRoleArn ?? target.iamRoleArn;
  if (target.transport === 'data-api') {
    if (!target.dataApi) throw new SparkifyError('CONFIG_INVALID', 'The Redshift Data API target has no cluster or workgroup.', { hint: 'Use redshift+data-api://<cluster-or-workgroup>/<database>.' });
    const { RedshiftDataApiWarehouse } = await import('./redshift-data-api-warehouse.js');
    const loadErrors = options.loadErrors ?? (target.dataApi.workgroupName ? 'sys' : 'stl');
    return RedshiftDataApiWarehouse.open(target.dataApi, {
      ...options.dataApi,
      region: target.region,
      schema: target.schema,
      staging: { iamRoleArn, region: target.region, loadErrors },
      lockLeaseMs: options.lockLeaseMs,
    });
  }
  if (!target.connection) throw new SparkifyError('CONFIG_INVALID', 'The Redshift target has no host.', { hint: 'Set [CLUSTER] HOST in dwh.cfg, or use redshift://user@host:5439/db.' });
  const loadErrors = options.loadErrors ?? (isServerlessHost(target.connection.host) ? 'sys' : 'stl');
  return RedshiftPgWarehouse.connect(target.connection, {
    schema: target.schema,
    staging: { iamRoleArn, region: target.region, loadErrors },
    lockLeaseMs: options.lockLeaseMs,
    connectTimeoutMs: options.connectTimeoutMs,
  });
}

/** `<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com`. */
export function isServerlessHost(host: string): boolean {
  return /\.redshift-serverless\.amazonaws\.com(\.cn)?$/i.test(host);
}

export interface RedshiftPgOptions {
  schema: string;
  staging: RedshiftStagingOptions;
  lockLeaseMs?: number;
  connectTimeoutMs?: number;
}

/** Redshift over its PostgreSQL wire protocol. */
export class RedshiftPgWarehouse extends PostgresWarehouse {
  override readonly kind: string = 'redshift';
  override readonly dialect: SqlDialect = redshiftDialect;

  private constructor(
    client: pg.Client,
    where: PgWhere & { schema: string },
    description: string,
    private readonly options: RedshiftPgOptions,
  ) {
    super(client, where, description);
  }

  static async connect(connection: PostgresConnection, options: RedshiftPgOptions): Promise<RedshiftPgWarehouse> {
    const where = { product: 'Redshift', host: connection.host, port: connection.port, user: connection.user, database: connection.database, schema: options.schema };
    const client = await connectPostgres(connection, where, options.connectTimeoutMs);
    return PostgresWarehouse.ready(
      new RedshiftPgWarehouse(client, where, `Redshift ${where.user}@${where.host}:${where.port}/${where.database} (schema ${where.schema})`, options),
    );
  }

  protected override async setUpSession(): Promise<void> {
    await setUpRedshiftSession(this, this.where.schema, `Redshift at ${this.where.host}:${this.where.port}`);
  }

  override loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    return loadStagingRedshift(this, table, input, this.options.staging);
  }

  override lock(): Promise<() => Promise<void>> {
    return acquireTableLock(this, {
      where: `schema ${this.where.schema} on Redshift ${this.where.host}:${this.where.port}/${this.where.database}`,
      schema: this.where.schema,
      leaseMs: this.options.lockLeaseMs,
    });
  }
}
