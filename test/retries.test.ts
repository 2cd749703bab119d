/**
 * Transient faults are retried a bounded number of times, with a pause, on a
 * new connection, and reported; anything else fails at once. A retried run
 * ends exactly as a clean run; one that gives up changes no table.
 *
 * On every warehouse here, faults are injected at the seam (a statement that
 * throws a transient error). On PostgreSQL the connection is also really cut:
 * the server process is terminated in the middle of a COPY.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparkifyError } from '../src/errors.js';
import { createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import type { PipelineEvent } from '../src/pipeline/report.js';
import { classifyPgError } from '../src/warehouses/postgres/postgres-errors.js';
import { acquireTableLock } from '../src/warehouses/redshift/redshift-lock.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { dumpAll, openWithSample, withFaults } from './helpers/faults.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { runsHere, TEST_PG, testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

const transient = () => new SparkifyError('WAREHOUSE_UNREACHABLE', 'Lost the connection: the connection was reset.', { transient: true });
// Full runs: the faults are in the statements of a full run (a daily run of the same files has nothing to do).
const FAST = { retryDelayMs: 1, fullRefresh: true };

for (const kind of testWarehouses()) {
  describe(`${kind.name}: retrying transient faults`, () => {
    let ctx: OpenedTestWarehouse;
    let clean: Record<string, unknown[][]>;
    beforeAll(async () => {
      ctx = await openWithSample(kind);
      clean = await dumpAll(ctx.warehouse, { ledger: false });
    });
    afterAll(() => ctx?.cleanup());

    it.each([
      ['the songs load', 'CREATE TABLE _sparkify_next_staging_songs'],
      ['the transform', 'INSERT INTO _sparkify_next_time'],
      ['the swap', 'ALTER TABLE _sparkify_next_songplays RENAME'],
    ])('a fault in %s: starts again on a new connection, says so, and ends as a clean run', async (_name, prefix) => {
      let left = 1;
      const f = withFaults(ctx.warehouse, (sql) => (sql.trimStart().startsWith(prefix) && left-- > 0 ? transient() : undefined));
      const events: PipelineEvent[] = [];
      const report = await etl(f.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, ...FAST, onEvent: (e) => events.push(e) });
      expect(f.thrown).toBe(1);
      expect(f.reconnects).toBe(1);
      expect(report.retries).toHaveLength(1);
      expect(report.retries[0]).toMatchObject({ attempt: 2, attempts: 3, code: 'WAREHOUSE_UNREACHABLE', message: 'Lost the connection: the connection was reset.' });
      expect(events.filter((e) => e.type === 'retry')).toEqual([{ type: 'retry', ...report.retries[0] }]);
      expect(await dumpAll(ctx.warehouse, { ledger: false })).toEqual(clean);
    });

    it('gives up after the last retry, saying how often it tried, and changes nothing', async () => {
      const f = withFaults(ctx.warehouse, (sql) => (sql.trimStart().startsWith('INSERT INTO _sparkify_next_users') ? transient() : undefined));
      const err = (await etl(f.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, ...FAST, retries: 3 }).catch((e: unknown) => e)) as SparkifyError;
      expect(err).toBeInstanceOf(SparkifyError);
      expect(err).toMatchObject({ code: 'WAREHOUSE_UNREACHABLE', stage: 'transform', transient: true });
      expect(err.message).toContain('(failed 4 times; no table was changed)');
      expect(f.thrown).toBe(4);
      expect(f.reconnects).toBe(3);
      expect(await dumpAll(ctx.warehouse, { ledger: false })).toEqual(clean);
    });

    it('fails at once on a fault that is not transient, and with --retries 0 on one that is', async () => {
      const permanent = withFaults(ctx.warehouse, (sql) =>
        sql.trimStart().startsWith('INSERT INTO _sparkify_next_users') ? new SparkifyError('WAREHOUSE_PERMISSION_DENIED', 'permission denied for schema x') : undefined,
      );
      await expect(etl(permanent.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, ...FAST })).rejects.toMatchObject({ code: 'WAREHOUSE_PERMISSION_DENIED' });
      expect([permanent.thrown, permanent.reconnects]).toEqual([1, 0]);

      const off = withFaults(ctx.warehouse, (sql) => (sql.trimStart().startsWith('INSERT INTO _sparkify_next_users') ? transient() : undefined));
      const err = (await etl(off.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, ...FAST, retries: 0 }).catch((e: unknown) => e)) as SparkifyError;
      expect(err.message).toBe('Lost the connection: the connection was reset.');
      expect([off.thrown, off.reconnects]).toEqual([1, 0]);
      expect(await dumpAll(ctx.warehouse, { ledger: false })).toEqual(clean);
    });

    it('stops while it waits to retry when the run is stopped (Ctrl-C)', async () => {
      const controller = new AbortController();
      const f = withFaults(ctx.warehouse, (sql) => (sql.trimStart().startsWith('INSERT INTO _sparkify_next_users') ? transient() : undefined));
      const run = etl(f.warehouse, {
        songs: SAMPLE_SONGS,
        logs: SAMPLE_LOGS,
        fullRefresh: true,
        retryDelayMs: 60_000,
        signal: controller.signal,
        onEvent: (e) => e.type === 'retry' && setTimeout(() => controller.abort('SIGINT'), 10),
      });
      await expect(run).rejects.toMatchObject({ code: 'ABORTED', message: 'Stopped while waiting to retry; no table was changed.' });
      expect(f.reconnects).toBe(0);
      expect(await dumpAll(ctx.warehouse, { ledger: false })).toEqual(clean);
    });

    it('create-tables retries too', async () => {
      let left = 1;
      const f = withFaults(ctx.warehouse, (sql) => (sql.startsWith('CREATE TABLE') && left-- > 0 ? transient() : undefined));
      await createTables(f.warehouse, FAST);
      expect([f.thrown, f.reconnects]).toEqual([1, 1]);
      await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, fullRefresh: true });
      expect(await dumpAll(ctx.warehouse, { ledger: false })).toEqual(clean);
    });
  });
}

describe.skipIf(!runsHere('postgres'))('postgres: the connection really cut in the middle of a COPY', () => {
  let ctx: OpenedTestWarehouse;
  let clean: Record<string, unknown[][]>;
  const admin = new pg.Client(TEST_PG);
  beforeAll(async () => {
    ctx = await openWithSample(testWarehouses().find((w) => w.name === 'postgres')!);
    clean = await dumpAll(ctx.warehouse, { ledger: false });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await ctx?.cleanup();
  });

  const backend = async (wh: Warehouse) => Number((await wh.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid);

  it('reconnects, takes the lock again, loads everything once, and reports the retry', async () => {
    const first = await backend(ctx.warehouse);
    let killed: Promise<unknown> | undefined;
    const report = await etl(ctx.warehouse, {
      songs: SAMPLE_SONGS,
      logs: SAMPLE_LOGS,
      ...FAST,
      onEvent: (e) => {
        // Once the events COPY has sent some records: the server process goes away, as in a restart.
        if (!killed && e.type === 'progress' && e.stage === 'load staging_events' && e.records > 0) {
          killed = admin.query('SELECT pg_terminate_backend($1)', [first]);
        }
      },
    });
    await killed;
    expect(report.retries).toHaveLength(1);
    expect(report.retries[0]).toMatchObject({ attempt: 2, code: 'WAREHOUSE_UNREACHABLE', stage: 'load staging_events' });
    expect(await backend(ctx.warehouse)).not.toBe(first);
    expect(await dumpAll(ctx.warehouse, { ledger: false })).toEqual(clean);
    // The lock is free: the next run takes it at once.
    const release = await ctx.warehouse.lock();
    await release();
  });
});

describe.skipIf(!runsHere('postgres'))('postgres: `sparkify run` when its server process is ended', () => {
  let ctx: OpenedTestWarehouse;
  const admin = new pg.Client(TEST_PG);
  beforeAll(async () => {
    ctx = await testWarehouses().find((w) => w.name === 'postgres')!.open();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await ctx?.cleanup();
  });

  /** `sparkify run` with `flags`, its server process ended as soon as it holds the lock. */
  function runAndCut(flags: string[]): Promise<CliRun> {
    const schema = ctx.env.SPARKIFY_SCHEMA!;
    // The run's server process: the one holding sparkify's advisory lock on this schema.
    const holder = `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${0x5350524b}
                      AND l.objid = (SELECT oid FROM pg_namespace WHERE nspname = $1)`;
    return runCli(['run', '--warehouse', ctx.target, ...flags], { env: { SPARKIFY_RETRIES: '1', ...ctx.env } }, (child) => {
      let sent = false;
      const timer = setInterval(() => {
        if (sent) return;
        void admin.query(holder, [schema]).then(({ rows }) => {
          if (sent || rows.length === 0) return;
          sent = true;
          return admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        });
      }, 5);
      child.on('close', () => clearInterval(timer));
    });
  }

  it('says it starts again, why, and that no table was changed; then finishes with exit 0', async () => {
    const r = await runAndCut([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/↻ WAREHOUSE_UNREACHABLE( during [a-z_ ]+)?: .*\n  starting again in [0-9.]+ s \(attempt 2 of 2\); no table was changed\n/);
    expect(r.stdout).toContain('Done in');
  });

  it('lists the retry in --json', async () => {
    const r = await runAndCut(['--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout).result as { retries: { attempt: number; attempts: number; code: string }[]; counts: Record<string, number> };
    expect(report.retries).toEqual([expect.objectContaining({ attempt: 2, attempts: 2, code: 'WAREHOUSE_UNREACHABLE' })]);
    expect(report.counts.songplays).toBeGreaterThan(0);
  });
});

describe('what counts as transient', () => {
  const where = { product: 'Redshift', host: 'h', port: 5439, user: 'u', database: 'd' };
  it.each([
    [{ code: 'XX000', message: '1023', detail: 'Serializable isolation violation on table - 100, transactions forming the cycle are: 1, 2' }, true],
    [{ code: '40001', message: 'could not serialize access due to concurrent update' }, true],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, true],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, true],
    [{ code: '53300', message: 'sorry, too many clients already' }, true],
    [{ code: '42501', message: 'permission denied for schema x' }, false],
    [{ code: '22P02', message: 'invalid input syntax for type integer' }, false],
  ])('%o → transient %s', (err, expected) => {
    const e = classifyPgError(err, where);
    expect(e.transient).toBe(expected);
    if ('detail' in err) expect(e.message).toContain('Serializable isolation violation');
  });
});

