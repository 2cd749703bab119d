/**
 * The Redshift Data API transport, against SDK-LEVEL MOCKS (aws-sdk-client-mock
 * replaces RedshiftDataClient's `send`): no AWS and no Redshift are reachable
 * from this machine. These tests check which calls sparkify makes, with which
 * parameters and in which order, and how it reads the answers (polling with
 * backoff, paging, value types, failures, timeouts, sessions, transactions as
 * one BatchExecuteStatement, the statement-size and batch-size limits). They
 * cannot show that the real Data API accepts the calls, answers exactly like
 * this, or runs a batch as the one transaction its documentation promises.
 */
import {
  ActiveStatementsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DatabaseConnectionException,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
  type BatchExecuteStatementCommandInput,
  type ColumnMetadata,
  type ExecuteStatementCommandInput,
  type Field,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SparkifyError } from '../src/errors.js';
import { createTables } from '../src/pipeline/create-tables.js';
import { publish } from '../src/pipeline/publish.js';
import { createTableSql, dropTableSql, nextName, publishSql } from '../src/schema/ddl.js';
import { ALL_TABLES, stagingSongs } from '../src/schema/tables.js';
import type { Source } from '../src/sources/source.js';
import { connectionParameters, DataApiSession } from '../src/warehouses/redshift/data-api/data-api-session.js';
import { MAX_BATCH_STATEMENTS, MAX_STATEMENT_BYTES, splitStatements } from '../src/warehouses/redshift/data-api/data-api-statements.js';
import { RedshiftDataApiWarehouse } from '../src/warehouses/redshift/data-api/data-api-warehouse.js';
import { redshiftDialect } from '../src/warehouses/redshift/redshift-dialect.js';
import type { DataApiConnection } from '../src/warehouses/redshift/redshift-target.js';
import { quietAwsSdk } from '../src/aws/quiet.js';

// These tests build clients themselves; sparkify's own code quietens the SDK
// before making one (test/redshift-data-api-quiet.test.ts checks that alone).
quietAwsSdk();
const mock = mockClient(RedshiftDataClient);
const CLUSTER: DataApiConnection = { clusterIdentifier: 'dwhcluster', database: 'dwh', dbUser: 'dwhuser' };
const SECRET = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:dwh-AbCdEf';

interface Submitted {
  id: string;
  input: ExecuteStatementCommandInput;
  polls: number;
}

interface SubmittedBatch {
  id: string;
  input: BatchExecuteStatementCommandInput;
  polls: number;
}

interface Result {
  columns: ColumnMetadata[];
  /** One array of records per page. */
  pages: Field[][][];
}

/**
 * What this fake refuses, as the real Data API documents it would: a
 * statement over 100 KB (read here as 100 × 1024 UTF-8 bytes, the most
 * generous reading; sparkify stops at 100,000), a batch of more than 40.
 * The real error's wording is not known here.
 */
function refuseLikeTheApi(sqls: readonly string[]): void {
  if (sqls.length < 1 || sqls.length > 40) throw new ValidationException({ message: `fake Data API: ${sqls.length} statements in a batch`, $metadata: {} });
  for (const sql of sqls) {
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > 100 * 1024) throw new ValidationException({ message: `fake Data API: a statement of ${bytes} bytes is over 100 KB`, $metadata: {} });
  }
}

/**
 * A fake Data API: every statement (or batch) takes `polls` DescribeStatement
 * calls to finish, fails when `fail` returns a message (a batch: at its first
 * failing statement, FAILED as a whole), and SELECTs answer `result`. The
 * lock table's SELECT answers, by default, the row the last batch inserted
 * (the lock was free).
 */
function fakeDataApi(options: { polls?: number; fail?: (sql: string) => string | undefined; result?: (sql: string) => Result | undefined } = {}) {
  const submitted: Submitted[] = [];
  const batches: SubmittedBatch[] = [];
  mock.on(ExecuteStatementCommand).callsFake(async (input: ExecuteStatementCommandInput) => {
    refuseLikeTheApi([input.Sql!]);
    const s = { id: `stmt-${submitted.length + 1}`, input, polls: 0 };
    submitted.push(s);
    return { Id: s.id, SessionId: input.SessionId ?? 'session-1' };
  });
  mock.on(BatchExecuteStatementCommand).callsFake(async (input: BatchExecuteStatementCommandInput) => {
    refuseLikeTheApi(input.Sqls!);
    const b = { id: `batch-${batches.length + 1}`, input, polls: 0 };
    batches.push(b);
    return { Id: b.id, SessionId: input.SessionId ?? 'session-1' };
  });
  mock.on(DescribeStatementCommand).callsFake(async ({ Id }: { Id: string }) => {
    const s = submitted.find((x) => x.id === Id) ?? batches.find((x) => x.id === Id)!;
    s.polls++;
    if (s.polls <= (options.polls ?? 0)) return { Id, Status: s.polls === 1 ? 'SUBMITTED' : 'STARTED' };
    if ('Sqls' in s.input) {
      const sqls = s.input.Sqls!;
      const failedAt = sqls.findIndex((sql) => options.fail?.(sql));
      const status = (i: number) => (failedAt < 0 || i < failedAt ? 'FINISHED' : i === failedAt ? 'FAILED' : 'ABORTED');
      const SubStatements = sqls.map((sql, i) => ({ Id: `${Id}:${i + 1}`, QueryString: sql, Status: status(i) }));
      if (failedAt >= 0) return { Id, Status: 'FAILED', Error: options.fail!(sqls[failedAt]!), SubStatements };
      return { Id, Status: 'FINISHED', HasResultSet: false, SubStatements };
    }
    const sql = (s.input as ExecuteStatementCommandInput).Sql!;
    const error = options.fail?.(sql);
    if (error) return { Id, Status: 'FAILED', Error: error };
    return { Id, Status: 'FINISHED', HasResultSet: /^\s*SELECT/i.test(sql) };
  });
  mock.on(GetStatementResultCommand).callsFake(async ({ Id, NextToken }: { Id: string; NextToken?: string }) => {
    const s = submitted.find((x) => x.id === Id)!;
    const r = options.result?.(s.input.Sql!) ?? defaultResult(s.input.Sql!, batches);
    const page = NextToken ? Number(NextToken) : 0;
    return { ColumnMetadata: r.columns, Records: r.pages[page] ?? [], NextToken: page + 1 < r.pages.length ? String(page + 1) : undefined };
  });
  return { submitted, batches, sqls: () => submitted.map((s) => s.input.Sql) };
}

