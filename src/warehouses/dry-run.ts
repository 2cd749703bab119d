import { plural, type ConfigIssue } from '../errors.js';
import type { SqlDialect } from '../schema/dialect.js';
import type { Table } from '../schema/tables.js';
import type { Source } from '../sources/source.js';
import { describeTarget, type WarehouseTarget } from './open-warehouse.js';
import type { PlannedStatement, Row, StagingInput, StagingLoadResult, Warehouse } from './warehouse.js';

/**
 * A warehouse that connects to nothing and records what a run would send: the
 * pipeline runs against it unchanged (create-tables, etl, run), so the dry run
 * shows the statements the real run sends, in order, with the transaction
 * boundaries. What a backend does beyond plain statements (its lock, its
 * staging load) comes from that backend's own plan functions, which share
 * their SQL with the real load. Queries answer nothing, except the row counts
 * (zeros) the pipeline reads; where a statement depends on an answer only the
 * warehouse can give, it shows a placeholder in braces.
 */

/** What the dry run needs of a backend, beyond its dialect. */
interface Backend {
  kind: string;
  dialect: SqlDialect;
  /** `statements`: BEGIN … COMMIT; `batch`: one Data API BatchExecuteStatement. */
  transactions: 'statements' | 'batch';
  /** The statements a connection sends before any work. */
  session: (wh: DryRunWarehouse) => Promise<void>;
  lock: (wh: DryRunWarehouse) => Promise<() => Promise<void>>;
  load: (table: Table, input: StagingInput) => PlannedStatement[];
  sourceIssues: (table: Table, source: Source) => ConfigIssue[];
  /** Answers a query the pipeline reads back (beyond the row counts), as the warehouse would when all is well. */
  answer?: (sql: string) => Row[] | undefined;
}

export class DryRunWarehouse implements Warehouse {
  readonly kind: string;
  readonly dialect: SqlDialect;
  readonly statements: PlannedStatement[] = [];
  private batch: string[] | undefined;

  private constructor(
    readonly description: string,
    private readonly backend: Backend,
  ) {
    this.kind = backend.kind;
    this.dialect = backend.dialect;
  }

  /** A recorder for `target`, with the statements its connection would start with. Connects to nothing. */
  static async for(target: WarehouseTarget): Promise<DryRunWarehouse> {
    const wh = new DryRunWarehouse(describeTarget(target), await backendFor(target));
    await wh.backend.session(wh);
    return wh;
  }

  /** Records a note (a line of its own, `-- …`). */
  note(note: string): void {
    this.statements.push({ note });
  }

  async execute(sql: string): Promise<void> {
    if (this.batch) this.batch.push(sql);
    else this.statements.push({ sql });
  }

  async query<T extends Row = Row>(sql: string): Promise<T[]> {
    this.statements.push({ sql });
    const answered = this.backend.answer?.(sql);
    if (answered) return answered as T[];
    // The row counts: every table named, with a count only the run can know (0 here).
    const names = [...sql.matchAll(/CAST\('([^']+)' AS VARCHAR\(128\)\) AS name, COUNT\(\*\) AS n/g)].map((m) => m[1]!);
    return names.map((name) => ({ name, n: 0 })) as unknown as T[];
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.backend.transactions === 'statements') {
      this.statements.push({ sql: 'BEGIN' });
      const result = await fn();
      this.statements.push({ sql: 'COMMIT' });
      return result;
    }
    this.batch = [];
    try {
      const result = await fn();
      this.statements.push({ note: `one BatchExecuteStatement, run by the Data API as a single transaction (${plural(this.batch.length, 'statement')}):` });
      for (const sql of this.batch) this.statements.push({ sql });
      this.statements.push({ note: 'end of the batch' });
      return result;
    } finally {
      this.batch = undefined;
    }
  }

  async sourceIssues(table: Table, source: Source): Promise<ConfigIssue[]> {
    // What can be known without a request: a dry run reads no S3 object beyond the listing.
    return this.backend.sourceIssues(table, source);
  }

