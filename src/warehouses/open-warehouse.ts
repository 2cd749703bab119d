import type { WarehouseTarget } from '../config.js';
import type { Warehouse } from './warehouse.js';

/**
 * Opens the warehouse a config names. Drivers are imported lazily, so a DuckDB
 * run never loads `pg` or the AWS SDK.
 *
 * @example
 *   const wh = await openWarehouse({ kind: 'duckdb', path: ':memory:' });
 */
export async function openWarehouse(target: WarehouseTarget): Promise<Warehouse> {
  switch (target.kind) {
    case 'duckdb': {
      const { DuckDBWarehouse } = await import('./duckdb.js');
      return DuckDBWarehouse.open(target.path);
    }
    case 'postgres': {
      const { PostgresWarehouse } = await import('./postgres.js');
      return PostgresWarehouse.open(target.connection, { schema: target.schema });
    }
    case 'redshift': {
      const { openRedshift } = await import('./redshift.js');
      return openRedshift(target);
    }
  }
}