/** Every call that sends SQL, in order: one statement's text, or a batch's. */
type Sent = { sql: string } | { batch: string[] };
function sent(): Sent[] {
  return mock.calls().flatMap((call): Sent[] => {
    const command = call.args[0];
    if (command instanceof ExecuteStatementCommand) return [{ sql: command.input.Sql! }];
    if (command instanceof BatchExecuteStatementCommand) return [{ batch: command.input.Sqls! }];
    return [];
  });
}

const LOCK_COLUMNS: ColumnMetadata[] = [
  { name: 'token', typeName: 'varchar' },
  { name: 'holder', typeName: 'varchar' },
  { name: 'acquired_at', typeName: 'timestamp' },
  { name: 'expires_at', typeName: 'timestamp' },
];

/** The lock table's one row, as the Data API returns it. */
function lockRow(token: string, holder: string, acquiredAt: string, expiresAt: string): Result {
  return { columns: LOCK_COLUMNS, pages: [[[{ stringValue: token }, { stringValue: holder }, { stringValue: acquiredAt }, { stringValue: expiresAt }]]] };
}

/** The row a lock batch's `INSERT … SELECT <literals> WHERE NOT EXISTS …` would write. */
function insertedLockRow(sql: string): Result | undefined {
  const m = /^INSERT INTO sparkify_lock .* SELECT '([^']*)', '([^']*)', CAST\('([^']*)' AS TIMESTAMP\), CAST\('([^']*)' AS TIMESTAMP\) WHERE NOT EXISTS/s.exec(sql);
  return m ? lockRow(m[1]!, m[2]!, m[3]!, m[4]!) : undefined;
}

/** What the session set-up asks (the schema exists and may be used), and the lock table's row. */
function defaultResult(sql: string, batches: readonly SubmittedBatch[]): Result {
  if (/has_schema_privilege/.test(sql)) return { columns: [{ name: 'usable', typeName: 'bool' }], pages: [[[{ booleanValue: true }]]] };
  if (/FROM sparkify_lock ORDER BY/.test(sql)) {
    const inserted = batches.flatMap((b) => b.input.Sqls!).map(insertedLockRow).filter((r) => r !== undefined).at(-1);
    return inserted ?? { columns: LOCK_COLUMNS, pages: [[]] };
  }
  return { columns: [], pages: [[]] };
}

/** A clock that only moves when the code under test sleeps. */
function fakeClock() {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
  };
}

beforeEach(() => mock.reset());
afterEach(() => vi.restoreAllMocks());

describe('redshift data api: connection parameters (SDK-level mocks)', () => {
  it('cluster + database user: temporary credentials', () => {
    expect(connectionParameters(CLUSTER)).toEqual({ ClusterIdentifier: 'dwhcluster', Database: 'dwh', DbUser: 'dwhuser' });
  });
  it('cluster + Secrets Manager secret (wins over a database user)', () => {
    expect(connectionParameters({ ...CLUSTER, secretArn: SECRET })).toEqual({ ClusterIdentifier: 'dwhcluster', Database: 'dwh', SecretArn: SECRET });
  });
  it('Serverless workgroup: the IAM identity, or a secret', () => {
    expect(connectionParameters({ workgroupName: 'sparkify', database: 'dev' })).toEqual({ WorkgroupName: 'sparkify', Database: 'dev' });
    expect(connectionParameters({ workgroupName: 'sparkify', database: 'dev', secretArn: SECRET })).toEqual({ WorkgroupName: 'sparkify', Database: 'dev', SecretArn: SECRET });
  });
  it('a target with neither a cluster nor a workgroup cannot be written (the configuration reports it)', () => {
    // @ts-expect-error: DataApiConnection needs a cluster identifier or a workgroup name
    const none: DataApiConnection = { database: 'dev' };
    expect(none).toBeDefined();
  });

  it('sends them with the first statement only, then the session id', async () => {
    const api = fakeDataApi();
    const clock = fakeClock();
    const session = new DataApiSession({ workgroupName: 'sparkify', database: 'dev' }, { client: new RedshiftDataClient({ region: 'us-west-2' }), ...clock });
    await session.run('SELECT 1');
    await session.run('SELECT 2');
    expect(api.submitted[0]!.input).toEqual({ Sql: 'SELECT 1', WorkgroupName: 'sparkify', Database: 'dev', SessionKeepAliveSeconds: 3600 });
    expect(api.submitted[1]!.input).toEqual({ Sql: 'SELECT 2', SessionId: 'session-1', SessionKeepAliveSeconds: 3600 });
    expect(session.id).toBe('session-1');
  });
});

