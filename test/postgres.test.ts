/**
 * What only PostgreSQL has: connection errors and their codes, the schema
 * option, the advisory lock between concurrent runs, result value
 * normalisation, and failures in the middle of a COPY.
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresConnection } from '../src/warehouses/postgres/postgres-target.js';
import { SparkifyError } from '../src/errors.js';
import { countRows, createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { ALL_TABLES } from '../src/schema/tables.js';
import { LocalSource } from '../src/sources/local.js';
import type { Source } from '../src/sources/source.js';
import { DuckDBWarehouse } from '../src/warehouses/duckdb/duckdb-warehouse.js';
import { classifyConnectError } from '../src/warehouses/postgres/postgres-errors.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { writeEdgeFixtures } from './helpers/edge-fixtures.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { TEST_PG, dropSchema, dump, runsHere, uniqueSchema } from './warehouses.js';

const enabled = runsHere('postgres');

async function openError(connection: Partial<PostgresConnection>, schema = 'public', connectTimeoutMs?: number): Promise<SparkifyError> {
  const err = await PostgresWarehouse.open({ connection: { ...TEST_PG, ...connection }, schema }, { connectTimeoutMs }).then(
    async (wh) => {
      await wh.close();
      throw new Error('expected open() to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SparkifyError);
  return err as SparkifyError;
}

async function withAdmin<T>(fn: (admin: PostgresWarehouse) => Promise<T>): Promise<T> {
  const admin = await PostgresWarehouse.open({ connection: TEST_PG, schema: 'public' });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

describe.skipIf(!enabled)('postgres: connecting', () => {
  const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  const nologin = `sparkify_nologin_${tag}`;
  const plain = `sparkify_plain_${tag}`;
  const guarded = `sparkify_guarded_${tag}`;

  beforeAll(() =>
    withAdmin(async (admin) => {
      await admin.execute(`CREATE ROLE ${nologin} NOLOGIN; CREATE ROLE ${plain} LOGIN; CREATE SCHEMA ${guarded}`);
    }),
  );
  afterAll(() =>
    withAdmin(async (admin) => {
      await admin.execute(`DROP SCHEMA IF EXISTS ${guarded} CASCADE`);
      await admin.execute(`DROP OWNED BY ${plain}; DROP ROLE IF EXISTS ${plain}; DROP ROLE IF EXISTS ${nologin}`);
    }),
  );

  it('names host and port when nothing listens there', async () => {
    const err = await openError({ port: 1 });
    expect(err).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE', transient: true });
    expect(err.message).toBe('Cannot reach PostgreSQL at 127.0.0.1:1: connection refused (nothing listens on that port).');
    expect(err.hint).toMatch(/host 127\.0\.0\.1 and port 1/);
  });

  it('says when the host name does not resolve', async () => {
    const err = await openError({ host: 'no-such-host.invalid' });
    expect(err).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE' });
    expect(err.message).toMatch(/^Cannot reach PostgreSQL at no-such-host\.invalid:5432: /);
  });

  it('gives up after the connect timeout when the server never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = performance.now();
      const err = await openError({ port }, 'public', 300);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(err).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE', transient: true });
      expect(err.message).toBe(`Cannot reach PostgreSQL at 127.0.0.1:${port}: timed out while connecting.`);
    } finally {
      silent.close();
    }
  });

  it('says when TLS is asked of a server without it, or a certificate does not check out', async () => {
    const err = await openError({ sslmode: 'require' });
    expect(err).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE' });
    expect(err.message).toBe('TLS to PostgreSQL at 127.0.0.1:5432 failed: The server does not support SSL connections.');
    expect(err.hint).toMatch(/sslmode=disable/);
    const where = { product: 'PostgreSQL', host: 'db.example.com', port: 5432, user: 'u', database: 'd' };
    const cert = classifyConnectError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), where);
    expect(cert).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE', message: 'TLS to PostgreSQL at db.example.com:5432 failed: self-signed certificate.' });
    expect(cert.hint).toMatch(/verify-full/);
  });

  it('names the database when it does not exist', async () => {
    const err = await openError({ database: 'no_such_db_sparkify' });
    expect(err).toMatchObject({ code: 'WAREHOUSE_DATABASE_MISSING' });
    expect(err.message).toBe('Database "no_such_db_sparkify" does not exist on PostgreSQL at 127.0.0.1:5432.');
    expect(err.hint).toMatch(/CREATE DATABASE no_such_db_sparkify/);
  });

  it('names the user, never the password, when the server refuses the login', async () => {
    for (const user of [`no_such_user_${tag}`, nologin]) {
      const err = await openError({ user, password: 'sekret-pw' });
      expect(err).toMatchObject({ code: 'WAREHOUSE_AUTH_FAILED' });
      expect(err.message).toContain(`refused user "${user}"`);
      expect(`${err.message} ${err.hint}`).not.toContain('sekret-pw');
    }
  });

  it('says which privilege is missing: a schema it may not use, a schema it may not create, tables it may not create', async () => {
    const noUsage = await openError({ user: plain }, guarded);
    expect(noUsage).toMatchObject({ code: 'WAREHOUSE_PERMISSION_DENIED' });
    expect(noUsage.message).toContain(`schema ${guarded}`);
    expect(noUsage.hint).toMatch(/grant/i);

    const noCreateSchema = await openError({ user: plain }, `${guarded}_new`);
    expect(noCreateSchema).toMatchObject({ code: 'WAREHOUSE_PERMISSION_DENIED' });
    expect(noCreateSchema.message).toMatch(/permission denied for database test/);

    await withAdmin((admin) => admin.execute(`GRANT USAGE ON SCHEMA ${guarded} TO ${plain}`));
    const wh = await PostgresWarehouse.open({ connection: { ...TEST_PG, user: plain }, schema: guarded });
    try {
      const err = await createTables(wh).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'WAREHOUSE_PERMISSION_DENIED', stage: 'create-tables' });
      expect((err as Error).message).toContain(`permission denied for schema ${guarded}`);
    } finally {
      await wh.close();
    }
  });

  it('keeps the password out of its description, and closes idempotently', async () => {
    const wh = await PostgresWarehouse.open({ connection: { ...TEST_PG, password: 'sekret-pw' }, schema: 'public' });
    expect(wh.description).toBe('PostgreSQL postgres@127.0.0.1:5432/test (schema public)');
    await wh.close();
    await wh.close();
    await expect(wh.query('SELECT 1 AS one')).rejects.toThrow(/closed/);
  });
});

describe.skipIf(!enabled)('postgres: one warehouse', () => {
  const schema = uniqueSchema('sparkify_pg');
  let wh: PostgresWarehouse;
  beforeAll(async () => {
    wh = await PostgresWarehouse.open({ connection: TEST_PG, schema });
  });
  afterAll(async () => {
    await wh?.close();
    await dropSchema(schema);
  });

  it('returns values as DuckDB does: integers as numbers, exact doubles, UTC timestamps with milliseconds', async () => {
    const [row] = await wh.query(`SELECT 1::smallint AS a, 2::int AS b, 3::bigint AS c, 9007199254740993::bigint AS big, COUNT(*) AS n,
        SUM(x) AS s, 0.1::float8 AS d, 1540919166796.0::float8 AS reg, 'Infinity'::float8 AS inf, 1.25::numeric AS dec,
        TIMESTAMP '2018-11-01 21:01:46.796123' AS ts, TIMESTAMP '2018-11-01 21:01:46' AS whole,
        TIMESTAMPTZ '2018-11-01 22:01:46.5+01' AS tz, DATE '2018-11-01' AS day, true AS yes, NULL::int AS nothing, 'x'::text AS t
      FROM (VALUES (1::bigint), (2::bigint)) v(x)`);
    expect(row).toEqual({
      a: 1, b: 2, c: 3, big: 9007199254740993n, n: 2, s: 3, d: 0.1, reg: 1540919166796, inf: Infinity, dec: 1.25,
      ts: '2018-11-01 21:01:46.796', whole: '2018-11-01 21:01:46.000', tz: '2018-11-01 21:01:46.500', day: '2018-11-01',
      yes: true, nothing: null, t: 'x',
    });
    const [ms] = await wh.query(`SELECT ${wh.dialect.epochMsToTimestamp('1541106106796')} AS t`);
    expect(ms).toEqual({ t: '2018-11-01 21:01:46.796' });
  });

  it('creates the schema it is given, works inside it, and compares text byte by byte', async () => {
    await createTables(wh);
    const tables = await wh.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`);
    expect(tables.map((t) => t.table_name)).toEqual(ALL_TABLES.map((t) => t.name).sort());
    const collations = await wh.query(`SELECT DISTINCT collation_name FROM information_schema.columns
      WHERE table_schema = '${schema}' AND data_type = 'character varying'`);
    expect(collations).toEqual([{ collation_name: 'C' }]);
    const other = await PostgresWarehouse.open({ connection: TEST_PG, schema: `${schema}_other` });
    try {
      await expect(countRows(other)).rejects.toMatchObject({ code: 'WAREHOUSE_NOT_READY' });
    } finally {
      await other.close();
      await dropSchema(`${schema}_other`);
    }
  });

  it('keeps every star table keyed after etl rebuilds the keys around its inserts, and enforces them', async () => {
    await createTables(wh);
    const keys = `SELECT c.conrelid::regclass::text AS t, c.conname AS name FROM pg_constraint c
      JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = '${schema}' AND c.contype = 'p' ORDER BY 2`;
    const before = await wh.query(keys);
    expect(before.map((k) => k.name)).toEqual(['artists_pkey', 'etl_files_pkey', 'etl_runs_pkey', 'songplays_pkey', 'songs_pkey', 'time_pkey', 'users_pkey']);
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, until: '2018-11-20' });
    // A daily run writes into the keyed tables; a full refresh builds them again.
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, fullRefresh: true });
    expect(await wh.query(keys)).toEqual(before);
    await expect(wh.execute('INSERT INTO users SELECT * FROM users LIMIT 1')).rejects.toMatchObject({ code: 'WAREHOUSE_QUERY_FAILED' });
  });

  it('analyzes every table a load replaced, so the first queries are planned on fresh statistics', async () => {
    await createTables(wh);
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    const analyzed = await wh.query(`SELECT relname AS t, n_live_tup AS rows FROM pg_stat_user_tables
      WHERE schemaname = '${schema}' AND last_analyze IS NOT NULL ORDER BY 1`);
    expect(analyzed.map((r) => r.t)).toEqual(ALL_TABLES.map((t) => t.name).sort());
    const [stats] = await wh.query(`SELECT reltuples AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = '${schema}' AND c.relname = 'songplays'`);
    expect(stats).toEqual({ n: 6820 });
  });

  it('reports a failed statement with the first line of the server message', async () => {
    const err = await wh.query('SELEC 1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WAREHOUSE_QUERY_FAILED', message: 'PostgreSQL: syntax error at or near "SELEC"' });
  });

  it('rolls back a COPY the server rejects halfway, and stays usable', async () => {
    await createTables(wh);
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    const before = await dump(wh, 'staging_events', ['ts', 'userId']);
    // A check the data breaks somewhere in the middle, put on the copy the run loads as soon as it is
    // created (an event trigger): the server fails the COPY after some rows.
    const copy = `${schema}._sparkify_next_staging_events`;
    const fn = `${schema}.add_small_items`;
    await wh.execute(`CREATE FUNCTION ${fn}() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = '${copy}') THEN
          EXECUTE 'ALTER TABLE ${copy} ADD CONSTRAINT small_items CHECK (itemInSession < 100)';
        END IF;
      END $$;
      CREATE EVENT TRIGGER ${schema}_small_items ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION ${fn}()`);
    try {
      const err = await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, fullRefresh: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'WAREHOUSE_QUERY_FAILED', stage: 'load staging_events' });
      expect((err as Error).message).toMatch(/small_items/);
    } finally {
      await wh.execute(`DROP EVENT TRIGGER ${schema}_small_items; DROP FUNCTION ${fn}()`);
    }
    expect(await dump(wh, 'staging_events', ['ts', 'userId'])).toEqual(before);
    // The run's copies are gone, and the connection still works.
    expect(await wh.query(`SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = '${schema}' AND tablename LIKE '\\_sparkify\\_next\\_%'`)).toEqual([{ n: 0 }]);
  });

  it('cancels the COPY when a source fails halfway, and keeps the tables as they were', async () => {
    await createTables(wh);
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    const before = await countRows(wh);
    const local = new LocalSource(SAMPLE_LOGS);
    let reads = 0;
    const failing: Source = {
      kind: 'local',
      uri: local.uri,
      list: () => local.list(),
      read: async (f) => {
        if (++reads === 20) throw new SparkifyError('SOURCE_READ_FAILED', 'disk went away');
        return local.read(f);
      },
      stream: (f) => local.stream(f),
      localPath: () => undefined,
      close: async () => undefined,
    };
    const err = await etl(wh, { songs: SAMPLE_SONGS, logs: failing, fullRefresh: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_READ_FAILED', stage: 'load staging_events', message: 'disk went away' });
    expect(await countRows(wh)).toEqual(before);
  });
});

describe.skipIf(!enabled)('postgres: concurrent runs', () => {
  const schema = uniqueSchema('sparkify_lock');
  const opened: Warehouse[] = [];
  const open = async (s = schema) => {
    const wh = await PostgresWarehouse.open({ connection: TEST_PG, schema: s });
    opened.push(wh);
    return wh;
  };
  afterAll(async () => {
    for (const wh of opened) await wh.close();
    await dropSchema(schema);
    await dropSchema(`${schema}_b`);
  });

  it('lets one run at a time load a schema: the second fails fast with WAREHOUSE_LOCKED', async () => {
    const a = await open();
    const b = await open();
    const release = await a.lock();
    const err = (await b.lock().catch((e: unknown) => e)) as SparkifyError;
    expect(err).toMatchObject({ code: 'WAREHOUSE_LOCKED' });
    expect(err.message).toMatch(new RegExp(`^Another sparkify run is loading schema ${schema} on 127\\.0\\.0\\.1:5432/test \\(server process \\d+, sparkify`));
    expect(err.hint).toMatch(/pg_terminate_backend\(\d+\)/);
    // Another schema is not blocked.
    const other = await open(`${schema}_b`);
    await (await other.lock())();
    await release();
    await release();
    await (await b.lock())();
  });

  it('refuses an etl while another is loading, and leaves that one to finish', async () => {
    const a = await open();
    const b = await open();
    await createTables(a);
    let started!: () => void;
    const loading = new Promise<void>((resolve) => (started = resolve));
    const first = etl(a, {
      songs: SAMPLE_SONGS,
      logs: SAMPLE_LOGS,
      onEvent: (e) => e.type === 'stage-start' && started(),
    });
    await loading;
    await expect(etl(b, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS })).rejects.toMatchObject({ code: 'WAREHOUSE_LOCKED' });
    await expect(createTables(b)).rejects.toMatchObject({ code: 'WAREHOUSE_LOCKED' });
    expect((await first).counts.songplays).toBe(6820);
  });

  it('says the session was ended when an administrator stops a load, and rolls it back', async () => {
    const a = await open(`${schema}_b`);
    const admin = await open(`${schema}_b`);
    await createTables(a);
    const [{ pid }] = (await a.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    // The sixth log file is handed over only once the session has been ended, while the COPY is open.
    const local = new LocalSource(SAMPLE_LOGS);
    const files = await local.list();
    const logs: Source = {
      kind: 'local',
      uri: local.uri,
      list: async () => files,
      read: async (f) => {
        if (f === files[5]) await admin.query(`SELECT pg_terminate_backend(${pid}) AS ok`);
        return local.read(f);
      },
      stream: (f) => local.stream(f),
      localPath: () => undefined,
      close: async () => undefined,
    };
    // Without retries, to see the error itself (retries.test.ts: the same fault, retried).
    const err = await etl(a, { songs: SAMPLE_SONGS, logs, retries: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE', transient: true, stage: 'load staging_events' });
    // Usually the server's reason arrives before the socket closes; under load the close may win.
    expect((err as Error).message).toMatch(/ended the session: terminating connection due to administrator command|Lost the connection/);
    await expect(a.query('SELECT 1 AS one')).rejects.toMatchObject({ code: 'WAREHOUSE_UNREACHABLE', message: /Lost the connection/ });
    // Nothing is published before the end of a run: not even the songs it had loaded.
    expect(await countRows(admin)).toMatchObject({ staging_events: 0, staging_songs: 0 });
  });

  it('says so when the schema was dropped under it', async () => {
    const gone = `${schema}_gone`;
    const wh = await open(gone);
    await dropSchema(gone);
    await expect(wh.lock()).rejects.toMatchObject({ code: 'WAREHOUSE_NOT_READY', message: expect.stringContaining(`Schema ${gone} no longer exists`) });
  });

  it('frees the lock when the holder goes away without releasing it', async () => {
    const a = await open();
    const b = await open();
    await a.lock();
    await expect(b.lock()).rejects.toMatchObject({ code: 'WAREHOUSE_LOCKED' });
    await a.close();
    await (await b.lock())();
  });
});

describe.skipIf(!enabled)('postgres: a database with a linguistic collation', () => {
  const db = `sparkify_icu_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  let icu = true;
  beforeAll(() =>
    withAdmin(async (admin) => {
      await admin
        .execute(`CREATE DATABASE ${db} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`)
        .catch(() => (icu = false));
    }),
  );
  afterAll(() => withAdmin((admin) => admin.execute(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)));

  it('picks the same rows as DuckDB, whatever the database sorts text by', async (ctx) => {
    if (!icu) ctx.skip();
    const edge = writeEdgeFixtures();
    const pg = await PostgresWarehouse.open({ connection: { ...TEST_PG, database: db }, schema: 'public' });
    const duck = await DuckDBWarehouse.open(':memory:');
    try {
      const [{ lt }] = (await pg.query(`SELECT 'Zed' < 'apple' AS lt`)) as [{ lt: boolean }];
      expect(lt).toBe(false); // the database itself sorts linguistically
      for (const wh of [pg, duck]) {
        await createTables(wh);
        await etl(wh, { songs: edge.songs, logs: edge.logs });
      }
      for (const t of ['songs', 'users', 'artists', 'songplays']) {
        const columns = ALL_TABLES.find((x) => x.name === t)!.columns.map((c) => c.name);
        expect(await dump(pg, t, columns)).toEqual(await dump(duck, t, columns));
      }
    } finally {
      await pg.close();
      await duck.close();
      await import('node:fs').then((fs) => fs.rmSync(path.dirname(edge.songs), { recursive: true, force: true }));
    }
  });
});
