/**
 * Ctrl-C (SIGINT) and SIGTERM stop a run cleanly, on every warehouse that
 * runs here: the running statement is cancelled, the run's copies dropped,
 * the lock released before it exits, nothing changed; the process says which stage
 * it stopped and exits with 128 + the signal's number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../src/pipeline/create-tables.js';
import { copiedSampleLogs, openWithSample } from './helpers/faults.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { SAMPLE_SONGS } from './helpers/oracle.js';
import { testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

const COPIES = 12;
const big = copiedSampleLogs(COPIES, 'signals');

/** Runs `sparkify etl` and sends `signal` once the events load has started; resolves with how it ended. */
function etlAndStop(target: string, env: Record<string, string>, signal: NodeJS.Signals): Promise<CliRun> {
  return runCli(['etl', '--warehouse', target, '--songs', SAMPLE_SONGS, '--logs', big.logs(), '--verbose'], { env }, (child) => {
    let stderr = '';
    let sent = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('… load staging_events')) {
        sent = true;
        setTimeout(() => child.kill(signal), 100);
      }
    });
  });
}

for (const kind of testWarehouses()) {
  describe(`${kind.name}: stopping a run`, () => {
    let ctx: OpenedTestWarehouse;
    let before: Record<string, number>;
    beforeAll(async () => {
      ctx = await openWithSample(kind);
      before = await countRows(ctx.warehouse);
      // DuckDB lets one process at a time open its file: the child needs it to itself.
      if (kind.name === 'duckdb') await ctx.warehouse.close();
    });
    afterAll(() => ctx?.cleanup());

    it.each([
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const)('on %s: says so, exits %i, changes nothing, and frees the lock at once', async (signal, code) => {
      const r = await etlAndStop(ctx.target, ctx.env, signal);
      expect(r.stderr).toContain(`${signal}: stopping; no table will be changed`);
      expect(r.stderr).toMatch(/error \[ABORTED\] \(during load staging_events\): Stopped during load staging_events; no table was changed\./);
      expect(r.code).toBe(code);
      // The next run gets the lock on its first try (no waiting for a stray session), and finds the tables as they were.
      const { openWarehouse } = await import('../src/warehouses/open-warehouse.js');
      const wh = kind.name === 'duckdb' ? await openWarehouse({ kind: 'duckdb', path: ctx.target }) : ctx.warehouse;
      try {
        const release = await wh.lock();
        await release();
        expect(await countRows(wh)).toEqual(before);
        const tables = (await wh.query(kind.tablesSql)).map((t) => String(t.name));
        expect(tables.filter((t) => t.startsWith('_sparkify_next_'))).toEqual([]);
      } finally {
        if (wh !== ctx.warehouse) await wh.close();
      }
    });
  });
}
