import {
  BatchExecuteStatementCommand,
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
import type { AwsCredentialsProvider } from '../../../aws/credentials.js';
import { quietAwsSdk } from '../../../aws/quiet.js';
import { firstLine, INTERNAL_HINT, num, SparkifyError } from '../../../errors.js';
import type { Row } from '../../warehouse.js';
import { dataApiName, type DataApiConnection } from '../redshift-target.js';
import { classifyDataApiError, classifyStatementError, type DataApiWhere } from './data-api-errors.js';
import { MAX_BATCH_STATEMENTS, MAX_STATEMENT_BYTES } from './data-api-statements.js';
import { toRow } from './data-api-values.js';

/**
 * One Redshift Data API session: statements are submitted, polled with
 * backoff until they finish, and their results paged and normalised like the
 * other warehouses' (integers as numbers, timestamps as `YYYY-MM-DD
 * HH:MM:SS.mmm`). Every call after the first names the session the first one
 * opened (`SessionKeepAliveSeconds` / `SessionId`), so temporary tables and
 * SET span calls as on one connection. A transaction is not carried across
 * calls: the Data API documents each ExecuteStatement as committed when it
 * succeeds, and a BatchExecuteStatement as one transaction, so a transaction
 * is one batch (`runBatch`). Calls are serialised: a session runs one
 * statement (or batch) at a time. No statement over MAX_STATEMENT_BYTES is sent.
 */

export interface DataApiOptions {
  /** An injected client (tests, shared clients); otherwise one is made for `region`. */
  client?: RedshiftDataClient;
  region?: string;
  /** How a client made here signs its calls; the SDK's default chain when absent. */
  credentials?: AwsCredentialsProvider;
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
    auth: c.secretArn ? 'a Secrets Manager secret' : c.workgroupName !== undefined || !c.dbUser ? 'your IAM identity' : `database user ${c.dbUser} (temporary credentials)`,
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
      this.client = new RedshiftDataClient({
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        logger: silentLogger,
      });
      this.ownsClient = true;
    }
  }

  /** The session the first statement opened, once it has run. */
  get id(): string | undefined {
    return this.sessionId;
  }

  /** Runs one statement; resolves with its rows (none for statements without a result set). */
  run(sql: string): Promise<Row[]> {
    return this.enqueue(async () => {
      this.assertSendable([sql]);
      const id = await this.submit(sql, (session) => this.client.send(new ExecuteStatementCommand({ Sql: sql, ...session })));
      const done = await this.waitFor(id, sql);
      if (!done.HasResultSet) return [];
      return this.fetch(id, sql);
    });
  }

  /**
   * Runs statements as one transaction: one BatchExecuteStatement (default
   * execution mode, stated: TRANSACTION), which the Data API runs in order and
   * commits together or rolls back entirely. Results are not read. Nothing is
   * sent for no statements; more than MAX_BATCH_STATEMENTS is refused, never
   * split (that would be several transactions).
   */
  runBatch(sqls: readonly string[]): Promise<void> {
    return this.enqueue(async () => {
      if (sqls.length === 0) return;
      this.assertSendable(sqls);
      const all = sqls.join(';\n');
      const id = await this.submit(all, (session) =>
        this.client.send(new BatchExecuteStatementCommand({ Sqls: [...sqls], ExecutionMode: 'TRANSACTION', ...session })),
      );
      // A failed batch names its failed statement in SubStatements; that is the SQL to show.
      await this.waitFor(id, all, (d) => d.SubStatements?.find((sub) => sub.Status === 'FAILED')?.QueryString);
    });
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

  /** One call at a time, in order; a failed call does not stop the next. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      if (this.closed) throw new SparkifyError('INTERNAL', `The Data API session on Redshift ${this.where.target} is closed.`);
      return work();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Refuses, before any call, what the Data API would: too many statements in a batch, a statement over the size limit. */
  private assertSendable(sqls: readonly string[]): void {
    if (sqls.length > MAX_BATCH_STATEMENTS) {
      throw new SparkifyError(
        'INTERNAL',
        `A transaction of ${sqls.length} statements cannot be sent to Redshift ${this.where.target} over the Data API: one BatchExecuteStatement, its only transaction, takes at most ${MAX_BATCH_STATEMENTS}.`,
        { sql: sqls.join(';\n'), hint: INTERNAL_HINT },
      );
    }
    for (const sql of sqls) {
      const bytes = Buffer.byteLength(sql, 'utf8');
      if (bytes > MAX_STATEMENT_BYTES) {
        throw new SparkifyError(
          'INTERNAL',
          `A statement of ${num(bytes)} bytes cannot be sent to Redshift ${this.where.target} over the Data API, which takes at most ${num(MAX_STATEMENT_BYTES)} bytes of SQL per statement: ${firstLine(sql).slice(0, 80)}…`,
          { sql, hint: INTERNAL_HINT },
        );
      }
    }
  }

  /**
   * Sends one ExecuteStatement or BatchExecuteStatement with the session's
   * parameters (the connection for the first call, then its SessionId) and
   * returns the statement id; the first call's answer names the session.
   */
  private async submit(sql: string, send: (session: SessionParameters) => Promise<{ Id?: string; SessionId?: string }>): Promise<string> {
    const keepAlive = this.options.sessionKeepAliveSeconds ?? 3600;
    const session: SessionParameters = this.sessionId
      ? { SessionId: this.sessionId, SessionKeepAliveSeconds: keepAlive }
      : { ...this.connection, SessionKeepAliveSeconds: keepAlive };
    try {
      const out = await send(session);
      this.sessionId ??= out.SessionId;
      if (!out.Id) throw new Error('the Data API returned no statement id');
      return out.Id;
    } catch (err) {
      throw classifyDataApiError(err, this.where, sql);
    }
  }

  /**
   * Polls DescribeStatement with growing pauses until the statement (or batch)
   * ends or the timeout passes; `cancel` stops it meanwhile. `failedSql` picks
   * the statement a FAILED answer is about, for the error.
   */
  private async waitFor(id: string, sql: string, failedSql?: (d: DescribeStatementCommandOutput) => string | undefined): Promise<DescribeStatementCommandOutput> {
    this.running = id;
    try {
      return await this.poll(id, sql, failedSql);
    } finally {
      this.running = undefined;
    }
  }

  private async poll(id: string, sql: string, failedSql?: (d: DescribeStatementCommandOutput) => string | undefined): Promise<DescribeStatementCommandOutput> {
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
      if (d.Status === 'FAILED') throw classifyStatementError(d.Error ?? 'the statement failed', this.where, failedSql?.(d) ?? sql);
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

/** What names the session in a call: the connection (first call) or the session id, and the keep-alive. */
type SessionParameters = Pick<ExecuteStatementCommandInput, 'ClusterIdentifier' | 'WorkgroupName' | 'Database' | 'DbUser' | 'SecretArn' | 'SessionId' | 'SessionKeepAliveSeconds'>;

/** Best effort: a call whose failure changes nothing for the caller. */
async function quietly(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch {
    // nothing to do
  }
}
