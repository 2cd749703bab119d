/**
 * The analytics team's commands through the built CLI, on a DuckDB file made
 * from the sample: `query` (table, CSV, JSON, stdin; read-only unless
 * --write), `check`, and `run --check`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/paths.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-analytics-'));
const file = path.join(dir, 'sample.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sparkify(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args, '-w', file], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sparkify query, check, run --check', () => {
  beforeAll(() => {
    const r = sparkify(['run', '--check', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; result: { counts: Record<string, number>; checks: { name: string; status: string; severity: string }[] } };
    expect(out.ok).toBe(true);
    expect(out.result.counts.songplays).toBe(6820);
    expect(out.result.checks.filter((c) => c.status !== 'pass')).toEqual([expect.objectContaining({ name: 'plays matched to a song', severity: 'warn' })]);
  });

  it('answers a query as a table, CSV or JSON, from an argument, a file or stdin', () => {
    const table = sparkify(['query', 'SELECT level, COUNT(*) AS plays FROM songplays GROUP BY level ORDER BY plays DESC']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ level │ plays │\n[^\n]*\n│ paid +│ 5591 +│\n│ free +│ 1229 +│/);
    expect(table.stderr).toContain('2 rows in');
    const csv = sparkify(['query', '--format', 'csv', "SELECT 'a,b' AS x, NULL AS y, 'say \"hi\"' AS z"]);
    expect(csv.stdout).toBe('x,y,z\n"a,b",,"say ""hi"""\n');
    writeFileSync(path.join(dir, 'q.sql'), '-- busiest hour\nSELECT t.hour, COUNT(*) AS plays FROM songplays p JOIN time t USING (start_time) GROUP BY 1 ORDER BY 2 DESC LIMIT 1;\n');
    const json = JSON.parse(sparkify(['query', '--file', 'q.sql', '--json']).stdout) as { ok: boolean; command: string; result: { columns: string[]; rows: unknown[] } };
    expect(json).toMatchObject({ ok: true, command: 'query', result: { columns: ['hour', 'plays'], rows: [{ hour: 16, plays: 542 }] } });
    expect(JSON.parse(sparkify(['query', '--format', 'json'], 'SELECT COUNT(*) AS n FROM users').stdout)).toEqual([{ n: 97 }]);
  });

  it('gives integers beyond 2^53 exactly, as digits, in the envelope and in --format json', () => {
    const sql = 'SELECT CAST(9007199254740993 AS BIGINT) AS big';
    const envelope = JSON.parse(sparkify(['query', sql, '--json']).stdout) as { ok: boolean; result: { rows: unknown[] } };
    expect(envelope).toMatchObject({ ok: true, result: { rows: [{ big: '9007199254740993' }] } });
    expect(JSON.parse(sparkify(['query', sql, '--format', 'json']).stdout)).toEqual([{ big: '9007199254740993' }]);
  });

  it('refuses to change the warehouse without --write (exit 2), and a format it does not know', () => {
    const refused = sparkify(['query', 'DELETE FROM users']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error [QUERY_REFUSED]: "DELETE …" would change the warehouse, and queries are read-only.');
    expect(sparkify(['query', 'SELECT COUNT(*) AS n FROM users', '--format', 'csv']).stdout).toBe('n\n97\n');
    const xml = sparkify(['query', 'SELECT 1', '--format', 'xml']);
    expect(xml.code).toBe(2);
    expect(xml.stderr).toContain('--format xml is not one of table, json, csv.');
  });

  it('check passes on the sample (the match rate warns), fails on a broken star schema, and says which rows break it', () => {
    const good = sparkify(['check']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('⚠ plays matched to a song  1 row: matched=1 plays=6820');
    expect(good.stdout).toMatch(/\n23 passed, 0 failed, 1 warning\.\n$/);
    expect(sparkify(['query', '--write', 'DELETE FROM users WHERE user_id = 15']).code).toBe(0);
    const bad = sparkify(['check', '--min-match-rate', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ songplays\.user_id is in users {2}more than 5 rows: songplay_id=\d+ user_id=15/);
    const json = JSON.parse(sparkify(['check', '--json']).stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(json.ok).toBe(false);
    expect(json.error.code).toBe('CHECK_FAILED');
    expect(json.error.message).toBe("2 checks of 24 failed: songplays.user_id is in users; users have their latest event's level.");
    const rate = sparkify(['check', '--min-match-rate', 'most']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain('--min-match-rate: "most" is not a share from 0 to 1 (e.g. 0.9)');
  });

  it('exports the star schema as Parquet from a file it only reads', () => {
    const out = path.join(dir, 'export');
    const r = sparkify(['export', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; result: { tables: { table: string; location: string; rows: number }[] } };
    expect(json.result.tables.map((t) => [t.table, t.location, t.rows])).toEqual([
      ['songplays', `${path.join(out, 'songplays')}/`, 6820],
      ['users', path.join(out, 'users.parquet'), 96], // one user was deleted above
      ['songs', `${path.join(out, 'songs')}/`, 71],
      ['artists', path.join(out, 'artists.parquet'), 69],
      ['time', `${path.join(out, 'time')}/`, 6813],
    ]);
    const text = sparkify(['export', '--out', out]);
    expect(text.stdout.split('\n')[0]).toMatch(/songplays\/ {2}6,820 rows in 1 file, [\d.]+ KB, partitioned by year, month$/);
  });

  it('reports what users listen to: a table per figure, CSV, or the envelope', () => {
    const text = sparkify(['report']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Plays matched to the catalogue: 1 play of 6,820 \(0\.01%\)\. The others: other duration 0, artist only 20, mis-encoded 341, not in catalogue 6,458\.\n/);
    expect(text.stdout).toMatch(/│ You're The One +│ Dwight Yoakam +│ 37 +│ 0 +│/);
    expect(text.stdout).toContain('top matched songs (matched plays only)');
    const csv = sparkify(['report', '--format', 'csv']).stdout.split('\n');
    expect(csv[0]).toBe('figure,row,column,value');
    expect(csv).toContain("top songs,1,song_title,You're The One");
    const json = JSON.parse(sparkify(['report', '--json']).stdout) as { ok: boolean; result: { figures: { name: string }[]; match: { matched: number } } };
    expect(json.ok).toBe(true);
    expect(json.result.match.matched).toBe(1);
    expect(json.result.figures.map((f) => f.name)).toContain('plays by weekday and hour');
  });
});
