import { firstLine, INTERNAL_HINT, SparkifyError, type ConfigIssue } from '../../../errors.js';
import type { Table } from '../../../schema/tables.js';
import type { Source } from '../../../sources/source.js';
import { type Row, type StagingInput, type StagingLoadResult, type Warehouse } from '../../warehouse.js';
import { redshiftDialect } from '../redshift-dialect.js';
import type { LoadErrorTable } from '../redshift-load-errors.js';
import { acquireTableLock } from '../redshift-lock.js';
import { setUpRedshiftSession } from '../redshift-session.js';
import { loadStagingRedshift, redshiftSourceChecks } from '../redshift-staging.js';
import { describeRedshiftDataApi, loadErrorTableFor, type RedshiftDataApiTarget } from '../redshift-target.js';
import { DataApiSession, type DataApiOptions } from './data-api-session.js';
import { splitStatements } from './data-api-statements.js';

export interface RedshiftDataApiOptions extends Omit<DataApiOptions, 'region'> {
  /** STL_LOAD_ERRORS (provisioned) or SYS_LOAD_ERROR_DETAIL (Serverless); from the target's kind by default. */
  loadErrors?: LoadErrorTable;
  /** How long a crashed run's lock lasts. Default 6 hours. */
  lockLeaseMs?: number;
  /** The command only reads: a missing schema is WAREHOUSE_NOT_READY, never created. */
  readOnly?: boolean;
}

/**
 * Redshift through the Data API (HTTPS and IAM; no open port 5439, no
 * password on this machine). Everything runs in one Data API session (its
 * SETs and temporary tables last across calls). A transaction is one
 * BatchExecuteStatement, the only call the Data API documents as one
 * transaction: while it is open, `execute` collects statements instead of
 * running them, and they are sent together when it ends (nothing, if it
 * throws). So no `query` inside a transaction, at most 40 statements, no
 * nesting; the pipeline's transactions only execute.
 *
 * @example
 *   const wh = await RedshiftDataApiWarehouse.open({ kind: 'redshift-data-api', dataApi: { workgroupName: 'sparkify', database: 'dev' }, schema: 'public', region: 'us-west-2', copy: {} });
 */
export class RedshiftDataApiWarehouse implements Warehouse {
  readonly kind = 'redshift';
  readonly dialect = redshiftDialect;
  readonly description: string;
  private closed = false;
  /** The statements of the open transaction, sent as one batch when it ends. */
  private batch: string[] | undefined;

  private constructor(
    private readonly session: DataApiSession,
    private readonly target: RedshiftDataApiTarget,
    private readonly options: RedshiftDataApiOptions,
  ) {
    this.description = describeRedshiftDataApi(target);
  }

  static async open(target: RedshiftDataApiTarget, options: RedshiftDataApiOptions = {}): Promise<RedshiftDataApiWarehouse> {
    const session = new DataApiSession(target.dataApi, { ...options, region: target.region });
    const wh = new RedshiftDataApiWarehouse(session, target, options);
    try {
      await setUpRedshiftSession(wh, target.schema, `Redshift ${session.where.target}`, options.readOnly);
    } catch (err) {
      await wh.close();
      throw err;
    }
    return wh;
  }

  async execute(sql: string): Promise<void> {
    if (this.batch) {
      this.batch.push(...splitStatements(sql));
      return;
    }
    for (const statement of splitStatements(sql)) await this.session.run(statement);
  }

  async query<T extends Row = Row>(sql: string): Promise<T[]> {
    if (this.batch) {
      throw new SparkifyError(
        'INTERNAL',
        `A query cannot run inside a transaction on Redshift ${this.session.where.target} over the Data API: the transaction is sent as one BatchExecuteStatement when it ends, so no result can be read mid-way (${firstLine(sql).slice(0, 80)}).`,
        { sql, hint: INTERNAL_HINT },
      );
    }
    let rows: Row[] = [];
    for (const statement of splitStatements(sql)) rows = await this.session.run(statement);
    return rows as T[];
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.batch) {
      throw new SparkifyError('INTERNAL', `Transactions do not nest on Redshift ${this.session.where.target} over the Data API: a transaction is one BatchExecuteStatement.`, { hint: INTERNAL_HINT });
    }
    const batch: string[] = [];
    this.batch = batch;
    let result: T;
    try {
      result = await fn();
    } finally {
      this.batch = undefined;
    }
    await this.session.runBatch(batch);
    return result;
  }

  sourceIssues(table: Table, source: Source): Promise<ConfigIssue[]> {
    return redshiftSourceChecks(table, source, this.target.copy);
  }

  loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    return loadStagingRedshift(this, table, input, { copy: this.target.copy, loadErrors: this.options.loadErrors ?? loadErrorTableFor(this.target) });
  }

  lock(): Promise<() => Promise<void>> {
    return acquireTableLock(this, {
      where: `schema ${this.target.schema} of Redshift ${this.session.where.target}`,
      schema: this.target.schema,
      leaseMs: this.options.lockLeaseMs,
    });
  }

  cancel(): Promise<void> {
    return this.session.cancel();
  }

  async reconnect(): Promise<void> {
    this.session.reset();
    await setUpRedshiftSession(this, this.target.schema, `Redshift ${this.session.where.target}`, this.options.readOnly);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.close();
  }
}