describe('redshift data api: one statement (SDK-level mocks)', () => {
  it('submits, polls with growing pauses (no real waiting), pages the result and normalises the values', async () => {
    const columns: ColumnMetadata[] = [
      { name: 'n', typeName: 'int8' },
      { name: 'start_time', typeName: 'timestamp' },
      { name: 'micro', typeName: 'timestamp' },
      { name: 'whole', typeName: 'timestamp' },
      { name: 'length', typeName: 'float8' },
      { name: 'artist', typeName: 'varchar' },
      { name: 'user_id', typeName: 'int4' },
      { name: 'ok', typeName: 'bool' },
      { name: 'big', typeName: 'numeric' },
      { name: 'text_int', typeName: 'int8' },
    ];
    const record = (n: number): Field[] => [
      { longValue: n },
      { stringValue: '2018-11-01 20:57:10.796' },
      { stringValue: '2018-11-01 20:57:10.796123' },
      { stringValue: '2018-11-01 20:57:10' },
      { doubleValue: 218.93179 },
      { stringValue: 'BjÃ¶rk' },
      { isNull: true },
      { booleanValue: true },
      { stringValue: '12345678901234567890' },
      { stringValue: '42' },
    ];
    const api = fakeDataApi({ polls: 5, result: () => ({ columns, pages: [[record(1), record(2)], [record(3)]] }) });
    const clock = fakeClock();
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({ region: 'us-west-2' }), ...clock, pollInitialMs: 100, pollFactor: 2, pollMaxMs: 500 });
    const rows = await session.run('SELECT …');

    expect(clock.slept).toEqual([100, 200, 400, 500, 500]);
    expect(mock.commandCalls(GetStatementResultCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, '1']);
    expect(rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(rows[0]).toEqual({
      n: 1,
      start_time: '2018-11-01 20:57:10.796',
      micro: '2018-11-01 20:57:10.796',
      whole: '2018-11-01 20:57:10.000',
      length: 218.93179,
      artist: 'BjÃ¶rk',
      user_id: null,
      ok: true,
      big: 12345678901234567890n,
      text_int: 42,
    });
    expect(api.submitted).toHaveLength(1);
  });

  it('returns no rows for a statement without a result set, without asking for one', async () => {
    fakeDataApi();
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...fakeClock() });
    expect(await session.run('DELETE FROM songplays')).toEqual([]);
    expect(mock.commandCalls(GetStatementResultCommand)).toHaveLength(0);
  });

  it("surfaces a FAILED statement with the server's message, classified", async () => {
    fakeDataApi({
      fail: (sql) =>
        sql.includes('songplays') ? 'ERROR: relation "songplays" does not exist' : sql.startsWith('SELEC ') ? 'ERROR: syntax error at or near "SELEC"' : undefined,
    });
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...fakeClock() });
    await expect(session.run('SELECT COUNT(*) FROM songplays')).rejects.toMatchObject({ code: 'WAREHOUSE_NOT_READY', message: expect.stringContaining('songplays') });
    const err = (await session.run('SELEC 1').catch((e: unknown) => e)) as SparkifyError;
    expect(err.code).toBe('WAREHOUSE_QUERY_FAILED');
    expect(err.message).toContain('syntax error at or near "SELEC"');
    expect(err.sql).toBe('SELEC 1');
    // The session stays usable after a failure.
    expect(await session.run('SELECT 1')).toEqual([]);
  });

  it('gives up on a statement that does not finish within the timeout, and cancels it', async () => {
    fakeDataApi({ polls: Number.POSITIVE_INFINITY });
    mock.on(CancelStatementCommand).resolves({ Status: true });
    const clock = fakeClock();
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...clock, statementTimeoutMs: 5_000 });
    const err = (await session.run('COPY …').catch((e: unknown) => e)) as SparkifyError;
    expect(err).toBeInstanceOf(SparkifyError);
    expect(err.code).toBe('WAREHOUSE_QUERY_FAILED');
    expect(err.transient).toBe(true);
    expect(err.message).toContain('did not finish within 5 s');
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
    expect(mock.commandCalls(CancelStatementCommand).map((c) => c.args[0].input.Id)).toEqual(['stmt-1']);
  });

  it.each([
    [Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized to perform: redshift-data:ExecuteStatement'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }), 'WAREHOUSE_PERMISSION_DENIED', false],
    [new ValidationException({ message: "Redshift endpoint doesn't exist in this region.", $metadata: {} }), 'WAREHOUSE_UNREACHABLE', false],
    [new ResourceNotFoundException({ message: 'Workgroup sparkify not found', Message: 'Workgroup sparkify not found', ResourceId: 'sparkify', $metadata: {} }), 'WAREHOUSE_UNREACHABLE', false],
    [new DatabaseConnectionException({ message: 'Database connection failed', Message: 'Database connection failed', $metadata: {} }), 'WAREHOUSE_UNREACHABLE', true],
    [new ActiveStatementsExceededException({ message: 'Active statements exceeded the allowed quota', $metadata: {} }), 'WAREHOUSE_UNREACHABLE', true],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'AWS_FAILED', false],
  ])('classifies an SDK error at the seam: %s', async (error, code, transient) => {
    mock.on(ExecuteStatementCommand).rejects(error);
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), region: 'us-west-2', ...fakeClock() });
    const err = (await session.run('SELECT 1').catch((e: unknown) => e)) as SparkifyError;
    expect(err).toBeInstanceOf(SparkifyError);
    expect(err.code).toBe(code);
    expect(err.transient).toBe(transient);
    expect(err.hint).toBeTruthy();
    expect(err.message).not.toContain(SECRET);
  });

  it('names the IAM permission temporary credentials need when access is denied', async () => {
    mock.on(ExecuteStatementCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const err = (await new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...fakeClock() }).run('SELECT 1').catch((e: unknown) => e)) as SparkifyError;
    expect(err.message).toContain('cluster dwhcluster');
    expect(err.hint).toContain('redshift:GetClusterCredentials for the database user');
  });

  it('a cluster reached with neither a user nor a secret uses the IAM identity, and names the permission that needs', async () => {
    const iam: DataApiConnection = { clusterIdentifier: 'dwhcluster', database: 'dwh' };
    expect(connectionParameters(iam)).toEqual({ ClusterIdentifier: 'dwhcluster', Database: 'dwh' });
    mock.on(ExecuteStatementCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const err = (await new DataApiSession(iam, { client: new RedshiftDataClient({}), ...fakeClock() }).run('SELECT 1').catch((e: unknown) => e)) as SparkifyError;
    expect(err.hint).toContain('redshift:GetClusterCredentialsWithIAM on the cluster');
  });
});

