/**
 * End to end: spawns the built `sparkify` binary and checks exit codes and output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './helpers/cli.js';
import { CLI } from './helpers/paths.js';
import { FIXTURES, SAMPLE_LOGS, SAMPLE_SONGS, expected } from './helpers/oracle.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import { runsHere, TEST_PG, testWarehouses } from './warehouses.js';

const pgUrl = runsHere('postgres') ? `postgres://${TEST_PG.user}@${TEST_PG.host}:${TEST_PG.port}/${TEST_PG.database}` : undefined;

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

/** Like `sparkify`, without blocking this process (which may be serving s3rver to the child). */
function sparkifyAsync(args: string[], env: Record<string, string> = {}, dir = cwd): Promise<CliRun> {
  return runCli(args, { env, cwd: dir });
}

beforeAll(() => {
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
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, command: 'counts', warehouse: `DuckDB ${path.join(cwd, 'sparkify.duckdb')}`, result: { counts: expected().counts }, warnings: [] });
  });

  it('counts only reads: a missing DuckDB file or PostgreSQL schema is an error, and is not created', async () => {
    const file = path.join(cwd, 'never-made', 'never-made.duckdb');
    const duck = sparkify(['counts', '-w', file]);
    expect(duck.code).toBe(1);
    expect(duck.stderr).toContain(`The DuckDB database ${file} does not exist; nothing was created, since this command only reads.`);
    expect(duck.stderr).toContain('sparkify run');
    expect(existsSync(path.dirname(file))).toBe(false);
    if (!pgUrl) return;
    const schema = `sparkify_typo_${process.pid}`;
    const r = sparkify(['counts', '-w', pgUrl, '--schema', schema]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Schema ${schema} on`);
    expect(r.stderr).toContain('does not exist; nothing was created');
    const admin = await PostgresWarehouse.open({ connection: TEST_PG, schema: 'public' });
    try {
      expect(await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname = '${schema}'`)).toEqual([]);
    } finally {
      await admin.close();
    }
  });

  it('lists rejected records with file and line, and still loads the rest', () => {
    const r = sparkify(['etl', '--logs', path.join(FIXTURES, 'bad-logs'), '--full-refresh', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout).result;
    expect(out.rejected).toBe(2);
    expect(out.counts.staging_events).toBe(3);
    expect(out.rejects.map((x: { line: number; reason: string }) => `${x.line}: ${x.reason}`)).toEqual([
      '2: invalid JSON',
      '4: sessionId: expected integer, got "abc"',
    ]);
    const human = sparkify(['etl', '--logs', path.join(FIXTURES, 'bad-logs'), '--full-refresh']);
    expect(human.stdout).toContain('2 records were rejected');
    expect(human.stdout).toContain('2018-11-02-events.json:4: sessionId: expected integer, got "abc"');
  });

  it('fails with exit code 1, the code and a hint when the reject limit is passed', () => {
    const r = sparkify(['etl', '--logs', path.join(FIXTURES, 'bad-logs'), '--max-rejects', '0', '--full-refresh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[REJECT_LIMIT_EXCEEDED\] \(during load staging_events\): 2 records of staging_events were rejected, more than the limit of 0;/);
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

  it('generates data in the course layout, refuses to overwrite it unasked, and checks its numbers', () => {
    const out = path.join(cwd, 'generated');
    const r = sparkify(['generate', '--out', out, '--events', '2_000', '--songs', '40', '--days', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout).result as Record<string, number>;
    expect(manifest).toMatchObject({ events: 2000, songs: 40, songFiles: 40, logFiles: 3 });
    expect(existsSync(path.join(out, 'log_data', '2018', '11', '2018-11-01-events.json'))).toBe(true);
    const again = sparkify(['generate', '--out', out, '--events', '2000']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds .*--overwrite/s);
    expect(sparkify(['generate', '--out', out, '--events', 'many', '--overwrite']).stderr).toContain('--events: "many" is not a number');
  });

  it('prints names and reasons from outside with their control characters escaped', () => {
    const dir = path.join(cwd, 'escapes');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'good.json'), readFileSync(path.join(SAMPLE_LOGS, '2018/11/2018-11-01-events.json')));
    writeFileSync(path.join(dir, 'evil\x1b[2K\rforged.json'), '{"ts": 1541105830796, "userId": "x\\u001b[31m"}');
    const run = sparkify(['run', '-w', path.join(cwd, 'escapes.duckdb'), '--logs', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('evil\\x1b[2K\\x0dforged.json:1: userId: expected integer');
    expect(run.stdout + run.stderr).not.toContain('\x1b');
  });

  it('rejects an unknown command with exit code 2', () => {
    const r = sparkify(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('never prints a password, wherever it stands and whatever it holds', () => {
    const secrets = ['PW_URL@S3CRET', 'p:w@d', 'pässwörd€'];
    const printed: string[] = [];
    for (const secret of secrets) {
      const enc = encodeURIComponent(secret);
      for (const args of [
        ['counts', '--warehouse', `postgres://someone:${secret}@127.0.0.1:1/nowhere`],
        ['counts', '--warehouse', `postgres://someone:${enc}@127.0.0.1:1/nowhere`],
        ['counts', '--warehouse', `postgres://someone:${secret}@127.0.0.1:99999/x`],
        ['counts', '--warehouse', `mysql://root:${secret}@h/db`],
        ['counts', '--warehouse', `postgres://127.0.0.1:1/nowhere?password=${enc}`],
        ['run', '--warehouse', 'postgres', '--songs', 's3:///nobucket'],
      ]) {
        for (const extra of [['--verbose'], ['--json']]) {
          const r = sparkify([...args, ...extra], { PGHOST: '127.0.0.1', PGPORT: '1', PGPASSWORD: secret, DATABASE_URL: `postgres://u:${secret}@127.0.0.1:1/d` });
          expect(r.code).not.toBe(0);
          printed.push(r.stdout + r.stderr);
        }
      }
    }
    for (const [i, out] of printed.entries()) {
      for (const secret of secrets) {
        expect(out, `run ${i}`).not.toContain(secret);
        expect(out, `run ${i}`).not.toContain(encodeURIComponent(secret));
      }
    }
    expect(printed.join('')).toMatch(/127\.0\.0\.1:1/);
  });
});

describe('flags', () => {
  it('takes the global options before or after the command, alike', () => {
    const db = path.join(cwd, 'sparkify.duckdb');
    expect(sparkify(['run', '-q', '-w', db]).code).toBe(0);
    const after = sparkify(['counts', '--json', '-w', db]);
    for (const args of [['--json', 'counts', '-w', db], ['--json', '-w', db, 'counts'], ['-w', db, 'counts', '--json']]) {
      const r = sparkify(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toBe(after.stdout);
    }
    expect(sparkify(['-q', 'counts', '-w', db]).stderr).toBe('');
    // -v is --verbose before the command too: each stage is also said as it starts.
    const verbose = sparkify(['-v', 'run', '-w', db]);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain('\n… load staging_songs\n');
  });

  it('refuses --quiet with --verbose, naming both, with exit code 2, on every command', () => {
    for (const args of [['counts', '-q', '-v'], ['-q', 'run', '--verbose'], ['counts', '-qv'], ['generate', '-o', 'x', '-q', '-v'], ['cluster', 'status', '--quiet', '-v']]) {
      const r = sparkify(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/option '-q, --quiet' cannot be used with option '-v, --verbose'/);
    }
    expect(existsSync(path.join(cwd, 'x'))).toBe(false);
  });

  it('says what -v is when no command is given, shows the version with -V, and the help with nothing', () => {
    const v = sparkify(['-v']);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('error: no command given: -v is --verbose, for a command (`sparkify run -v`); the version is -V or --version');
    const version = sparkify(['-V']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const bare = sparkify([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: sparkify [options] [command]');
    expect(bare.stderr).toBe('');
  });

  it('refuses a global option that does not apply to the command', () => {
    const r = sparkify(['generate', '-o', path.join(cwd, 'never'), '--warehouse', 'x.duckdb']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: option '--warehouse' does not apply to `sparkify generate`");
    expect(sparkify(['cluster', 'delete', '--schema', 'x', '--yes']).stderr).toContain("error: option '--schema' does not apply to `sparkify cluster delete`");
  });

  it("gives every command a help of its own, with examples of that command", () => {
    for (const command of ['run', 'create-tables', 'etl', 'counts', 'doctor', 'config', 'generate', 'cluster create', 'cluster status', 'cluster delete']) {
      const r = sparkify([...command.split(' '), '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`Usage: sparkify ${command} [options]`);
      expect(r.stdout).toMatch(/--json .*\n.*-q, --quiet .*\n.*-v, --verbose/s);
      const examples = r.stdout.split('\nExamples:\n')[1]?.split('\n').filter((l) => l.startsWith('  $ sparkify ')) ?? [];
      expect(examples.length, command).toBeGreaterThan(0);
      expect(examples.some((l) => l.includes(` ${command}`)), command).toBe(true);
    }
    const status = sparkify(['cluster', 'status', '--help']).stdout;
    expect(status).not.toMatch(/\bcreate\b/);
    expect(sparkify(['--help']).stdout).toContain('Global options (before or after the command):');
  });
});

describe('--json: one envelope on stdout for every command, success and failure alike', () => {
  interface Envelope {
    ok: boolean;
    command: string;
    warehouse?: string;
    dryRun?: boolean;
    result?: Record<string, unknown>;
    error?: { code: string; message: string; hint?: string; stage?: string; issues?: { where: string; message: string }[] };
    warnings: string[];
  }
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-envelope-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a command with --json: stdout is one envelope, stderr stays empty, `ok` says whether the exit code is 0. */
  function envelope(args: string[], command: string): { code: number | null; env: Envelope } {
    const r = sparkify([...args, '--json'], {}, dir);
    expect(r.stderr, args.join(' ')).toBe('');
    const env = JSON.parse(r.stdout) as Envelope;
    expect(env.command).toBe(command);
    expect(env.ok).toBe(r.code === 0);
    expect(Array.isArray(env.warnings)).toBe(true);
    if (env.ok) expect(env.error).toBeUndefined();
    else expect(env.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    return { code: r.code, env };
  }
  const db = () => path.join(dir, 'envelope.duckdb');
  const secondsAreRounded = (text: unknown) => {
    for (const m of JSON.stringify(text).matchAll(/"\w*[sS]econds":([0-9.e-]+)/g)) expect(Number(m[1])).toBe(Math.round(Number(m[1]) * 1000) / 1000);
  };

  it('succeeds: create-tables, etl, run, counts, doctor, config, generate and the dry runs', () => {
    const created = envelope(['create-tables', '-w', db()], 'create-tables');
    expect(created.env).toMatchObject({ ok: true, warehouse: `DuckDB ${db()}`, result: { tables: expect.arrayContaining(['songplays', 'etl_rejects']) } });
    const etl = envelope(['etl', '-w', db()], 'etl');
    expect(etl.env.result).toMatchObject({ mode: 'full', modeReason: 'nothing was loaded before', runId: 1, counts: expected().counts, rejected: 0, rejects: [], retries: [] });
    expect((etl.env.result!.stages as { stage: string }[]).map((s) => s.stage)).toEqual(['load staging_songs', 'load staging_events', 'transform', 'publish']);
    secondsAreRounded(etl.env);
    // Run again: nothing is new, so nothing is read; the tables stay, and the ledger counts one more run.
    const afterTwo = { ...expected().counts, etl_runs: 2 };
    const run = envelope(['run', '-w', db()], 'run');
    expect(run.env.result).toMatchObject({ mode: 'incremental', runId: 2, counts: afterTwo });
    const changes = (run.env.result!.stages as { stage: string; changes?: unknown }[]).map((s) => [s.stage, s.changes]);
    expect(changes).toEqual([
      ['load staging_songs', { new: 0, changed: 0, unchanged: 71, missing: 0, pruned: 0, newRecords: 0, removedRecords: 0 }],
      ['load staging_events', { new: 0, changed: 0, unchanged: 30, missing: 0, pruned: 0, newRecords: 0, removedRecords: 0 }],
      ['transform', undefined],
    ]);
    secondsAreRounded(run.env);
    expect(envelope(['counts', '-w', db()], 'counts').env.result).toEqual({ counts: afterTwo });
    const doctor = envelope(['doctor', '-w', db()], 'doctor');
    expect(doctor.env.result!.checks).toHaveLength(8);
    const config = envelope(['config', '-w', db()], 'config');
    expect(config.env).toMatchObject({ ok: true, warehouse: `DuckDB ${db()}`, result: { settings: expect.any(Array) } });
    const generated = envelope(['generate', '--out', path.join(dir, 'gen'), '--events', '300', '--songs', '10', '--days', '2'], 'generate');
    expect(generated.env.result).toMatchObject({ events: 300, songs: 10, logFiles: 2 });
    for (const command of ['run', 'etl', 'create-tables']) {
      const plan = envelope([command, '--dry-run', '-w', path.join(dir, 'never.duckdb')], command);
      expect(plan.env).toMatchObject({ ok: true, dryRun: true, warehouse: `DuckDB ${path.join(dir, 'never.duckdb')}` });
      expect((plan.env.result!.statements as unknown[]).length).toBeGreaterThan(10);
    }
    expect(existsSync(path.join(dir, 'never.duckdb'))).toBe(false);
  });

  it('fails: a bad --max-rejects (and what each command rejects) is the envelope with the error and its issues as a list', () => {
    for (const command of ['run', 'etl', 'doctor', 'config']) {
      const bad = envelope([command, '-w', db(), '--max-rejects', 'lots'], command);
      expect(bad.code).toBe(2);
      expect(bad.env.error).toEqual({
        code: 'CONFIG_INVALID',
        message: 'The configuration has 1 problem.',
        hint: expect.any(String),
        issues: [{ where: '--max-rejects', message: '"lots" is not a whole number of rejected records (0 or more)' }],
      });
    }
    for (const command of ['run', 'etl', 'create-tables']) {
      expect(envelope([command, '--dry-run', '--retries', 'often'], command).env.error!.issues).toEqual([{ where: '--retries', message: '"often" is not a number of retries from 0 to 10' }]);
    }
    const counts = envelope(['counts', '-w', path.join(dir, 'missing.duckdb')], 'counts');
    expect(counts.code).toBe(1);
    expect(counts.env.error!.code).toBe('WAREHOUSE_NOT_READY');
    const generate = envelope(['generate', '--out', path.join(dir, 'gen2'), '--events', 'many'], 'generate');
    expect(generate.env.error).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ where: '--events', message: '"many" is not a number' }] });
    const rejects = envelope(['etl', '-w', db(), '--logs', path.join(FIXTURES, 'bad-logs'), '--max-rejects', '0'], 'etl');
    expect(rejects.code).toBe(1);
    expect(rejects.env.error).toMatchObject({ code: 'REJECT_LIMIT_EXCEEDED', stage: 'load staging_events', hint: expect.stringContaining('--max-rejects') });
    const usage = envelope(['counts', '--frobnicate'], 'counts');
    expect(usage.code).toBe(2);
    expect(usage.env.error).toMatchObject({ code: 'USAGE_INVALID', message: "unknown option '--frobnicate'" });
    const group = envelope(['cluster'], 'cluster');
    expect(group.code).toBe(2);
    expect(group.env.error).toMatchObject({ code: 'USAGE_INVALID', message: 'no command given: `sparkify cluster` needs one of its commands' });
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
        expect(JSON.parse(r.stdout).result.counts).toEqual(expected().counts);
      } finally {
        await ctx.cleanup();
      }
    });
  });
}

describe('sparkify CLI with s3:// sources (s3rver: a real S3-API server on loopback)', () => {
  it('builds the same star schema from s3:// as from the bundled folders, with no SDK noise on stderr', async () => {
    const { startS3rver, S3RVER_CREDENTIALS } = await import('./helpers/s3rver.js');
    const s3 = await startS3rver({ buckets: ['sparkify'] });
    try {
      await s3.uploadFolder(SAMPLE_SONGS, 'sparkify', 'song_data');
      await s3.uploadFolder(SAMPLE_LOGS, 'sparkify', 'log_data');
      const env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
      const r = await sparkifyAsync(
        ['run', '--warehouse', 's3.duckdb', '--songs', 's3://sparkify/song_data', '--logs', 's3://sparkify/log_data', '--s3-endpoint', s3.endpoint, '--region', 'us-east-1'],
        env,
      );
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(/warning|deprecat|NodeVersion|AWS SDK/i);
      expect(r.stderr).toMatch(/✓ load staging_events\s+[\d.]+ s\s+8,056 rows from 30 files/);
      const counts = sparkify(['counts', '--json', '--warehouse', 's3.duckdb']);
      expect(JSON.parse(counts.stdout).result.counts).toEqual(expected().counts);

      const missing = await sparkifyAsync(['etl', '--warehouse', 's3.duckdb', '--logs', 's3://no-such-bucket/log_data', '--s3-endpoint', s3.endpoint, '--region', 'us-east-1'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/S3_BUCKET_NOT_FOUND.*no-such-bucket/);
      expect(missing.stderr).not.toMatch(/warning|deprecat/i);
    } finally {
      await s3.stop();
    }
  });
});
