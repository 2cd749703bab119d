import {
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type ColumnMetadata,
  type DescribeStatementCommandOutput,
  type ExecuteStatementCommandInput,
} from '@aws-sdk/client-redshift-data';
import { silentLogger } from '../../../aws/aws-errors.js';
import { quietAwsSdk } from '../../../aws/quiet.js';
import { SparkifyError } from '../../../errors.js';
import type { Row } from '../../warehouse.js';
import { dataApiName, type DataApiConnection } from '../redshift-target.js';
import { classifyDataApiError, classifyStatementError, type DataApiWhere } from './data-api-errors.js';
import { toRow } from './data-api-values.js';

/**
 * One Redshift Data API session: statements are submitted, polled with
 * backoff until they finish, and their results paged and normalised like the
 * other warehouses' (integers as numbers, timestamps as `YYYY-MM-DD
 * HH:MM:SS.mmm`). Every statement after the first names the session the first
 * one opened (`SessionKeepAliveSeconds` / `SessionId`), so temporary tables,
 * SET and BEGIN … COMMIT span calls as on one connection. Calls are
 * serialised: a session runs one statement at a time.
 */

export interface DataApiOptions {
  /** An injected client (tests, shared clients); otherwise one is made for `region`. */
  client?: RedshiftDataClient;
  region?: string;
  /** How a poll waits; injectable so tests never really wait. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** First poll delay, its growth factor and ceiling. Defaults 100 ms × 1.5 up to 2 s. */
  pollInitialMs?: number;
  pollFactor?: number;
  pollMaxMs?: number;
  /** Give up on (and cancel) a statement after this long. Default 2 hours: a COPY of the full song set takes minutes. */
  statementTimeoutMs?: number;
  /** How long the session outlives its last statement. Default 1 hour. */
  sessionKeepAliveSeconds?: number;
}

/**
 * The connection parameters of the first statement: a Serverless workgroup
 * (IAM identity, or a secret), a cluster with a Secrets Manager secret, or a
 * cluster with a database user and temporary credentials. A secret wins over
 * a database user when both are set.
 */
export function connectionParameters(c: DataApiConnection): Pick<ExecuteStatementCommandInput, 'ClusterIdentifier' | 'WorkgroupName' | 'Database' | 'DbUser' | 'SecretArn'> {
  if (c.workgroupName !== undefined) return { WorkgroupName: c.workgroupName, Database: c.database, ...(c.secretArn ? { SecretArn: c.secretArn } : {}) };
  if (c.secretArn) return { ClusterIdentifier: c.clusterIdentifier, Database: c.database, SecretArn: c.secretArn };
  return { ClusterIdentifier: c.clusterIdentifier, Database: c.database, ...(c.dbUser ? { DbUser: c.dbUser } : {}) };
}

/** Where the Data API points and how it authenticates, for messages. */
export function describeDataApiConnection(c: DataApiConnection, region?: string): DataApiWhere {
  return {
    target: dataApiName(c),
    database: c.database,
    region,
    auth: c.secretArn ? 'a Secrets Manager secret' : c.workgroupName !== undefined ? 'your IAM identity' : `database user ${c.dbUser ?? '?'} (temporary credentials)`,
  };
}

