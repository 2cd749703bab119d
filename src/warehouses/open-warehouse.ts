import type { AwsCredentialsProvider } from '../aws/credentials.js';
import type { DuckDBTarget } from './duckdb/duckdb-target.js';
import { describeDuckDB } from './duckdb/duckdb-target.js';
import { describeConnection, type PostgresTarget } from './postgres/postgres-target.js';
import { describeRedshift, describeRedshiftDataApi, type RedshiftDataApiTarget, type RedshiftTarget } from './redshift/redshift-target.js';
import type { Warehouse } from './warehouse.js';

/** What opening needs beyond the target, which is data (printable): how AWS calls are signed (the Data API). */
export interface OpenOptions {
  credentials?: AwsCredentialsProvider;
  /** The command only reads (`counts`): a missing database file or schema is WAREHOUSE_NOT_READY, never created. */
  readOnly?: boolean;
}

/** Where the warehouse is: one member per backend, each carrying only its own settings. */
export type WarehouseTarget = DuckDBTarget | PostgresTarget | RedshiftTarget | RedshiftDataApiTarget;

/**
 * A one-line description of a target, safe to print (no password). The
 * warehouse opened from it describes itself the same way.
 *
 * @example
 *   describeTarget({ kind: 'duckdb', path: '/tmp/x.duckdb' }); // 'DuckDB /tmp/x.duckdb'
 */
export function describeTarget(target: WarehouseTarget): string {
  switch (target.kind) {
    case 'duckdb':
      return describeDuckDB(target.path);
    case 'postgres':
      return describeConnection('PostgreSQL', target.connection, target.schema);
    case 'redshift':
      return describeRedshift(target);
    case 'redshift-data-api':
      return describeRedshiftDataApi(target);
  }
}

/**
 * Opens the warehouse a target names. Drivers are imported lazily, so a DuckDB
 * run never loads `pg` or the AWS SDK.
 *
 * @example
 *   const wh = await openWarehouse({ kind: 'duckdb', path: ':memory:' });
 *   try { await createTables(wh); } finally { await wh.close(); }
 */
export async function openWarehouse(target: WarehouseTarget, options: OpenOptions = {}): Promise<Warehouse> {
  switch (target.kind) {
    case 'duckdb': {
      const { DuckDBWarehouse } = await import('./duckdb/duckdb-warehouse.js');
      return DuckDBWarehouse.open(target, { readOnly: options.readOnly });
    }
    case 'postgres': {
      const { PostgresWarehouse } = await import('./postgres/postgres-warehouse.js');
      return PostgresWarehouse.open(target, { readOnly: options.readOnly });
    }
    case 'redshift': {
      const { RedshiftWarehouse } = await import('./redshift/redshift-warehouse.js');
      return RedshiftWarehouse.open(target, { readOnly: options.readOnly });
    }
    case 'redshift-data-api': {
      const { RedshiftDataApiWarehouse } = await import('./redshift/data-api/data-api-warehouse.js');
      return RedshiftDataApiWarehouse.open(target, { readOnly: options.readOnly, ...(options.credentials ? { credentials: options.credentials } : {}) });
    }
  }
}
