import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { firstLine, messageOf, SparkifyError } from '../errors.js';
import { STAGING_TABLES, STAR_TABLES } from '../schema/tables.js';
import type { Row, Warehouse } from '../warehouses/warehouse.js';
import { MATCH_BREAKDOWN_SQL, MATCH_REASONS } from './match.js';
import { oneStatement } from './query.js';

/**
 * Data-quality checks, as data: each is a SQL query returning the rows that
 * break it (as dbt's singular tests do), so it passes when the query returns
 * nothing. The same checks run on every warehouse; users add their own as
 * `.sql` files. The CLI's `sparkify check` (and `etl --check`) prints them and
 * exits non-zero when an error-severity check fails.
 */

export type Severity = 'error' | 'warn';

export interface Check {
  name: string;
  description: string;
  severity: Severity;
  /** Returns the failing rows; none means the check passes. */
  sql: string;
}

export interface CheckResult {
  name: string;
  description: string;
  severity: Severity;
  /** `fail`: rows came back; `error`: the query itself failed (a check that cannot run is not a pass). */
  status: 'pass' | 'fail' | 'error';
  /** How many failing rows (at most SAMPLE_LIMIT + 1 are fetched: `failing` is then a lower bound, `more` true). */
  failing: number;
  more: boolean;
  /** The first failing rows, to show what is wrong. */
  sample: Row[];
  /** The query's error, for `error`. */
  error?: string;
  seconds: number;
}

export interface CheckOptions {
  /** The least share of plays matched to a song before the match-rate check warns. Default 0.5. */
  minMatchRate?: number;
  /** Checks of the user's own (`loadCheckFiles`), run after the built-in ones. */
  extra?: readonly Check[];
}

const SAMPLE_LIMIT = 5;

/** Foreign keys of the fact table: every songplay's value, when not NULL, is in its dimension. */
const FACT_KEYS = [
  { column: 'user_id', table: 'users', key: 'user_id' },
  { column: 'start_time', table: 'time', key: 'start_time' },
  { column: 'song_id', table: 'songs', key: 'song_id' },
  { column: 'artist_id', table: 'artists', key: 'artist_id' },
] as const;

/**
 * The built-in checks, in the order they run.
 *
 * @example
 *   builtInChecks({ minMatchRate: 0.9 }).map((c) => c.name); // ['staging_events is not empty', …]
 */
export function builtInChecks(options: CheckOptions = {}): Check[] {
  const checks: Check[] = [];
  for (const t of [...STAGING_TABLES, ...STAR_TABLES]) {
    checks.push({
      name: `${t.name} is not empty`,
      description: `${t.name} has rows: a load or transform that silently produced nothing fails here`,
      severity: 'error',
      sql: `SELECT 'no rows' AS problem FROM (SELECT COUNT(*) AS n FROM ${t.name}) c WHERE c.n = 0`,
    });
  }
  for (const t of STAR_TABLES) {
    const key = t.primaryKey!.join(', ');
    checks.push({
      name: `${t.name}.${key} is unique`,
      description: `one row per ${key} in ${t.name}`,
      severity: 'error',
      // NULL keys are the next check's: here they would group as one duplicated value.
      sql: `SELECT ${key}, COUNT(*) AS copies FROM ${t.name} WHERE ${t.primaryKey!.map((k) => `${k} IS NOT NULL`).join(' AND ')} GROUP BY ${key} HAVING COUNT(*) > 1 ORDER BY ${key}`,
    });
    checks.push({
      name: `${t.name}.${key} is not null`,
      description: `every row of ${t.name} has its key`,
      severity: 'error',
      sql: `SELECT COUNT(*) AS missing FROM ${t.name} WHERE ${t.primaryKey!.map((k) => `${k} IS NULL`).join(' OR ')} HAVING COUNT(*) > 0`,
    });
  }
  for (const fk of FACT_KEYS) {
    checks.push({
      name: `songplays.${fk.column} is in ${fk.table}`,
      description: `every songplay's ${fk.column}, when set, is a row of ${fk.table}`,
      severity: 'error',
      sql: `SELECT p.songplay_id, p.${fk.column} FROM songplays p WHERE p.${fk.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${fk.table} d WHERE d.${fk.key} = p.${fk.column}) ORDER BY p.songplay_id`,
    });
  }
  checks.push({
    name: 'songplays reconcile with staging',
    description: 'as many songplays as NextSong events in staging (fewer only with --matched-only, when the unmatched are left out)',
    severity: 'error',
    // All plays matched and fewer than the events: a --matched-only run, which may leave the unmatched out.
    sql: `SELECT p.n AS songplays, e.n AS next_song_events
FROM (SELECT COUNT(*) AS n, COUNT(song_id) AS matched FROM songplays) p,
     (SELECT COUNT(*) AS n FROM staging_events WHERE page = 'NextSong') e
WHERE CASE WHEN p.matched = p.n AND p.n < e.n THEN 1 = 0 ELSE p.n <> e.n END`,
  });
  checks.push({
    name: "users have their latest event's level",
    description: "one row per user who had an event, with the level of that user's latest event",
    severity: 'error',
    sql: `SELECT COALESCE(u.user_id, l.userId) AS user_id, u.level AS level, l.level AS latest_level
FROM users u
FULL JOIN (
  SELECT userId, level, ROW_NUMBER() OVER (PARTITION BY userId
           ORDER BY ts DESC, sessionId DESC NULLS LAST, itemInSession DESC NULLS LAST, level DESC NULLS LAST) AS pick
  FROM staging_events WHERE userId IS NOT NULL
) l ON l.userId = u.user_id AND l.pick = 1
WHERE (l.pick = 1 OR l.pick IS NULL)
  AND (u.user_id IS NULL OR l.userId IS NULL OR u.level <> l.level OR (u.level IS NULL) <> (l.level IS NULL))
ORDER BY 1`,
  });
  const min = options.minMatchRate ?? 0.5;
  checks.push({
    name: 'plays matched to a song',
    description: `at least ${Math.round(min * 100)}% of songplays have a song_id (the catalogue covers what users play)`,
    severity: 'warn',
    // With why the others are not: the catalogue's other durations, artists without the title, mis-encoded text.
    sql: `SELECT m.matched, m.plays, CAST(m.matched AS DOUBLE PRECISION) / m.plays AS share, ${MATCH_REASONS.filter((r) => r !== 'matched').map((r) => `b."${r}"`).join(', ')}
FROM (SELECT COUNT(song_id) AS matched, COUNT(*) AS plays FROM songplays) m, (${MATCH_BREAKDOWN_SQL}) b
WHERE m.plays > 0 AND CAST(m.matched AS DOUBLE PRECISION) / m.plays < ${min}`,
  });
  return [...checks, ...(options.extra ?? [])];
}

