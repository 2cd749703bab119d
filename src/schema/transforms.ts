import type { SqlDialect } from './dialect.js';
import { REPAIRS_TABLE } from './repair.js';
import type { StarTableName, TableName } from './tables.js';

/**
 * Staging → star schema, written once. The only dialect hook is turning epoch
 * milliseconds into a timestamp. Every choice below is explained in the README
 * ("How the numbers are made").
 */
export interface Transform {
  table: StarTableName;
  sql: string;
}

export interface TransformOptions {
  /** Keep only plays that match a song (the course's behaviour). Default false: keep every play. */
  matchedOnly?: boolean;
  /** The name each table has in this run (a run builds copies of the tables, then swaps them in). Default: its own. */
  names?: (table: TableName) => string;
  /** Repair mis-encoded titles and artist names through the run's repairs table (schema/repair.ts). Default false. */
  repairs?: boolean;
}

/**
 * The INSERT … SELECT statements that fill the star schema, in dependency order.
 *
 * @example
 *   for (const t of transforms(wh.dialect)) await wh.execute(t.sql);
 */
export function transforms(d: SqlDialect, options: TransformOptions = {}): Transform[] {
  const n = options.names ?? ((t: TableName) => t);
  const [stagingEvents, stagingSongs, songplays, users, songs, artists, time] = (
    ['staging_events', 'staging_songs', 'songplays', 'users', 'songs', 'artists', 'time'] as const
  ).map(n);
  const startTime = d.epochMsToTimestamp('p.ts');
  // A play is matched to at most one song: among songs with the same title, artist name and duration, the smallest song_id.
  // Text matches byte for byte on every warehouse: Redshift compares VARCHARs ignoring trailing spaces, so the
  // lengths (which count them everywhere) are compared and partitioned on too. 5 sample titles end in a space.
  const songCandidates = `
  SELECT title, artist_name, duration, song_id, artist_id,
         ROW_NUMBER() OVER (PARTITION BY title, LENGTH(title), artist_name, LENGTH(artist_name), duration ORDER BY song_id, artist_id) AS pick
  FROM ${stagingSongs}`;
  return [
    {
      table: 'songplays',
      sql: `
INSERT INTO ${songplays} (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent, song_title, artist_name)
WITH plays AS (
  SELECT e.*,
         ROW_NUMBER() OVER (ORDER BY e.ts, e.sessionId NULLS LAST, e.itemInSession NULLS LAST, e.userId NULLS LAST,
                                     e.song NULLS LAST, e.artist NULLS LAST, e.length NULLS LAST, e.level NULLS LAST,
                                     e.location NULLS LAST, e.userAgent NULLS LAST) AS songplay_id
  FROM ${stagingEvents} e
  WHERE e.page = 'NextSong'
),
candidates AS (${songCandidates}
)
SELECT p.songplay_id,
       ${startTime},
       p.userId,
       p.level,
       c.song_id,
       c.artist_id,
       p.sessionId,
       p.location,
       CASE WHEN p.userAgent LIKE '"%"' AND LENGTH(p.userAgent) >= 2
            THEN SUBSTRING(p.userAgent, 2, LENGTH(p.userAgent) - 2) ELSE p.userAgent END,
       ${options.repairs ? 'COALESCE(rs.repaired, p.song)' : 'p.song'},
       ${options.repairs ? 'COALESCE(ra.repaired, p.artist)' : 'p.artist'}
FROM plays p
${options.matchedOnly ? 'JOIN' : 'LEFT JOIN'} candidates c
  ON c.pick = 1 AND c.title = p.song AND LENGTH(c.title) = LENGTH(p.song)
 AND c.artist_name = p.artist AND LENGTH(c.artist_name) = LENGTH(p.artist) AND c.duration = p.length${
   options.repairs
     ? `
LEFT JOIN ${REPAIRS_TABLE} rs ON rs.original = p.song AND LENGTH(rs.original) = LENGTH(p.song)
LEFT JOIN ${REPAIRS_TABLE} ra ON ra.original = p.artist AND LENGTH(ra.original) = LENGTH(p.artist)`
     : ''
 }`,
    },
    {
      // One row per user, from the user's latest event of any page (a user who
      // only browsed is still a user); a level change shows as the newer level.
      table: 'users',
      sql: `
INSERT INTO ${users} (user_id, first_name, last_name, gender, level)
SELECT userId, firstName, lastName, gender, level
FROM (
  SELECT e.*,
         ROW_NUMBER() OVER (PARTITION BY e.userId
                            ORDER BY e.ts DESC, e.sessionId DESC NULLS LAST, e.itemInSession DESC NULLS LAST,
                                     e.level DESC NULLS LAST) AS pick
  FROM ${stagingEvents} e
  WHERE e.userId IS NOT NULL
) latest
WHERE pick = 1`,
    },
    {
      // year 0 in the Million Song Dataset means "unknown".
      table: 'songs',
      sql: `
INSERT INTO ${songs} (song_id, title, artist_id, year, duration)
SELECT song_id, NULLIF(title, ''), artist_id, NULLIF(year, 0), duration
FROM (
  SELECT s.*,
         ROW_NUMBER() OVER (PARTITION BY s.song_id
                            ORDER BY s.title NULLS LAST, s.artist_id, s.duration NULLS LAST, s.year NULLS LAST) AS pick
  FROM ${stagingSongs} s
) one
WHERE pick = 1`,
    },
    {
      // Song files may disagree about an artist: take the most complete record
      // (a location, then coordinates), then the first by name and location.
      table: 'artists',
      sql: `
INSERT INTO ${artists} (artist_id, name, location, latitude, longitude)
SELECT artist_id, NULLIF(artist_name, ''), NULLIF(artist_location, ''), artist_latitude, artist_longitude
FROM (
  SELECT s.*,
         ROW_NUMBER() OVER (PARTITION BY s.artist_id
                            ORDER BY CASE WHEN NULLIF(s.artist_location, '') IS NULL THEN 1 ELSE 0 END,
                                     CASE WHEN s.artist_latitude IS NULL OR s.artist_longitude IS NULL THEN 1 ELSE 0 END,
                                     s.artist_name NULLS LAST, s.artist_location NULLS LAST,
                                     s.artist_latitude NULLS LAST, s.artist_longitude NULLS LAST) AS pick
  FROM ${stagingSongs} s
) one
WHERE pick = 1`,
    },
    {
      // weekday: 0 = Sunday, as EXTRACT(DOW) in Redshift, PostgreSQL and DuckDB; week is the ISO week.
      table: 'time',
      sql: `
INSERT INTO ${time} (start_time, hour, day, week, month, year, weekday)
SELECT start_time,
       CAST(EXTRACT(HOUR FROM start_time) AS INTEGER),
       CAST(EXTRACT(DAY FROM start_time) AS INTEGER),
       CAST(EXTRACT(WEEK FROM start_time) AS INTEGER),
       CAST(EXTRACT(MONTH FROM start_time) AS INTEGER),
       CAST(EXTRACT(YEAR FROM start_time) AS INTEGER),
       CAST(EXTRACT(DOW FROM start_time) AS INTEGER)
FROM (SELECT DISTINCT start_time FROM ${songplays}) t`,
    },
  ];
}