describe('the Redshift lock table, after a connection died under it (run on PostgreSQL)', () => {
  it.skipIf(!runsHere('postgres'))('lets the same process take it again, and nobody else', async () => {
    const ctx = await testWarehouses().find((w) => w.name === 'postgres')!.open();
    try {
      let dead = false;
      const db = withFaults(ctx.warehouse, (sql) => (dead && sql.startsWith('DELETE') ? new Error('Connection terminated') : undefined)).warehouse;
      const release = await acquireTableLock(db, { where: 'schema x', schema: 'x', holder: 'first attempt' });
      dead = true;
      await release(); // fails quietly: the row stays
      dead = false;
      const [row] = await ctx.warehouse.query<{ holder: string }>('SELECT holder FROM sparkify_lock');
      expect(row?.holder).toBe('first attempt');
      // Another run (another process) still finds it locked …
      await ctx.warehouse.execute("INSERT INTO sparkify_lock VALUES ('other', 'someone else', now(), now() + interval '1 hour')");
      await expect(acquireTableLock(db, { where: 'schema x', schema: 'x' })).rejects.toMatchObject({ code: 'WAREHOUSE_LOCKED' });
      await ctx.warehouse.execute("DELETE FROM sparkify_lock WHERE token = 'other'");
      // … but this process's retry clears its own stale row and takes the lock.
      const again = await acquireTableLock(db, { where: 'schema x', schema: 'x', holder: 'retry' });
      expect((await ctx.warehouse.query<{ holder: string }>('SELECT holder FROM sparkify_lock')).map((r) => r.holder)).toEqual(['retry']);
      await again();
    } finally {
      await ctx.cleanup();
    }
  });
});
