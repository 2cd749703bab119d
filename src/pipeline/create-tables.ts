import { createTableSql, dropTableSql, nextName } from '../schema/ddl.js';
import { ALL_TABLES } from '../schema/tables.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import type { PipelineOptions, StageInfo } from './report.js';
import { withRetries, type RetryOptions } from './retry.js';
import { assertTablesExist, cancelOnAbort, countTables, hasLedger, PRE_LEDGER_TABLES, stage, withLock } from './stage.js';

/**
 * Drops (if present) and creates every table, in one transaction.
 *
 * @example
 *   await createTables(await openWarehouse({ kind: 'duckdb', path: 'sparkify.duckdb' }));
 */
export async function createTables(wh: Warehouse, options: PipelineOptions & RetryOptions = {}): Promise<StageInfo> {
  return withRetries(wh, options, [], () => withLock(wh, () =>
    cancelOnAbort(wh, options.signal, () => stage('create-tables', options, async () => {
      await wh.transaction(async () => {
        for (const table of [...ALL_TABLES].reverse()) {
          await wh.execute(dropTableSql(table.name));
          await wh.execute(dropTableSql(nextName(table.name)));
        }
        for (const table of ALL_TABLES) await wh.execute(createTableSql(table, wh.dialect));
      });
      return { rows: 0, tables: Object.fromEntries(ALL_TABLES.map((t) => [t.name, 0])) };
    })),
  ));
}

/**
 * Row count of every table.
 *
 * @example
 *   const counts = await countRows(wh); // { staging_events: 8056, …, songplays: 6820, … }
 */
export async function countRows(wh: Warehouse): Promise<Record<string, number>> {
  // Tables an earlier sparkify-dwh built have no ledger yet: their counts are still counts.
  await assertTablesExist(wh, PRE_LEDGER_TABLES);
  return countTables(wh, (await hasLedger(wh)) ? ALL_TABLES : PRE_LEDGER_TABLES);
}
