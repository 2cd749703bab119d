/**
 * `sparkify doctor` on the warehouses that run here (DuckDB, and the local
 * PostgreSQL when it is up): every check it can run passes, a transaction that
 * does not roll back is caught, a held run lock keeps the writing checks from
 * running, nothing named _sparkify_doctor* is left behind, and the binary
 * prints and exits as documented.
 *
 * Check 8 ("COPY's load errors are found and reconciled") runs only on a real
 * Redshift cluster (`sparkify doctor --warehouse redshift --logs s3://…`): it
 * exists to verify there what the code takes from AWS documentation, so it is
 * deliberately not tested against a fake here; these tests only see it skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCTOR_CHECKS, doctor, type DoctorReport } from '../src/pipeline/doctor.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import type { Row, Warehouse } from '../src/warehouses/warehouse.js';
import { runCli } from './helpers/cli.js';
import { TEST_PG, dropSchema, runsHere, testWarehouses, uniqueSchema, type OpenedTestWarehouse, type TestWarehouse } from './warehouses.js';

const NAMES = Object.values(DOCTOR_CHECKS);
const READ_ONLY = [DOCTOR_CHECKS.text, DOCTOR_CHECKS.names, DOCTOR_CHECKS.weeks, DOCTOR_CHECKS.millis];

function check(report: DoctorReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${name} in ${JSON.stringify(report)}`);
  return found;
}

/** The tables named _sparkify_doctor* in the warehouse's own space. */
async function doctorTables(kind: TestWarehouse, wh: Warehouse): Promise<string[]> {
  const rows = await wh.query<{ name: string }>(kind.tablesSql);
  return rows.map((r) => String(r.name)).filter((n) => n.startsWith('_sparkify_doctor')).sort();
}

/** A warehouse whose `transaction` runs `fn` with no BEGIN or ROLLBACK: every statement commits on its own. */
function withoutRollback(wh: Warehouse): Warehouse {
  return {
    kind: wh.kind,
    description: wh.description,
    dialect: wh.dialect,
    execute: (sql) => wh.execute(sql),
    query: <T extends Row = Row>(sql: string) => wh.query<T>(sql),
    transaction: (fn) => fn(),
    sourceIssues: (table, source) => wh.sourceIssues(table, source),
    loadStaging: (table, input) => wh.loadStaging(table, input),
    lock: () => wh.lock(),
    cancel: () => wh.cancel(),
    reconnect: () => wh.reconnect(),
    close: () => wh.close(),
  };
}

