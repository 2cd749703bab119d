import { createRequire } from 'node:module';
import type { Row, Warehouse } from '../warehouses/warehouse.js';
import { matchBreakdown, type MatchReason } from './match.js';

/**
 * The analytics team's answers, from the star schema (and, for level changes,
 * the staging events they are made from), on every warehouse. Figures that
 * rest on matched plays only say so (`matchedOnly`); everything else counts
 * every play, by the event's own title and artist.
 */

export interface Figure {
  /** `top songs`, `plays by hour`, … */
  name: string;
  description: string;
  /** True when the figure counts only plays matched to the catalogue. */
  matchedOnly: boolean;
  columns: string[];
  rows: Row[];
}

export interface Report {
  figures: Figure[];
  /** Matched plays and why the others are not. */
  match: Record<MatchReason, number>;
  seconds: number;
}

const TOP = 10;

interface FigureSql {
  name: string;
  description: string;
  matchedOnly?: boolean;
  sql: string;
}

/** The figures that are one query each. */
const QUERIES: FigureSql[] = [
  {
    name: 'top songs',
    description: 'most played songs, by the title and artist of the events (matched: in the catalogue)',
    sql: `SELECT song_title, artist_name, COUNT(*) AS plays, MAX(CASE WHEN song_id IS NULL THEN 0 ELSE 1 END) AS matched
FROM songplays WHERE song_title IS NOT NULL GROUP BY song_title, artist_name ORDER BY plays DESC, song_title, artist_name LIMIT ${TOP}`,
  },
  {
    name: 'top artists',
    description: 'most played artists, by the artist of the events',
    sql: `SELECT artist_name, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS listeners
FROM songplays WHERE artist_name IS NOT NULL GROUP BY artist_name ORDER BY plays DESC, artist_name LIMIT ${TOP}`,
  },
  {
    name: 'top matched songs',
    description: 'most played songs of the catalogue (matched plays only)',
    matchedOnly: true,
    sql: `SELECT s.song_id, s.title, a.name AS artist, COUNT(*) AS plays
FROM songplays p JOIN songs s ON s.song_id = p.song_id LEFT JOIN artists a ON a.artist_id = p.artist_id
GROUP BY s.song_id, s.title, a.name ORDER BY plays DESC, s.song_id LIMIT ${TOP}`,
  },
  {
    name: 'plays by hour',
    description: 'plays per hour of the day (UTC)',
    sql: 'SELECT t.hour, COUNT(*) AS plays FROM songplays p JOIN time t ON t.start_time = p.start_time GROUP BY t.hour ORDER BY t.hour',
  },
  {
    name: 'plays by weekday',
    description: 'plays per day of the week (0 = Sunday)',
    sql: 'SELECT t.weekday, COUNT(*) AS plays FROM songplays p JOIN time t ON t.start_time = p.start_time GROUP BY t.weekday ORDER BY t.weekday',
  },
  {
    name: 'plays by weekday and hour',
    description: 'the heat map: plays per weekday (0 = Sunday) and hour (UTC)',
    sql: 'SELECT t.weekday, t.hour, COUNT(*) AS plays FROM songplays p JOIN time t ON t.start_time = p.start_time GROUP BY t.weekday, t.hour ORDER BY t.weekday, t.hour',
  },
  {
    name: 'plays by day',
    description: 'plays per day (UTC)',
    sql: `SELECT t.year, t.month, t.day, COUNT(*) AS plays FROM songplays p JOIN time t ON t.start_time = p.start_time
GROUP BY t.year, t.month, t.day ORDER BY t.year, t.month, t.day`,
  },
  {
    name: 'free and paid',
    description: 'plays and listeners by the level at the time of the play',
    sql: 'SELECT level, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS listeners FROM songplays GROUP BY level ORDER BY plays DESC',
  },
  {
    name: 'level changes',
    description: 'users who upgraded (free → paid) or downgraded, and when (from the events, in order)',
    sql: `SELECT userId AS user_id, CASE WHEN level = 'paid' THEN 'upgrade' ELSE 'downgrade' END AS change, ts
FROM (SELECT userId, level, ts, LAG(level) OVER (PARTITION BY userId ORDER BY ts, sessionId, itemInSession) AS before
      FROM staging_events WHERE userId IS NOT NULL AND level IS NOT NULL) e
WHERE before IS NOT NULL AND before <> level ORDER BY ts, userId`,
  },
  {
    name: 'most active users',
    description: 'users with the most plays, with their current level',
    sql: `SELECT p.user_id, u.first_name, u.last_name, u.level, COUNT(*) AS plays
FROM songplays p LEFT JOIN users u ON u.user_id = p.user_id WHERE p.user_id IS NOT NULL
GROUP BY p.user_id, u.first_name, u.last_name, u.level ORDER BY plays DESC, p.user_id LIMIT ${TOP}`,
  },
  {
    name: 'top locations',
    description: 'plays by metropolitan area',
    sql: `SELECT location, COUNT(*) AS plays FROM songplays WHERE location IS NOT NULL GROUP BY location ORDER BY plays DESC, location LIMIT ${TOP}`,
  },
  {
    name: 'sessions',
    description: 'sessions per user and plays per session',
    sql: `SELECT COUNT(*) AS sessions, COUNT(DISTINCT user_id) AS users,
       CAST(COUNT(*) AS DOUBLE PRECISION) / COUNT(DISTINCT user_id) AS sessions_per_user,
       CAST(SUM(plays) AS DOUBLE PRECISION) / COUNT(*) AS plays_per_session, MAX(plays) AS longest_session
FROM (SELECT user_id, session_id, COUNT(*) AS plays FROM songplays GROUP BY user_id, session_id) s`,
  },
];