  async loadStaging(table: Table, input: StagingInput): Promise<StagingLoadResult> {
    this.statements.push(...this.backend.load(table, input));
    // How many rows load is known only when the run reads the files; one lets the dry run go on.
    return { rows: 1, rejected: 0, bytes: input.files.reduce((n, f) => n + f.size, 0) };
  }

  lock(): Promise<() => Promise<void>> {
    return this.backend.lock(this);
  }

  async cancel(): Promise<void> {}

  async reconnect(): Promise<void> {}

  async close(): Promise<void> {}
}

async function backendFor(target: WarehouseTarget): Promise<Backend> {
  switch (target.kind) {
    case 'duckdb': {
      const [{ duckdbDialect }, { duckdbLoadPlan }] = await Promise.all([import('./duckdb/duckdb-warehouse.js'), import('./duckdb/duckdb-load.js')]);
      return {
        kind: 'duckdb',
        dialect: duckdbDialect,
        transactions: 'statements',
        session: async (wh) => wh.note(`open ${target.path} (DuckDB lets one process at a time write it: that is the run's lock)`),
        lock: async () => async () => undefined,
        load: (table, input) => duckdbLoadPlan(table, input),
        sourceIssues: () => [],
      };
    }
    case 'postgres': {
      const [{ postgresDialect, postgresLockSql, postgresSessionSql }, { postgresLoadPlan }] = await Promise.all([
        import('./postgres/postgres-warehouse.js'),
        import('./postgres/postgres-staging.js'),
      ]);
      return {
        kind: 'postgres',
        dialect: postgresDialect,
        transactions: 'statements',
        session: async (wh) => {
          for (const sql of postgresSessionSql(target.schema)) await wh.execute(sql);
        },
        lock: async (wh) => {
          const { take, release } = postgresLockSql(target.schema);
          wh.statements.push({ sql: take, note: "the run's lock: a session advisory lock on the schema; WAREHOUSE_LOCKED when another run holds it" });
          return async () => void wh.statements.push({ sql: release });
        },
        load: (table, input) => postgresLoadPlan(table, input),
        sourceIssues: () => [],
      };
    }
    case 'redshift':
    case 'redshift-data-api': {
      const [{ redshiftDialect }, { redshiftLoadPlan, redshiftSourceIssues }, { setUpRedshiftSession }, { acquireTableLock }, { loadErrorTableFor }] = await Promise.all([
        import('./redshift/redshift-dialect.js'),
        import('./redshift/redshift-staging.js'),
        import('./redshift/redshift-session.js'),
        import('./redshift/redshift-lock.js'),
        import('./redshift/redshift-target.js'),
      ]);
      const loadErrors = loadErrorTableFor(target);
      return {
        kind: 'redshift',
        dialect: redshiftDialect,
        transactions: target.kind === 'redshift' ? 'statements' : 'batch',
        session: (wh) => setUpRedshiftSession(wh, target.schema, wh.description),
        lock: async (wh) => {
          wh.note("the run's lock: a row in a lock table, taken in one transaction; WAREHOUSE_LOCKED when another run's row is there");
          return acquireTableLock(wh, { where: wh.description, schema: target.schema, token: DRY_RUN_TOKEN, holder: 'this run' });
        },
        load: (table, input) => redshiftLoadPlan(redshiftDialect, table, input, { copy: target.copy, loadErrors }),
        sourceIssues: (table, source) => redshiftSourceIssues(table, source, target.copy),
        // The lock table read back after the lock's transaction: this run's row.
        answer: (sql) => (/FROM sparkify_lock ORDER BY acquired_at/.test(sql) ? [{ token: DRY_RUN_TOKEN, holder: 'this run', acquired_at: '', expires_at: '' }] : undefined),
      };
    }
  }
}

/** The lock token a dry run shows; the real run makes a random one. */
export const DRY_RUN_TOKEN = '{token}';
