/**
 * Data-quality checks on every warehouse that runs here: all pass on the
 * sample's star schema (the match rate warns: 1 of 6,820 plays matches the
 * 71-song catalogue), and each fails on a warehouse broken in the way it
 * guards against. Each breakage runs in a transaction that is rolled back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MATCH_REASONS, matchBreakdown, type MatchReason } from '../src/analytics/match.js';
import { builtInChecks, checksFailed, loadCheckFiles, runChecks, type CheckOptions, type CheckResult } from '../src/analytics/checks.js';
import type { Warehouse } from '../src/warehouses/warehouse.js';
import { sampleWarehouse } from './helpers/faults.js';
import { rawEvents, rawSongs } from './helpers/oracle.js';
import { testWarehouses } from './warehouses.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Rollback extends Error {}

/** Runs the checks on the warehouse as `breakIt` leaves it, then undoes the breakage. */
async function checksAfter(wh: Warehouse, breakIt: string[], options: CheckOptions = {}): Promise<CheckResult[]> {
  let results: CheckResult[] = [];
  await wh
    .transaction(async () => {
      for (const sql of breakIt) await wh.execute(sql);
      results = await runChecks(wh, options);
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return results;
}

const failing = (results: CheckResult[]) => results.filter((r) => r.status !== 'pass').map((r) => r.name);

for (const kind of testWarehouses()) {
  describe(`${kind.name}: data-quality checks`, () => {
    const warehouse = sampleWarehouse(kind);

    it('all pass on the sample, except the match rate, which warns with its figures', async () => {
      const results = await runChecks(warehouse());
      expect(results.map((r) => r.name)).toEqual(builtInChecks().map((c) => c.name));
      expect(failing(results)).toEqual(['plays matched to a song']);
      const match = results.at(-1)!;
      expect(match).toMatchObject({ severity: 'warn', status: 'fail', failing: 1 });
      expect(match.sample[0]).toMatchObject({ matched: 1, plays: 6820 });
      expect(checksFailed(results)).toBe(false);
      expect(failing(await runChecks(warehouse(), { minMatchRate: 0.0001 }))).toEqual([]);
    });

    it('explains every unmatched play, as computed from the raw sample files', async () => {
      // The independent route: the sample's JSON files, classified in JavaScript.
      const songs = rawSongs();
      const expected = Object.fromEntries(MATCH_REASONS.map((r) => [r, 0])) as Record<MatchReason, number>;
      for (const e of rawEvents().filter((x) => x.page === 'NextSong')) {
        const why: MatchReason = songs.some((s) => s.title === e.song && s.artist_name === e.artist && s.duration === e.length)
          ? 'matched'
          : songs.some((s) => s.title === e.song && s.artist_name === e.artist)
            ? 'other duration'
            : songs.some((s) => s.artist_name === e.artist)
              ? 'artist only'
              : /[ÃÂ\u0019]/.test(`${e.song ?? ''}${e.artist ?? ''}`)
                ? 'mis-encoded'
                : 'not in catalogue';
        expected[why]++;
      }
      expect(expected.matched).toBe(1);
      expect(await matchBreakdown(warehouse())).toEqual(expected);
      // The match-rate check shows the same figures.
      const [rate] = (await runChecks(warehouse())).filter((r) => r.name === 'plays matched to a song');
      expect(rate!.sample[0]).toMatchObject({ matched: 1, plays: 6820, 'artist only': expected['artist only'], 'mis-encoded': expected['mis-encoded'] });
    });

    it('each fails on the breakage it guards against', async () => {
      const dropKey = (t: string) => (warehouse().dialect.primaryKeys === 'index' ? [`ALTER TABLE ${t} DROP CONSTRAINT ${t}_pkey`] : []);
      const firstUser = '(SELECT MIN(user_id) FROM songplays)';
      const cases: [string[], string[]][] = [
        [['DELETE FROM songplays WHERE songplay_id = 1'], ['songplays reconcile with staging']],
        [[...dropKey('songs'), 'INSERT INTO songs SELECT * FROM songs WHERE song_id = (SELECT MIN(song_id) FROM songs)'], ['songs.song_id is unique']],
        [[...dropKey('time'), 'ALTER TABLE time ALTER COLUMN start_time DROP NOT NULL', 'UPDATE time SET start_time = NULL WHERE hour = 3'], ['time.start_time is not null', 'songplays.start_time is in time']],
        [[`DELETE FROM time WHERE start_time = (SELECT MIN(start_time) FROM songplays)`], ['songplays.start_time is in time']],
        [[`DELETE FROM users WHERE user_id = ${firstUser}`], ['songplays.user_id is in users', "users have their latest event's level"]],
        [[`UPDATE users SET level = CASE WHEN level = 'free' THEN 'paid' ELSE 'free' END WHERE user_id = ${firstUser}`], ["users have their latest event's level"]],
        [['DELETE FROM artists'], ['artists is not empty', 'songplays.artist_id is in artists']],
      ];
      for (const [breakIt, expected] of cases) {
        const results = await checksAfter(warehouse(), breakIt, { minMatchRate: 0 });
        expect(failing(results), breakIt.join('; ')).toEqual(expected);
        expect(checksFailed(results)).toBe(true);
        const first = results.find((r) => r.name === expected[0])!;
        expect(first.sample.length, `${expected[0]} shows the rows that break it`).toBeGreaterThan(0);
      }
      // Nothing of the breakages stayed.
      expect(failing(await runChecks(warehouse(), { minMatchRate: 0 }))).toEqual([]);
    });

    it("runs the user's own checks from .sql files; one whose query fails is an error, not a pass", async () => {
      const checks = mkdtempSync(path.join(dir, 'user-'));
      writeFileSync(path.join(checks, 'plays_in_2018.sql'), '-- description: the sample is November 2018\n-- severity: warn\nSELECT songplay_id FROM songplays p JOIN time t USING (start_time) WHERE t.year <> 2018;\n');
      // A comment at the end of a line: the check still runs inside its wrapper.
      writeFileSync(path.join(checks, 'paid_users_play.sql'), "SELECT user_id FROM users u -- every paid user\nWHERE level = 'paid' AND NOT EXISTS (SELECT 1 FROM songplays p WHERE p.user_id = u.user_id) -- plays\n");
      writeFileSync(path.join(checks, 'typo.sql'), 'SELECT * FROM song_plays\n');
      const extra = await loadCheckFiles(checks);
      expect(extra.map((c) => [c.name, c.severity, c.description])).toEqual([
        ['paid_users_play', 'error', 'rows returned by paid_users_play.sql'],
        ['plays_in_2018', 'warn', 'the sample is November 2018'],
        ['typo', 'error', 'rows returned by typo.sql'],
      ]);
      const results = (await runChecks(warehouse(), { minMatchRate: 0, extra })).slice(-3);
      expect(results.map((r) => [r.name, r.status])).toEqual([
        ['paid_users_play', 'pass'],
        ['plays_in_2018', 'pass'],
        ['typo', 'error'],
      ]);
      expect(results[2]!.error).toMatch(/song_plays/);
    });
  });
}

describe('check files', () => {
  it('refuses a folder that cannot be read, a check without a query, and an unknown severity', async () => {
    await expect(loadCheckFiles(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const d = mkdtempSync(path.join(dir, 'bad-'));
    writeFileSync(path.join(d, 'empty.sql'), '-- only a comment\n');
    await expect(loadCheckFiles(d)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: `${path.join(d, 'empty.sql')} holds no query.` });
    writeFileSync(path.join(d, 'empty.sql'), 'SELECT 1; SELECT 2\n');
    await expect(loadCheckFiles(d)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: `${path.join(d, 'empty.sql')}: The SQL holds 2 statements; a query runs one.` });
    writeFileSync(path.join(d, 'empty.sql'), '-- severity: fatal\nSELECT 1\n');
    await expect(loadCheckFiles(d)).rejects.toMatchObject({ message: `${path.join(d, 'empty.sql')}: severity "fatal" is neither error nor warn.` });
  });
});