/**
 * Runs every check; a check whose query fails is `error`, and the rest still run.
 *
 * @example
 *   const results = await runChecks(wh);
 *   const failed = results.filter((r) => r.status !== 'pass' && r.severity === 'error');
 */
export async function runChecks(wh: Warehouse, options: CheckOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of builtInChecks(options)) {
    const started = performance.now();
    const base = { name: check.name, description: check.description, severity: check.severity };
    try {
      const rows = await wh.query(`SELECT * FROM (${oneStatement(check.sql)}) failing LIMIT ${SAMPLE_LIMIT + 1}`);
      results.push({ ...base, status: rows.length === 0 ? 'pass' : 'fail', failing: rows.length, more: rows.length > SAMPLE_LIMIT, sample: rows.slice(0, SAMPLE_LIMIT), seconds: seconds(started) });
    } catch (err) {
      results.push({ ...base, status: 'error', failing: 0, more: false, sample: [], error: firstLine(messageOf(err)), seconds: seconds(started) });
    }
  }
  return results;
}

/** Whether a scheduler should stop: an error-severity check that failed or could not run. */
export function checksFailed(results: readonly CheckResult[]): boolean {
  return results.some((r) => r.severity === 'error' && r.status !== 'pass');
}

/**
 * The user's checks: every `*.sql` file of `dir`, one check each, named after
 * the file. Its query returns the failing rows. Leading comments may set
 * `-- severity: warn` (default error) and `-- description: …`.
 *
 * @example
 *   // checks/no_plays_before_2018.sql:
 *   //   -- description: plays before the service started are clock errors
 *   //   SELECT songplay_id, start_time FROM songplays WHERE start_time < TIMESTAMP '2018-01-01 00:00:00'
 *   const extra = await loadCheckFiles('checks');
 */
export async function loadCheckFiles(dir: string): Promise<Check[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  } catch (err) {
    throw new SparkifyError('CONFIG_INVALID', `Cannot read the checks folder ${dir}: ${firstLine(messageOf(err))}.`, {
      hint: 'Give a folder of .sql files, each a query returning the rows that break the check (--checks <dir>).',
    });
  }
  const checks: Check[] = [];
  for (const n of names) {
    const text = await readFile(path.join(dir, n), 'utf8');
    const header = /^(?:\s*--[^\n]*\n)*/.exec(text)?.[0] ?? '';
    const severity = /--\s*severity:\s*(\w+)/i.exec(header)?.[1]?.toLowerCase() ?? 'error';
    if (severity !== 'error' && severity !== 'warn') {
      throw new SparkifyError('CONFIG_INVALID', `${path.join(dir, n)}: severity "${severity}" is neither error nor warn.`, { hint: 'Write -- severity: error, or -- severity: warn.' });
    }
    // The same reading as sparkify query's: comments anywhere (a trailing `-- …` would swallow the wrapper's
    // closing parenthesis), a final semicolon, exactly one statement.
    let sql: string;
    try {
      sql = oneStatement(text);
    } catch (err) {
      const file = path.join(dir, n);
      const message = /no SQL/.test(messageOf(err)) ? `${file} holds no query.` : `${file}: ${messageOf(err)}`;
      throw new SparkifyError('CONFIG_INVALID', message, { hint: 'A check is one SELECT returning the rows that break it.' });
    }
    checks.push({ name: n.replace(/\.sql$/, ''), description: /--\s*description:\s*([^\n]*)/i.exec(header)?.[1]?.trim() ?? `rows returned by ${n}`, severity, sql });
  }
  return checks;
}

function seconds(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}