for (const kind of testWarehouses()) {
  describe(`${kind.name}: doctor`, () => {
    let ctx: OpenedTestWarehouse;
    beforeAll(async () => {
      ctx = await kind.open();
    });
    afterAll(async () => {
      await ctx?.cleanup();
    });

    it('passes checks 1-7, skips the Redshift check, and leaves no scratch table (a leftover one included)', async () => {
      const wh = ctx.warehouse;
      // A doctor killed mid-check leaves its scratch table; the next one drops it first.
      await wh.execute('CREATE TABLE _sparkify_doctor (leftover INTEGER)');
      expect(await doctorTables(kind, wh)).toEqual(['_sparkify_doctor']);

      const report = await doctor(wh);
      expect(report.warehouse).toBe(wh.description);
      expect(report.checks.map((c) => c.name)).toEqual(NAMES);
      expect(report.checks.map((c) => [c.name, c.status])).toEqual([...NAMES.slice(0, 7).map((n) => [n, 'pass']), [DOCTOR_CHECKS.copy, 'skip']]);
      expect(check(report, DOCTOR_CHECKS.connect).detail).toBe(wh.description);
      expect(check(report, DOCTOR_CHECKS.table).detail).toBe('_sparkify_doctor created and dropped');
      // The rollback followed the statement meant to fail: a conversion of 'x' to an integer.
      expect(check(report, DOCTOR_CHECKS.rollback).detail).toMatch(/^its INSERT was rolled back when the next statement failed \(.*x/);
      // Neither DuckDB nor PostgreSQL ignores trailing spaces in `=` (Redshift does).
      expect(check(report, DOCTOR_CHECKS.text).detail).toBe("LENGTH('a ') is 2; = sees trailing spaces too ('a ' <> 'a')");
      expect(check(report, DOCTOR_CHECKS.names).detail).toBe("cast to VARCHAR(128), 'users' and 'songplays' come back as written; a bare literal comes back unpadded too");
      expect(check(report, DOCTOR_CHECKS.weeks).detail).toBe('week of 2018-12-31 = 1 (ISO 1), of 2021-01-03 = 53 (ISO 53); DOW of Sunday 2018-11-04 = 0 (0)');
      expect(check(report, DOCTOR_CHECKS.millis).detail).toBe('1541105830796 ms is 2018-11-01 20:57:10.796');
      expect(check(report, DOCTOR_CHECKS.copy).detail).toBe('Redshift only');
      expect(await doctorTables(kind, wh)).toEqual([]);
    });

    it('fails check 3 on a warehouse whose failed transaction keeps its rows, and still drops the table', async () => {
      const report = await doctor(withoutRollback(ctx.warehouse));
      const rollback = check(report, DOCTOR_CHECKS.rollback);
      expect(rollback).toEqual({ name: DOCTOR_CHECKS.rollback, status: 'fail', detail: '1 row of the failed transaction stayed: it was not rolled back' });
      // One failing check stops no other.
      expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual([DOCTOR_CHECKS.rollback]);
      expect(check(report, DOCTOR_CHECKS.table).status).toBe('pass');
      for (const name of READ_ONLY) expect(check(report, name).status).toBe('pass');
      expect(await doctorTables(kind, ctx.warehouse)).toEqual([]);
    });

    it('stops with ABORTED when its signal is aborted, having run nothing and left nothing', async () => {
      const controller = new AbortController();
      controller.abort('SIGINT');
      await expect(doctor(ctx.warehouse, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await doctorTables(kind, ctx.warehouse)).toEqual([]);
    });
  });
}

describe.skipIf(!runsHere('postgres'))('postgres: doctor and the run lock', () => {
  const schema = uniqueSchema('sparkify_doctor');
  let wh: PostgresWarehouse;
  let other: PostgresWarehouse;
  beforeAll(async () => {
    wh = await PostgresWarehouse.open({ connection: TEST_PG, schema });
    other = await PostgresWarehouse.open({ connection: TEST_PG, schema });
  });
  afterAll(async () => {
    await wh?.close();
    await other?.close();
    await dropSchema(schema);
  });

  it('reports the writing checks as not run while another run holds the lock; the read-only checks still pass', async () => {
    const release = await other.lock();
    let report: DoctorReport;
    try {
      report = await doctor(wh);
    } finally {
      await release();
    }
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      [DOCTOR_CHECKS.connect, 'pass'],
      [DOCTOR_CHECKS.table, 'fail'],
      [DOCTOR_CHECKS.rollback, 'skip'],
      ...READ_ONLY.map((n) => [n, 'pass']),
      [DOCTOR_CHECKS.copy, 'skip'],
    ]);
    expect(check(report, DOCTOR_CHECKS.table).detail).toMatch(/^another run holds the lock: Another sparkify run is loading schema sparkify_doctor_\w+ on .*; the checks that write were not run$/);
    expect(check(report, DOCTOR_CHECKS.rollback).detail).toMatch(/^not run: another run holds the lock: /);
    expect(check(report, DOCTOR_CHECKS.copy).detail).toBe('Redshift only');
    const tables = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '${schema}' AND table_name LIKE '\\_sparkify\\_doctor%'`);
    expect(tables).toEqual([{ n: 0 }]);
  });

  it('releases its own lock: another run takes it as soon as the doctor is done', async () => {
    const report = await doctor(wh);
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const release = await other.lock();
    await release();
  });

  it('exits 1 from the binary while the lock is held, with the failed check in the JSON', async () => {
    const release = await other.lock();
    try {
      const target = `postgres://${TEST_PG.user}@${TEST_PG.host}:${TEST_PG.port}/${TEST_PG.database}`;
      const r = await runCli(['doctor', '--warehouse', target, '--json'], { env: { SPARKIFY_SCHEMA: schema } });
      expect(r.code).toBe(1);
      const envelope = JSON.parse(r.stdout) as { ok: boolean; warehouse: string; result: Pick<DoctorReport, 'checks'>; error: { code: string; message: string } };
      expect(envelope.ok).toBe(false);
      expect(envelope.error.code).toBe('CHECK_FAILED');
      expect(envelope.error.message).toContain(DOCTOR_CHECKS.table);
      const out = envelope.result;
      expect(out.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual([DOCTOR_CHECKS.table]);
      expect(envelope.warehouse).toContain(schema);
    } finally {
      await release();
    }
  });
});

describe.skipIf(!runsHere('duckdb'))('sparkify doctor (the binary)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-doctor-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one line per check and exits 0 when nothing fails', async () => {
    const r = await runCli(['doctor', '--warehouse', path.join(dir, 'doctor.duckdb')], { cwd: dir });
    expect(r.stderr).toBe(`sparkify: DuckDB ${path.join(dir, 'doctor.duckdb')}\n`);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^[✓✗–] /.test(l));
    expect(lines).toHaveLength(8);
    expect(lines.map((l) => l.slice(0, 1))).toEqual(['✓', '✓', '✓', '✓', '✓', '✓', '✓', '–']);
    NAMES.forEach((name, i) => expect(lines[i]!.slice(2).startsWith(name)).toBe(true));
    expect(lines[6]).toMatch(/^✓ milliseconds survive\s+1541105830796 ms is 2018-11-01 20:57:10\.796$/);
    expect(lines[7]).toMatch(/^– COPY's load errors are found and reconciled\s+Redshift only$/);
    expect(r.stdout).toContain('\n7 passed, 0 failed, 1 skipped.\n');
  });

  it('answers --json with the warehouse and eight checks', async () => {
    const r = await runCli(['doctor', '--warehouse', path.join(dir, 'doctor.duckdb'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const envelope = JSON.parse(r.stdout) as { warehouse: string; result: Pick<DoctorReport, 'checks'> };
    expect(Object.keys(envelope)).toEqual(['ok', 'command', 'warehouse', 'result', 'warnings']);
    expect(Object.keys(envelope.result)).toEqual(['checks']);
    expect(envelope.warehouse).toBe(`DuckDB ${path.join(dir, 'doctor.duckdb')}`);
    const out = envelope.result;
    expect(out.checks).toHaveLength(8);
    expect(out.checks.map((c) => c.name)).toEqual(NAMES);
    expect(out.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'skip']);
    for (const c of out.checks) expect(Object.keys(c)).toEqual(['name', 'status', 'detail']);
  });

  it('is listed in the help', async () => {
    const r = await runCli(['--help'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}doctor \[options\]/m);
    expect(r.stdout).toContain('$ sparkify doctor --warehouse redshift');
  });
});
