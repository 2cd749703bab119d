/**
 * End to end: spawns the built `sparkify` binary and checks exit codes and output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt } from './helpers/build.js';
import { FIXTURES, expected } from './helpers/oracle.js';
import { testWarehouses } from './warehouses.js';

let cwd: string;

function sparkify(args: string[], env: Record<string, string> = {}, dir = cwd) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  ensureBuilt();
  cwd = mkdtempSync(path.join(os.tmpdir(), 'sparkify-cli-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('sparkify CLI', () => {
  it('prints help a newcomer can follow', () => {
    const r = sparkify(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'create-tables', 'etl', 'counts']) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain('Quick start');
    const etl = sparkify(['etl', '--help']);
    expect(etl.stdout).toMatch(/--warehouse <target>/);
    expect(etl.stdout).toMatch(/--songs <location>/);
    expect(etl.stdout).toMatch(/--max-rejects <n>/);
  });

  it('runs the whole job on the bundled sample into ./sparkify.duckdb by default', () => {
    const r = sparkify(['run']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(cwd, 'sparkify.duckdb'))).toBe(true);
    expect(r.stderr).toMatch(/✓ load staging_events\s+[\d.]+ s\s+8,056 rows from 30 files/);
    expect(r.stderr).toMatch(/✓ transform/);
    expect(r.stdout).toMatch(/songplays\s+6,820/);
    expect(r.stdout).toMatch(/users\s+97/);
  });

  it('answers counts as JSON on stdout only', () => {
    const r = sparkify(['counts', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(expected().counts);
  });

  it('lists rejected records with file and line, and still loads the rest', () => {
    const r = sparkify(['etl', '--logs', path.join(FIXTURES, 'bad-logs'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rejected).toBe(2);
    expect(out.counts.staging_events).toBe(3);
    expect(out.rejects.map((x: { line: number; reason: string }) => `${x.line}: ${x.reason}`)).toEqual([
      '2: invalid JSON',
      '4: sessionId: expected integer, got "abc"',
    ]);
    const human = sparkify(['etl', '--logs', path.join(FIXTURES, 'bad-logs')]);
    expect(human.stdout).toContain('2 records were rejected');
    expect(human.stdout).toContain('2018-11-02-events.json:4: sessionId: expected integer, got "abc"');
  });

  it('fails with exit code 1, the code and a hint when the reject limit is passed', () => {
    const r = sparkify(['etl', '--logs', path.join(FIXTURES, 'bad-logs'), '--max-rejects', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[REJECT_LIMIT_EXCEEDED\] \(during load staging_events\)/);
    expect(r.stderr).toMatch(/hint: .*--max-rejects/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace without --verbose
  });

  it('reports every configuration problem at once, with exit code 2', () => {
    writeFileSync(path.join(cwd, 'bad.cfg'), '[CLUSTER]\nHOST=\nDB_PORT=not-a-port\n[WAREHOUSE]\nMAX_REJECTS=-1\n');
    const r = sparkify(['counts', '--config', 'bad.cfg', '--warehouse', 'postgres']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('3 problems');
    expect(r.stderr).toContain('bad.cfg [CLUSTER] DB_PORT: "not-a-port" is not a port number');
    expect(r.stderr).toContain('bad.cfg [WAREHOUSE] MAX_REJECTS');
    expect(r.stderr).toContain('HOST');
  });

  it('says to run create-tables first on an empty warehouse', () => {
    const r = sparkify(['etl', '--warehouse', 'empty.duckdb']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/WAREHOUSE_NOT_READY/);
    expect(r.stderr).toMatch(/sparkify create-tables/);
  });

  it('rejects an unknown command with exit code 2', () => {
    const r = sparkify(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('never prints a password', () => {
    const r = sparkify(['counts', '--warehouse', 'postgres://someone:s3cr3t-pw@127.0.0.1:1/nowhere']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('s3cr3t-pw');
    expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
    const verbose = sparkify(['counts', '--verbose', '--warehouse', 'postgres://someone:s3cr3t-pw@127.0.0.1:1/nowhere']);
    expect(verbose.stdout + verbose.stderr).not.toContain('s3cr3t-pw');
  });
});

for (const kind of testWarehouses()) {
  describe(`${kind.name}: sparkify run`, () => {
    it('builds the star schema through the binary', async () => {
      const ctx = await kind.open();
      try {
        await ctx.warehouse.close(); // the child process needs the warehouse to itself
        const r = sparkify(['run', '--warehouse', ctx.target, '--json'], ctx.env);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout).counts).toEqual(expected().counts);
      } finally {
        await ctx.cleanup();
      }
    });
  });
}