/**
 * @example
 *   const report = await buildReport(wh);
 *   report.figures.find((f) => f.name === 'top songs')!.rows[0]; // { song_title: "You're The One", artist_name: 'Dwight Yoakam', plays: 37, matched: 0 }
 */
export async function buildReport(wh: Warehouse): Promise<Report> {
  const started = performance.now();
  const figures: Figure[] = [];
  for (const q of QUERIES) {
    const rows = await wh.query(q.sql);
    figures.push({ name: q.name, description: q.description, matchedOnly: q.matchedOnly ?? false, columns: columnsOf(rows, q.sql), rows });
  }
  figures.push(...(await deviceFigures(wh)));
  return { figures, match: await matchBreakdown(wh), seconds: Math.round(performance.now() - started) / 1000 };
}

function columnsOf(rows: Row[], sql: string): string[] {
  if (rows.length > 0) return Object.keys(rows[0]!);
  // No rows: the names after SELECT's `AS` or last word of each item, enough for headers.
  const list = /^SELECT\s+([\s\S]*?)\s+FROM\s/i.exec(sql)?.[1] ?? '';
  return list.split(/,(?![^(]*\))/).map((item) => /(\w+)\s*$/.exec(item.trim())?.[1] ?? item.trim());
}

type Parsed = { browser: { name?: string }; os: { name?: string }; device: { type?: string } };

/**
 * Browsers, operating systems and device kinds, from the user agents of the
 * plays (parsed here by ua-parser-js: each distinct agent once).
 */
async function deviceFigures(wh: Warehouse): Promise<Figure[]> {
  const agents = await wh.query<{ user_agent: string | null; plays: number }>('SELECT user_agent, COUNT(*) AS plays FROM songplays GROUP BY user_agent');
  const UAParser = createRequire(import.meta.url)('ua-parser-js') as new (ua?: string) => { getResult(): Parsed };
  const tally = { browser: new Map<string, number>(), os: new Map<string, number>(), device: new Map<string, number>() };
  for (const a of agents) {
    const r = a.user_agent ? new UAParser(a.user_agent).getResult() : undefined;
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + Number(a.plays));
    add(tally.browser, r?.browser.name ?? 'unknown');
    add(tally.os, r?.os.name ?? 'unknown');
    // ua-parser-js leaves desktop browsers without a device type.
    add(tally.device, r ? (r.device.type ?? 'desktop') : 'unknown');
  }
  const figure = (name: string, column: string, m: Map<string, number>): Figure => ({
    name,
    description: `plays by ${column}, from the user agent`,
    matchedOnly: false,
    columns: [column, 'plays'],
    rows: [...m].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([k, n]) => ({ [column]: k, plays: n })),
  });
  return [figure('browsers', 'browser', tally.browser), figure('operating systems', 'os', tally.os), figure('devices', 'device', tally.device)];
}