describe('redshift data api: the warehouse, one session (SDK-level mocks)', () => {
  const open = (dataApi: DataApiConnection = CLUSTER) =>
    RedshiftDataApiWarehouse.open(
      { kind: 'redshift-data-api', dataApi, schema: 'sparkify', region: 'us-west-2', copy: {} },
      { client: new RedshiftDataClient({ region: 'us-west-2' }), ...fakeClock(), loadErrors: 'stl' },
    );

  it('sets the session up (UTC, exact floats, the schema on the search path)', async () => {
    const api = fakeDataApi();
    const wh = await open();
    expect(api.sqls()).toEqual([
      "SET timezone TO 'UTC'",
      'SET extra_float_digits TO 2',
      "SELECT has_schema_privilege(nspname, 'USAGE') AS usable FROM pg_namespace WHERE nspname = 'sparkify'",
      'SET search_path TO "sparkify"',
    ]);
    expect(wh.description).toBe('Redshift Data API cluster dwhcluster/dwh in us-west-2 (schema sparkify)');
    expect(wh.kind).toBe('redshift');
    await wh.close();
  });

  it('sends a transaction as one BatchExecuteStatement in the session: the statements in order, no BEGIN or COMMIT', async () => {
    const api = fakeDataApi({ polls: 2 });
    const wh = await open();
    const before = sent().length;
    const result = await wh.transaction(async () => {
      await wh.execute('DELETE FROM staging_songs');
      // Several statements in one call are split, as outside a transaction.
      await wh.execute("DELETE FROM etl_rejects WHERE target_table = 'staging_songs'; INSERT INTO etl_rejects SELECT * FROM x;");
      expect(sent()).toHaveLength(before); // nothing sent while the transaction is open
      return 'done';
    });
    expect(result).toBe('done');
    expect(sent().slice(before)).toEqual([
      { batch: ['DELETE FROM staging_songs', "DELETE FROM etl_rejects WHERE target_table = 'staging_songs'", 'INSERT INTO etl_rejects SELECT * FROM x'] },
    ]);
    expect(api.batches).toHaveLength(1);
    expect(api.batches[0]!.input).toEqual({
      Sqls: ['DELETE FROM staging_songs', "DELETE FROM etl_rejects WHERE target_table = 'staging_songs'", 'INSERT INTO etl_rejects SELECT * FROM x'],
      ExecutionMode: 'TRANSACTION',
      SessionId: 'session-1',
      SessionKeepAliveSeconds: 3600,
    });
    // Polled like a single statement until FINISHED (two answers still running, then done).
    expect(mock.commandCalls(DescribeStatementCommand).filter((c) => c.args[0].input.Id === 'batch-1')).toHaveLength(3);
    expect(api.sqls()).not.toContain('BEGIN');
    expect(api.sqls()).not.toContain('COMMIT');
    expect(api.submitted[0]!.input).toMatchObject({ ClusterIdentifier: 'dwhcluster', Database: 'dwh', DbUser: 'dwhuser' });
    for (const s of api.submitted.slice(1)) {
      expect(s.input.SessionId).toBe('session-1');
      expect(s.input).not.toHaveProperty('ClusterIdentifier');
      expect(s.input).not.toHaveProperty('DbUser');
      expect(s.input).not.toHaveProperty('Database');
    }
    // After the transaction, statements run one per call again.
    await wh.execute('SELECT 2');
    expect(sent().at(-1)).toEqual({ sql: 'SELECT 2' });
    await wh.close();
  });

  it('sends nothing when the transaction throws, and passes its error on unchanged', async () => {
    fakeDataApi();
    const wh = await open();
    const before = sent().length;
    const boom = new Error('the transform broke');
    const err = await wh
      .transaction(async () => {
        await wh.execute('DELETE FROM songplays');
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(sent()).toHaveLength(before);
    expect(mock.commandCalls(BatchExecuteStatementCommand)).toHaveLength(0);
    // Not left half-open: the next statement runs.
    await wh.execute('SELECT 3');
    expect(sent().slice(before)).toEqual([{ sql: 'SELECT 3' }]);
    await wh.close();
  });

  it('sends nothing for an empty transaction', async () => {
    fakeDataApi();
    const wh = await open();
    const before = sent().length;
    expect(await wh.transaction(async () => 42)).toBe(42);
    expect(sent()).toHaveLength(before);
    await wh.close();
  });

  it("surfaces a FAILED batch as its failed statement's classified error; nothing else is sent (the Data API rolled it all back)", async () => {
    fakeDataApi({
      fail: (sql) =>
        sql.startsWith('INSERT') ? 'ERROR: Serializable isolation violation on table - 123, transactions forming the cycle are: 1, 2' : sql.includes('nosuch') ? 'ERROR: relation "nosuch" does not exist' : undefined,
    });
    const wh = await open();
    const before = sent().length;
    const err = (await wh
      .transaction(async () => {
        await wh.execute('DELETE FROM songplays');
        await wh.execute('INSERT INTO songplays SELECT 1');
        await wh.execute('DELETE FROM users');
      })
      .catch((e: unknown) => e)) as SparkifyError;
    expect(err).toBeInstanceOf(SparkifyError);
    expect(err.code).toBe('WAREHOUSE_QUERY_FAILED');
    expect(err.transient).toBe(true);
    expect(err.message).toBe('Redshift cluster dwhcluster: Serializable isolation violation on table - 123, transactions forming the cycle are: 1, 2');
    expect(err.sql).toBe('INSERT INTO songplays SELECT 1');
    expect(sent().slice(before)).toEqual([{ batch: ['DELETE FROM songplays', 'INSERT INTO songplays SELECT 1', 'DELETE FROM users'] }]);
    expect(mock.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql)).not.toContain('ROLLBACK');

    const missing = (await wh.transaction(async () => wh.execute('DELETE FROM nosuch')).catch((e: unknown) => e)) as SparkifyError;
    expect(missing.code).toBe('WAREHOUSE_NOT_READY');
    expect(missing.message).toBe('Table nosuch does not exist on Redshift cluster dwhcluster.');
    await wh.close();
  });

  it('refuses a query inside a transaction (no result can be read mid-batch), and sends nothing', async () => {
    fakeDataApi();
    const wh = await open();
    const before = sent().length;
    const err = (await wh
      .transaction(async () => {
        await wh.execute('DELETE FROM songplays');
        await wh.query('SELECT COUNT(*) AS n FROM songplays');
      })
      .catch((e: unknown) => e)) as SparkifyError;
    expect(err).toBeInstanceOf(SparkifyError);
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe(
      'A query cannot run inside a transaction on Redshift cluster dwhcluster over the Data API: the transaction is sent as one BatchExecuteStatement when it ends, so no result can be read mid-way (SELECT COUNT(*) AS n FROM songplays).',
    );
    expect(err.sql).toBe('SELECT COUNT(*) AS n FROM songplays');
    expect(sent()).toHaveLength(before);
    await wh.close();
  });

  it('refuses a nested transaction', async () => {
    fakeDataApi();
    const wh = await open();
    const before = sent().length;
    const err = (await wh.transaction(() => wh.transaction(async () => wh.execute('DELETE FROM songplays'))).catch((e: unknown) => e)) as SparkifyError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe('Transactions do not nest on Redshift cluster dwhcluster over the Data API: a transaction is one BatchExecuteStatement.');
    expect(sent()).toHaveLength(before);
    await wh.close();
  });

  it(`sends a transaction of ${MAX_BATCH_STATEMENTS} statements, and refuses one of ${MAX_BATCH_STATEMENTS + 1} rather than split it`, async () => {
    const api = fakeDataApi();
    const wh = await open();
    const statements = (n: number) => Array.from({ length: n }, (_, i) => `DELETE FROM t${i}`);
    await wh.transaction(async () => {
      for (const sql of statements(40)) await wh.execute(sql);
    });
    expect(api.batches.map((b) => b.input.Sqls)).toEqual([statements(40)]);
    const before = sent().length;
    const err = (await wh
      .transaction(async () => {
        for (const sql of statements(41)) await wh.execute(sql);
      })
      .catch((e: unknown) => e)) as SparkifyError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe(
      'A transaction of 41 statements cannot be sent to Redshift cluster dwhcluster over the Data API: one BatchExecuteStatement, its only transaction, takes at most 40.',
    );
    expect(sent()).toHaveLength(before);
    await wh.close();
  });

  it("the pipeline's transactions fit in one batch: create-tables and publish", async () => {
    const api = fakeDataApi();
    const wh = await open();
    await createTables(wh);
    const createBatch = [...[...ALL_TABLES].reverse().flatMap((t) => [dropTableSql(t.name), dropTableSql(nextName(t.name))]), ...ALL_TABLES.map((t) => createTableSql(t, redshiftDialect))].flatMap(splitStatements);
    await publish(wh);
    const publishBatch = ALL_TABLES.flatMap((t) => publishSql(t, redshiftDialect)).flatMap(splitStatements);
    // Each run of the pipeline's stages also takes the lock: one batch each, before the stage's own.
    const stageBatches = api.batches.map((b) => b.input.Sqls!).filter((sqls) => !sqls[0]!.startsWith('LOCK '));
    expect(stageBatches).toEqual([createBatch, publishBatch]);
    expect(stageBatches.map((sqls) => sqls.length)).toEqual([30, 27]); // docs/redshift.md quotes these
    for (const sqls of stageBatches) expect(sqls.length).toBeLessThanOrEqual(MAX_BATCH_STATEMENTS);
    await wh.close();
  });

  it('sends several statements in one call as one statement each (ExecuteStatement takes one)', async () => {
    const api = fakeDataApi();
    const wh = await open();
    await wh.execute("DROP TABLE IF EXISTS a; CREATE TABLE a (s VARCHAR(8) DEFAULT ';'); -- done;\n");
    expect(api.sqls().slice(4)).toEqual(['DROP TABLE IF EXISTS a', "CREATE TABLE a (s VARCHAR(8) DEFAULT ';')"]);
    await wh.close();
  });

  it('reconnects (before a retry) by opening a new session, set up as the first', async () => {
    const api = fakeDataApi();
    let sessions = 0;
    mock.on(ExecuteStatementCommand).callsFake(async (input: ExecuteStatementCommandInput) => {
      const s = { id: `stmt-${api.submitted.length + 1}`, input, polls: 0 };
      api.submitted.push(s);
      return { Id: s.id, SessionId: input.SessionId ?? `session-${++sessions}` };
    });
    const wh = await open();
    await wh.reconnect();
    await wh.execute('SELECT 2');
    const after = api.submitted.slice(4);
    expect(after.map((s) => s.input.Sql)).toEqual([
      "SET timezone TO 'UTC'",
      'SET extra_float_digits TO 2',
      "SELECT has_schema_privilege(nspname, 'USAGE') AS usable FROM pg_namespace WHERE nspname = 'sparkify'",
      'SET search_path TO "sparkify"',
      'SELECT 2',
    ]);
    expect(after[0]!.input).toMatchObject({ ClusterIdentifier: 'dwhcluster', Database: 'dwh', DbUser: 'dwhuser' });
    expect(after[0]!.input).not.toHaveProperty('SessionId');
    for (const s of after.slice(1)) expect(s.input.SessionId).toBe('session-2');
    await wh.close();
  });

  it('ends the session on close (no keep-alive) and is idempotent', async () => {
    const api = fakeDataApi();
    const wh = await open();
    await wh.close();
    await wh.close();
    expect(api.submitted.at(-1)!.input).toEqual({ Sql: 'SELECT 1', SessionId: 'session-1', SessionKeepAliveSeconds: 0 });
    await expect(wh.query('SELECT 1')).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('a Serverless target loads with its COPY options and reads SYS_LOAD_ERROR_DETAIL, one statement per call', async () => {
    // After the COPY the load asks for its ids and its row of SYS_LOAD_HISTORY (nothing loaded, nothing skipped).
    const int8 = (name: string): ColumnMetadata => ({ name, typeName: 'int8' });
    const api = fakeDataApi({
      result: (sql) =>
        sql.startsWith('SELECT pg_last_copy_id()')
          ? { columns: [int8('copy_id'), int8('pid')], pages: [[[{ longValue: 101 }, { longValue: 4242 }]]] }
          : /FROM sys_load_history/.test(sql)
            ? { columns: [int8('query_id'), int8('loaded_rows'), int8('error_count'), { name: 'status', typeName: 'varchar' }], pages: [[[{ longValue: 101 }, { longValue: 0 }, { longValue: 0 }, { stringValue: 'completed' }]]] }
            : undefined,
    });
    const wh = await RedshiftDataApiWarehouse.open(
      {
        kind: 'redshift-data-api',
        dataApi: { workgroupName: 'sparkify', database: 'dev' },
        schema: 'public',
        region: 'us-west-2',
        copy: { iamRoleArn: 'arn:aws:iam::123456789012:role/dwhRole', region: 'us-west-2' },
      },
      { client: new RedshiftDataClient({ region: 'us-west-2' }), ...fakeClock() },
    );
    expect(api.submitted[0]!.input).toMatchObject({ WorkgroupName: 'sparkify', Database: 'dev' });
    const source: Source = {
      kind: 's3',
      uri: 's3://udacity-dend/song_data',
      list: async () => [],
      read: async () => Buffer.alloc(0),
      stream: async function* () {},
      localPath: () => undefined,
      close: async () => undefined,
    };
    expect(await wh.sourceIssues(stagingSongs, source)).toEqual([]);
    expect(await wh.sourceIssues(stagingSongs, { ...source, kind: 'local', uri: '/home/me/song_data' })).toEqual([
      { where: 'the song files (--songs, [S3] SONG_DATA)', message: expect.stringContaining('Redshift loads only from Amazon S3') },
    ]);
    const into = { rows: '_sparkify_next_staging_songs', rejects: '_sparkify_next_etl_rejects' };
    const result = await wh.loadStaging(stagingSongs, { into, source, files: [], format: 'json' });
    expect(result).toEqual({ rows: 0, rejected: 0, bytes: 0 });
    const load = api.sqls().slice(4);
    // A load runs outside any transaction (the run publishes its copies at the end): one statement per call.
    expect(load).not.toContain('BEGIN');
    expect(load.some((s) => /^INSERT INTO _sparkify_next_staging_songs /.test(s!))).toBe(true);
    expect(load.find((s) => s!.startsWith('COPY '))).toMatch(/IAM_ROLE 'arn:aws:iam::123456789012:role\/dwhRole'\nREGION 'us-west-2'\nFORMAT AS JSON 'auto'/);
    expect(load.some((s) => /FROM sys_load_error_detail/.test(s!))).toBe(true);
    for (const s of load) {
      expect(splitStatements(s!)).toHaveLength(1);
      expect(Buffer.byteLength(s!, 'utf8')).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
    }
    await wh.close();
  });
});

describe('redshift data api: a batch, and the size limits (SDK-level mocks)', () => {
  it('a batch opens the session like a first statement, is polled with the same backoff, and later calls use its session', async () => {
    const api = fakeDataApi({ polls: 3 });
    const clock = fakeClock();
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...clock, pollInitialMs: 100, pollFactor: 2, pollMaxMs: 300 });
    await session.runBatch(['CREATE TABLE a (n INT)', 'INSERT INTO a VALUES (1)']);
    expect(api.batches[0]!.input).toEqual({
      Sqls: ['CREATE TABLE a (n INT)', 'INSERT INTO a VALUES (1)'],
      ExecutionMode: 'TRANSACTION',
      ClusterIdentifier: 'dwhcluster',
      Database: 'dwh',
      DbUser: 'dwhuser',
      SessionKeepAliveSeconds: 3600,
    });
    expect(clock.slept).toEqual([100, 200, 300]);
    expect(session.id).toBe('session-1');
    await session.run('SELECT 1');
    expect(api.submitted[0]!.input).toEqual({ Sql: 'SELECT 1', SessionId: 'session-1', SessionKeepAliveSeconds: 3600 });
    // No results are read for a batch.
    expect(mock.commandCalls(GetStatementResultCommand).map((c) => c.args[0].input.Id)).toEqual(['stmt-1']);
  });

  it('a batch and single statements wait for each other: one call at a time, in order', async () => {
    fakeDataApi({ polls: 2 });
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...fakeClock() });
    await Promise.all([session.run('SELECT 1'), session.runBatch(['DELETE FROM a', 'DELETE FROM b']), session.run('SELECT 2')]);
    expect(sent()).toEqual([{ sql: 'SELECT 1' }, { batch: ['DELETE FROM a', 'DELETE FROM b'] }, { sql: 'SELECT 2' }]);
    // Each was submitted only after the one before had finished (its last poll came first).
    const order = mock.calls().map((c) => {
      const cmd = c.args[0];
      return cmd instanceof DescribeStatementCommand ? `poll ${cmd.input.Id}` : cmd instanceof GetStatementResultCommand ? `result ${cmd.input.Id}` : cmd.constructor.name;
    });
    expect(order).toEqual([
      'ExecuteStatementCommand', 'poll stmt-1', 'poll stmt-1', 'poll stmt-1', 'result stmt-1',
      'BatchExecuteStatementCommand', 'poll batch-1', 'poll batch-1', 'poll batch-1',
      'ExecuteStatementCommand', 'poll stmt-2', 'poll stmt-2', 'poll stmt-2', 'result stmt-2',
    ]);
  });

  it('cancel stops the running batch (CancelStatement with its id); it then ends as ABORTED', async () => {
    fakeDataApi({ polls: Number.POSITIVE_INFINITY });
    // Once cancelled, the fake answers ABORTED.
    mock.on(CancelStatementCommand).callsFake(async ({ Id }: { Id: string }) => {
      mock.on(DescribeStatementCommand).resolves({ Id, Status: 'ABORTED', Error: 'Query cancelled.' });
      return { Status: true };
    });
    const clock = fakeClock();
    // Someone stops the run while the batch is being waited for (between two polls).
    const session: DataApiSession = new DataApiSession(CLUSTER, {
      client: new RedshiftDataClient({}),
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms);
        if (mock.commandCalls(CancelStatementCommand).length === 0) await session.cancel();
      },
    });
    const err = (await session.runBatch(['DELETE FROM a', 'DELETE FROM b']).catch((e: unknown) => e)) as SparkifyError;
    expect(mock.commandCalls(CancelStatementCommand).map((c) => c.args[0].input.Id)).toEqual(['batch-1']);
    expect(err).toBeInstanceOf(SparkifyError);
    expect(err.code).toBe('ABORTED');
    expect(err.message).toBe('The statement on Redshift cluster dwhcluster was cancelled (Data API statement batch-1).');
    expect(err.sql).toBe('DELETE FROM a;\nDELETE FROM b');
  });

  const big = `SELECT '${'é'.repeat(60_000)}'`; // 60,009 characters, 120,009 UTF-8 bytes
  it(`refuses a statement over ${MAX_STATEMENT_BYTES} UTF-8 bytes before any call, alone or in a batch`, async () => {
    expect(big.length).toBe(60_009);
    expect(Buffer.byteLength(big, 'utf8')).toBe(120_009);
    fakeDataApi();
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...fakeClock() });
    const message = `A statement of 120,009 bytes cannot be sent to Redshift cluster dwhcluster over the Data API, which takes at most 100,000 bytes of SQL per statement: SELECT '${'é'.repeat(72)}…`;

    const alone = (await session.run(big).catch((e: unknown) => e)) as SparkifyError;
    expect(alone).toBeInstanceOf(SparkifyError);
    expect(alone.code).toBe('INTERNAL');
    expect(alone.message).toBe(message);
    expect(alone.sql).toBe(big);

    const inBatch = (await session.runBatch(['DELETE FROM a', big]).catch((e: unknown) => e)) as SparkifyError;
    expect(inBatch.code).toBe('INTERNAL');
    expect(inBatch.message).toBe(message);
    expect(mock.calls()).toHaveLength(0);

    // Through the warehouse's transaction too: nothing of it is sent.
    const wh = await RedshiftDataApiWarehouse.open(
      { kind: 'redshift-data-api', dataApi: CLUSTER, schema: 'sparkify', region: 'us-west-2', copy: {} },
      { client: new RedshiftDataClient({}), ...fakeClock() },
    );
    const before = sent().length;
    await expect(wh.transaction(() => wh.execute(big))).rejects.toMatchObject({ code: 'INTERNAL', message });
    expect(sent()).toHaveLength(before);
    await wh.close();
  });

  it(`sends a statement of exactly ${MAX_STATEMENT_BYTES} bytes (which the fake, like the API, accepts)`, async () => {
    const api = fakeDataApi();
    const session = new DataApiSession(CLUSTER, { client: new RedshiftDataClient({}), ...fakeClock() });
    const sql = `SELECT '${'x'.repeat(MAX_STATEMENT_BYTES - 9)}'`;
    expect(Buffer.byteLength(sql, 'utf8')).toBe(MAX_STATEMENT_BYTES);
    await session.run(sql);
    await session.runBatch([sql, sql]);
    expect(api.submitted.map((s) => s.input.Sql)).toEqual([sql]);
    expect(api.batches.map((b) => b.input.Sqls)).toEqual([[sql, sql]]);
    // The fake itself refuses what the API documents it would, so a missing check here would show.
    await expect(new RedshiftDataClient({}).send(new ExecuteStatementCommand({ Sql: big, ...connectionParameters(CLUSTER) }))).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('redshift data api: the run lock (SDK-level mocks)', () => {
  const open = () =>
    RedshiftDataApiWarehouse.open(
      { kind: 'redshift-data-api', dataApi: CLUSTER, schema: 'sparkify', region: 'us-west-2', copy: {} },
      { client: new RedshiftDataClient({}), ...fakeClock() },
    );

  it('takes it with one batch that only writes, then one SELECT after the commit; releases it by its token', async () => {
    const api = fakeDataApi();
    const wh = await open();
    const before = sent().length;
    const release = await wh.lock();
    const calls = sent().slice(before);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({ sql: expect.stringMatching(/^CREATE TABLE IF NOT EXISTS sparkify_lock \(token VARCHAR\(64\) NOT NULL, /) });
    const batch = (calls[1] as { batch: string[] }).batch;
    expect(batch).toHaveLength(3);
    expect(batch[0]).toBe('LOCK sparkify_lock');
    expect(batch[1]).toMatch(/^DELETE FROM sparkify_lock WHERE expires_at < CAST\('\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}' AS TIMESTAMP\)$/);
    expect(batch[2]).toMatch(
      /^INSERT INTO sparkify_lock \(token, holder, acquired_at, expires_at\) SELECT '[0-9a-f-]{36}', 'sparkify pid \d+ on [^']+', CAST\('[^']+' AS TIMESTAMP\), CAST\('[^']+' AS TIMESTAMP\) WHERE NOT EXISTS \(SELECT 1 FROM sparkify_lock\)$/,
    );
    expect(calls[2]).toEqual({ sql: 'SELECT token, holder, acquired_at, expires_at FROM sparkify_lock ORDER BY acquired_at LIMIT 1' });
    expect(api.batches[0]!.input.SessionId).toBe('session-1');

    const token = /SELECT '([0-9a-f-]{36})'/.exec(batch[2]!)![1];
    await release();
    await release(); // idempotent
    expect(sent().slice(before + 3)).toEqual([{ sql: `DELETE FROM sparkify_lock WHERE token = '${token}'` }]);
    await wh.close();
  });

  it("reports WAREHOUSE_LOCKED, naming the holder, when the row after the commit is another run's", async () => {
    fakeDataApi({ result: (sql) => (/FROM sparkify_lock ORDER BY/.test(sql) ? lockRow('0000-other', 'sparkify pid 7 on other-host', '2026-01-01 12:00:00', '2026-01-01 18:00:00') : undefined) });
    const wh = await open();
    const before = sent().length;
    const err = (await wh.lock().catch((e: unknown) => e)) as SparkifyError;
    expect(err).toBeInstanceOf(SparkifyError);
    expect(err.code).toBe('WAREHOUSE_LOCKED');
    expect(err.message).toBe('Another sparkify run is loading schema sparkify of Redshift cluster dwhcluster (sparkify pid 7 on other-host, since 2026-01-01 12:00:00 UTC).');
    expect(err.hint).toBe(
      'Wait for it to finish, or use another --schema. If that run is gone (killed), its lock lapses at 2026-01-01 18:00:00 UTC; to clear it now: DELETE FROM sparkify.sparkify_lock',
    );
    // One batch, one SELECT, and no release of a lock it does not hold.
    const calls = sent().slice(before);
    expect(calls.map((c) => ('batch' in c ? 'batch' : c.sql.split(' ')[0]))).toEqual(['CREATE', 'batch', 'SELECT']);
    await wh.close();
  });

  it('reports WAREHOUSE_LOCKED when no row is left after the commit (the holder released it meanwhile)', async () => {
    fakeDataApi({ result: (sql) => (/FROM sparkify_lock ORDER BY/.test(sql) ? { columns: LOCK_COLUMNS, pages: [[]] } : undefined) });
    const wh = await open();
    const err = (await wh.lock().catch((e: unknown) => e)) as SparkifyError;
    expect(err.code).toBe('WAREHOUSE_LOCKED');
    expect(err.message).toBe('Another sparkify run was loading schema sparkify of Redshift cluster dwhcluster and has just finished.');
    expect(err.hint).toContain('Run the command again');
    await wh.close();
  });
});

describe('splitting SQL text into statements', () => {
  it('splits at top-level semicolons only', () => {
    expect(splitStatements("SELECT ';' AS a; SELECT 'it''s; here' AS b;")).toEqual(["SELECT ';' AS a", "SELECT 'it''s; here' AS b"]);
    expect(splitStatements('SELECT 1 -- a; comment\n; /* ; */ SELECT 2')).toEqual(['SELECT 1 -- a; comment', '/* ; */ SELECT 2']);
    expect(splitStatements(`SELECT 'a\\'; b' AS c; SELECT "x;y" FROM t`)).toEqual([`SELECT 'a\\'; b' AS c`, 'SELECT "x;y" FROM t']);
    expect(splitStatements(' ;; \n')).toEqual([]);
  });
});