export class DataApiSession {
  readonly where: DataApiWhere;
  private readonly client: RedshiftDataClient;
  private readonly ownsClient: boolean;
  private readonly connection: ReturnType<typeof connectionParameters>;
  private sessionId: string | undefined;
  /** The statement being waited for, which `cancel` stops. */
  private running: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    connection: DataApiConnection,
    private readonly options: DataApiOptions = {},
  ) {
    this.connection = connectionParameters(connection);
    this.where = describeDataApiConnection(connection, options.region);
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      quietAwsSdk();
      this.client = new RedshiftDataClient({ ...(options.region ? { region: options.region } : {}), logger: silentLogger });
      this.ownsClient = true;
    }
  }

  /** The session the first statement opened, once it has run. */
  get id(): string | undefined {
    return this.sessionId;
  }

  /** Runs one statement; resolves with its rows (none for statements without a result set). */
  run(sql: string): Promise<Row[]> {
    const next = this.queue.then(() => this.runNow(sql));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops the statement running now (CancelStatement); it then fails as ABORTED. Best effort. */
  async cancel(): Promise<void> {
    const id = this.running;
    if (id) await quietly(() => this.client.send(new CancelStatementCommand({ Id: id })));
  }

  /**
   * Forgets the session (it ended, or its state is unknown after a fault): the
   * next statement opens a new one. The old one, if alive, ends on its keep-alive.
   */
  reset(): void {
    this.sessionId = undefined;
  }

  /** Ends the session early (a last statement with no keep-alive) and frees the client. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    if (this.sessionId) {
      await quietly(() => this.client.send(new ExecuteStatementCommand({ Sql: 'SELECT 1', SessionId: this.sessionId, SessionKeepAliveSeconds: 0 })));
    }
    if (this.ownsClient) this.client.destroy();
  }

  private async runNow(sql: string): Promise<Row[]> {
    if (this.closed) throw new SparkifyError('INTERNAL', `The Data API session on Redshift ${this.where.target} is closed.`);
    const keepAlive = this.options.sessionKeepAliveSeconds ?? 3600;
    const input: ExecuteStatementCommandInput = this.sessionId
      ? { Sql: sql, SessionId: this.sessionId, SessionKeepAliveSeconds: keepAlive }
      : { Sql: sql, ...this.connection, SessionKeepAliveSeconds: keepAlive };
    let id: string;
    try {
      const out = await this.client.send(new ExecuteStatementCommand(input));
      this.sessionId ??= out.SessionId;
      if (!out.Id) throw new Error('ExecuteStatement returned no statement id');
      id = out.Id;
    } catch (err) {
      throw classifyDataApiError(err, this.where, sql);
    }
    this.running = id;
    const done = await this.waitFor(id, sql).finally(() => (this.running = undefined));
    if (!done.HasResultSet) return [];
    return this.fetch(id, sql);
  }

  /** Polls DescribeStatement with growing pauses until the statement ends or the timeout passes. */
  private async waitFor(id: string, sql: string): Promise<DescribeStatementCommandOutput> {
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = this.options.now ?? Date.now;
    const timeoutMs = this.options.statementTimeoutMs ?? 2 * 60 * 60 * 1000;
    const deadline = now() + timeoutMs;
    let delay = this.options.pollInitialMs ?? 100;
    for (;;) {
      let d: DescribeStatementCommandOutput;
      try {
        d = await this.client.send(new DescribeStatementCommand({ Id: id }));
      } catch (err) {
        throw classifyDataApiError(err, this.where, sql);
      }
      if (d.Status === 'FINISHED') return d;
      if (d.Status === 'FAILED') throw classifyStatementError(d.Error ?? 'the statement failed', this.where, sql);
      if (d.Status === 'ABORTED') {
        throw new SparkifyError('ABORTED', `The statement on Redshift ${this.where.target} was cancelled (Data API statement ${id}).`, {
          cause: new Error(d.Error ?? 'ABORTED'),
          sql,
          hint: 'Someone cancelled it (CancelStatement, or the cluster was paused); run the command again.',
        });
      }
      if (now() + delay > deadline) {
        await quietly(() => this.client.send(new CancelStatementCommand({ Id: id })));
        throw new SparkifyError('WAREHOUSE_QUERY_FAILED', `A statement on Redshift ${this.where.target} did not finish within ${Math.round(timeoutMs / 1000)} s and was cancelled (Data API statement ${id}).`, {
          cause: new Error('statement timeout'),
          sql,
          transient: true,
          hint: 'The cluster may be busy, paused or too small for the load; run again, or use a larger cluster.',
        });
      }
      await sleep(delay);
      delay = Math.min(delay * (this.options.pollFactor ?? 1.5), this.options.pollMaxMs ?? 2000);
    }
  }

  /** Every page of the result, normalised. */
  private async fetch(id: string, sql: string): Promise<Row[]> {
    const rows: Row[] = [];
    let columns: ColumnMetadata[] | undefined;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new GetStatementResultCommand({ Id: id, NextToken: token }));
      } catch (err) {
        throw classifyDataApiError(err, this.where, sql);
      }
      columns ??= page.ColumnMetadata ?? [];
      for (const record of page.Records ?? []) rows.push(toRow(record, columns));
      token = page.NextToken || undefined;
    } while (token);
    return rows;
  }
}

/** Best effort: a call whose failure changes nothing for the caller. */
async function quietly(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch {
    // nothing to do
  }
}
