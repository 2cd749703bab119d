/**
 * One question to the warehouse (`sparkify query`'s library side), on every
 * warehouse that runs here: answers, read-only by default and enforced by the
 * warehouse where it can, one statement at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oneStatement, runQuery } from '../src/analytics/query.js';
import { openWarehouse } from '../src/warehouses/open-warehouse.js';
import { sampleWarehouse } from './helpers/faults.js';
import { testWarehouses } from './warehouses.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-query-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const kind of testWarehouses()) {
  describe(`${kind.name}: queries`, () => {
    const warehouse = sampleWarehouse(kind);

    it('answers a query with its columns and rows', async () => {
      const r = await runQuery(warehouse(), '-- free and paid\nSELECT level, COUNT(*) AS plays FROM songplays GROUP BY level ORDER BY level;');
      expect(r.columns).toEqual(['level', 'plays']);
      expect(r.rows).toEqual([
        { level: 'free', plays: 1229 },
        { level: 'paid', plays: 5591 },
      ]);
    });

    it('refuses what would change the warehouse unless asked to write, and changes nothing', async () => {
      for (const sql of ['DELETE FROM songplays', 'drop table users', ' /* x */ INSERT INTO time SELECT * FROM time', 'CREATE TABLE x AS SELECT 1 AS a']) {
        await expect(runQuery(warehouse(), sql), sql).rejects.toMatchObject({ code: 'QUERY_REFUSED' });
      }
      expect((await runQuery(warehouse(), 'SELECT COUNT(*) AS n FROM songplays')).rows).toEqual([{ n: 6820 }]);
      await runQuery(warehouse(), 'CREATE TABLE scratch_q AS SELECT 1 AS a', { write: true });
      expect((await runQuery(warehouse(), 'SELECT a FROM scratch_q')).rows).toEqual([{ a: 1 }]);
      await runQuery(warehouse(), 'DROP TABLE scratch_q', { write: true });
    });

    if (kind.name === 'postgres') {
      it('PostgreSQL enforces it too: a query whose function writes fails in the READ ONLY transaction', async () => {
        await warehouse().execute('CREATE SEQUENCE IF NOT EXISTS q_seq');
        await expect(runQuery(warehouse(), "SELECT nextval('q_seq') AS n")).rejects.toThrow(/read-only transaction/);
        // The session is usable afterwards, outside any transaction.
        expect((await runQuery(warehouse(), 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });
    }
  });
}

describe('DuckDB opened read-only (as sparkify query opens a file)', () => {
  it('reads, and the engine itself refuses a write even when asked for one', async () => {
    const file = path.join(dir, 'ro.duckdb');
    const rw = await openWarehouse({ kind: 'duckdb', path: file });
    await rw.execute('CREATE TABLE t AS SELECT 42 AS answer');
    await rw.close();
    const ro = await openWarehouse({ kind: 'duckdb', path: file }, { readOnly: true });
    try {
      expect((await runQuery(ro, 'SELECT answer FROM t')).rows).toEqual([{ answer: 42 }]);
      await expect(runQuery(ro, 'DELETE FROM t', { write: true })).rejects.toThrow(/read-only/i);
    } finally {
      await ro.close();
    }
  });
});

describe('one statement', () => {
  it('strips comments and a final semicolon, keeps semicolons inside literals, refuses two statements or none', () => {
    expect(oneStatement("SELECT 'a;b' AS x; -- done\n")).toBe("SELECT 'a;b' AS x");
    expect(oneStatement('SELECT 1 /* ; */ AS "odd;name"')).toBe('SELECT 1   AS "odd;name"');
    expect(() => oneStatement('SELECT 1; SELECT 2')).toThrow('The SQL holds 2 statements; a query runs one.');
    expect(() => oneStatement(' -- nothing\n ;')).toThrow('There is no SQL to run.');
  });
});
