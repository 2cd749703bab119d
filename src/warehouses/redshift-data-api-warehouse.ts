import type { Table } from '../schema/tables.js';
import { DataApiSession, type DataApiOptions, type DataApiTarget } from './redshift-data-api.js';
import { redshiftDialect } from './redshift-dialect.js';
import { acquireTableLock } from './redshift-lock.js';
import { setUpRedshiftSession } from './redshift-session.js';
import { loadStagingRedshift, type RedshiftStagingOptions } from './redshift-staging.js';
import { splitStatements } from './sql-statements.js';
import { inTransaction, type Row, type StagingInput, type StagingLoadResult, type Warehouse } from './warehouse.js';

export interface RedshiftDataApiOptions extends DataApiOptions {
  schema: string;
  staging: RedshiftStagingOptions;
  lockLeaseMs?: number;
}

/**
 * Redshift through the Data API (HTTPS and IAM; no open port 5439, no
 * password on this machine). Everything runs in one Data API session, so a
 * transaction spans calls exactly as on a connection.
 *
 * @example
 *   const wh = await RedshiftDataApiWarehouse.open({ workgroupName: 'sparkify', database: 'dev' }, { schema: 'public', region: 'us-west-2', staging: { loadErrors: 'sys' } });
 */
export class RedshiftDataApiWarehouse implements Warehouse {
  readonly kind = 'redshift';
  readonly dialect = redshiftDialect;
  private closed = false;

  private constructor(
    private readonly session: DataApiSession,
    private readonly options: RedshiftDataApiOptions,
    readonly description: string,
  ) {}

  static async open(target: DataApiTarget, options: RedshiftDataApiOptions): Promise<RedshiftDataApiWarehouse> {
    const session = new DataApiSession(target, options);
    const w = session.where;
    const description = `Redshift Data API ${w.target}/${w.database}${w.region ? ` in ${w.region}` : ''} (schema ${options.schema})`;
    const wh = new RedshiftDataApiWarehouse(session, options, description);
    try {
      await setUpRedshiftSession(wh, options.schema, `Redshift ${w.target}`);
    } catch (err) {
      await wh.close();
      throw err;
    }
    return wh;
  }

  async execute(sql: string): Promise<void> {
    for (const statement of splitStatements(sql)) await this.session.run(statement);
  }

  async query<T extends Row = Row>(sql: string): Promise<T[]> {
    let rows: Row[] = [];
    for (const statement of splitStatements(sql)) rows = await this.session.run(statement);
    return rows as T[];
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return inTransaction((sql) => this.execute(sql), fn);
  }

  loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    return loadStagingRedshift(this, table, input, this.options.staging);
  }

  lock(): Promise<() => Promise<void>> {
    return acquireTableLock(this, {
      where: `schema ${this.options.schema} of Redshift ${this.session.where.target}`,
      schema: this.options.schema,
      leaseMs: this.options.lockLeaseMs,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.close();
  }
}
