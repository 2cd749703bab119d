/**
 * The test set-up itself: a warehouse that cannot be reached is skipped with
 * its reason printed, except in CI, where it fails the run. Checked by running
 * vitest on one suite with PostgreSQL pointed at a closed port.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';

function vitest(env: Record<string, string>) {
  const { CI: _ci, VITEST: _v, VITEST_POOL_ID: _p, VITEST_WORKER_ID: _w, ...rest } = process.env;
  return spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/redshift.test.ts', '--reporter', 'verbose'], {
    cwd: ROOT,
    env: { ...rest, NO_COLOR: '1', SPARKIFY_TEST_PG: '127.0.0.1:1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('which warehouses run here', () => {
  it('skips an unreachable PostgreSQL with the reason, and runs the rest', () => {
    const r = vitest({});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('PostgreSQL at 127.0.0.1:1 is not reachable (ECONNREFUSED): its tests are skipped');
    expect(r.stdout).toMatch(/↓ test\/redshift\.test\.ts > redshift SQL that is also PostgreSQL, run on the local PostgreSQL > /);
    expect(r.stdout).toMatch(/Tests +\d+ passed \| \d+ skipped/);
  });

  it('fails in CI instead, where PostgreSQL is part of the machine', () => {
    const r = vitest({ CI: 'true' });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain('PostgreSQL at 127.0.0.1:1 is not reachable (ECONNREFUSED); CI requires it (.ci/run starts it).');
  });
});
