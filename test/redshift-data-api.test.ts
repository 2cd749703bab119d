/**
 * The Redshift Data API transport, against SDK-LEVEL MOCKS (aws-sdk-client-mock
 * replaces RedshiftDataClient's `send`): no AWS and no Redshift are reachable
 * from this machine. These tests check which calls sparkify makes, with which
 * parameters and in which order, and how it reads the answers (polling with
 * backoff, paging, value types, failures, timeouts, sessions). They cannot
 * show that the real Data API accepts the calls or answers exactly like this.
 */
import {
  ActiveStatementsExceededException,
  CancelStatementCommand,
  DatabaseConnectionException,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
  type ColumnMetadata,
  type ExecuteStatementCommandInput,
  type Field,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SparkifyError } from '../src/errors.js';
import { stagingSongs } from '../src/schema/tables.js';
import type { Source } from '../src/sources/source.js';
import { connectionParameters, DataApiSession } from '../src/warehouses/redshift/data-api/data-api-session.js';
import { splitStatements } from '../src/warehouses/redshift/data-api/data-api-statements.js';
import { RedshiftDataApiWarehouse } from '../src/warehouses/redshift/data-api/data-api-warehouse.js';
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

interface Result {
  columns: ColumnMetadata[];
  /** One array of records per page. */
  pages: Field[][][];
}

/**
 * A fake Data API: every statement takes `polls` DescribeStatement calls to
 * finish, fails when `fail` returns a message, and SELECTs answer `result`.
 */
function fakeDataApi(options: { polls?: number; fail?: (sql: string) => string | undefined; result?: (sql: string) => Result | undefined } = {}) {
  const submitted: Submitted[] = [];
  mock.on(ExecuteStatementCommand).callsFake(async (input: ExecuteStatementCommandInput) => {
    const s = { id: `stmt-${submitted.length + 1}`, input, polls: 0 };
    submitted.push(s);
    return { Id: s.id, SessionId: input.SessionId ?? 'session-1' };
  });
  mock.on(DescribeStatementCommand).callsFake(async ({ Id }: { Id: string }) => {
    const s = submitted.find((x) => x.id === Id)!;
    s.polls++;
    if (s.polls <= (options.polls ?? 0)) return { Id, Status: s.polls === 1 ? 'SUBMITTED' : 'STARTED' };
    const error = options.fail?.(s.input.Sql!);
    if (error) return { Id, Status: 'FAILED', Error: error };
    return { Id, Status: 'FINISHED', HasResultSet: /^\s*SELECT/i.test(s.input.Sql!) };
  });
  mock.on(GetStatementResultCommand).callsFake(async ({ Id, NextToken }: { Id: string; NextToken?: string }) => {
    const s = submitted.find((x) => x.id === Id)!;
    const r = options.result?.(s.input.Sql!) ?? defaultResult(s.input.Sql!);
    const page = NextToken ? Number(NextToken) : 0;
    return { ColumnMetadata: r.columns, Records: r.pages[page] ?? [], NextToken: page + 1 < r.pages.length ? String(page + 1) : undefined };
  });
  return { submitted, sqls: () => submitted.map((s) => s.input.Sql) };
}

/** What the session set-up asks: the schema exists and may be used. */
function defaultResult(sql: string): Result {
  if (/has_schema_privilege/.test(sql)) return { columns: [{ name: 'usable', typeName: 'bool' }], pages: [[[{ booleanValue: true }]]] };
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
    expect(err.hint).toContain('redshift:GetClusterCredentials');
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

  it('runs BEGIN … COMMIT in the one session', async () => {
    const api = fakeDataApi();
    const wh = await open();
    await wh.transaction(async () => {
      await wh.execute('DELETE FROM staging_songs');
      await wh.execute("DELETE FROM etl_rejects WHERE target_table = 'staging_songs'");
    });
    const tx = api.submitted.slice(4);
    expect(tx.map((s) => s.input.Sql)).toEqual(['BEGIN', 'DELETE FROM staging_songs', "DELETE FROM etl_rejects WHERE target_table = 'staging_songs'", 'COMMIT']);
    expect(api.submitted[0]!.input).toMatchObject({ ClusterIdentifier: 'dwhcluster', Database: 'dwh', DbUser: 'dwhuser' });
    for (const s of api.submitted.slice(1)) {
      expect(s.input.SessionId).toBe('session-1');
      expect(s.input).not.toHaveProperty('ClusterIdentifier');
      expect(s.input).not.toHaveProperty('DbUser');
      expect(s.input).not.toHaveProperty('Database');
    }
    await wh.close();
  });

  it('rolls back in the same session when a statement fails, and passes the failure on', async () => {
    const api = fakeDataApi({ fail: (sql) => (sql.startsWith('INSERT') ? 'ERROR: Serializable isolation violation on table - 123, transactions forming the cycle are: 1, 2' : undefined) });
    const wh = await open();
    const err = (await wh
      .transaction(async () => {
        await wh.execute('DELETE FROM songplays');
        await wh.execute('INSERT INTO songplays SELECT 1');
      })
      .catch((e: unknown) => e)) as SparkifyError;
    expect(err.code).toBe('WAREHOUSE_QUERY_FAILED');
    expect(err.transient).toBe(true);
    expect(api.sqls().slice(4)).toEqual(['BEGIN', 'DELETE FROM songplays', 'INSERT INTO songplays SELECT 1', 'ROLLBACK']);
    expect(api.submitted.at(-1)!.input.SessionId).toBe('session-1');
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
    const api = fakeDataApi();
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
    expect(wh.sourceIssues(stagingSongs, source)).toEqual([]);
    expect(wh.sourceIssues(stagingSongs, { ...source, kind: 'local', uri: '/home/me/song_data' })).toEqual([
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
      expect(s!.length).toBeLessThan(100_000);
    }
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
