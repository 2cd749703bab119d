import type { SqlDialect } from './dialect.js';
import { REPAIRS_TABLE } from './repair.js';
import type { StarTableName, TableName } from './tables.js';

/**
 * Staging → star schema, written once, in pieces both the full transform
 * (`transforms`) and the incremental one (schema/increments.ts) are made of.
 * The only dialect hook is turning epoch milliseconds into a timestamp. Every
 * choice below is explained in the README ("How the numbers are made").
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
  return [
    { table: 'songplays', sql: insertPlaysSql(d, { into: songplays!, events: stagingEvents!, songs: stagingSongs!, matchedOnly: options.matchedOnly, repairs: options.repairs }) },
    { table: 'users', sql: `INSERT INTO ${users} (${USER_COLUMNS})${usersSelect(stagingEvents!)}` },
    { table: 'songs', sql: `INSERT INTO ${songs} (${SONG_COLUMNS})${songsSelect(stagingSongs!)}` },
    { table: 'artists', sql: `INSERT INTO ${artists} (${ARTIST_COLUMNS})${artistsSelect(stagingSongs!)}` },
    { table: 'time', sql: `INSERT INTO ${time} (${TIME_COLUMNS})${timeSelect(`SELECT DISTINCT start_time FROM ${songplays}`)}` },
  ];
}

/**
 * The order plays are numbered in (songplay_id), over the event columns of
 * alias `e`: time, then everything else a play is made of, so that two events
 * tied on all of it make identical plays.
 */
export function playOrder(e: string): string {
  return `${e}.ts, ${e}.sessionId NULLS LAST, ${e}.itemInSession NULLS LAST, ${e}.userId NULLS LAST,
                                     ${e}.song NULLS LAST, ${e}.artist NULLS LAST, ${e}.length NULLS LAST, ${e}.level NULLS LAST,
                                     ${e}.location NULLS LAST, ${e}.userAgent NULLS LAST`;
}

/**
 * Whether play `p` (staging_events columns) is the song of `c` (title,
 * artist_name, duration): text matches byte for byte on every warehouse.
 * Redshift compares VARCHARs ignoring trailing spaces, so the lengths (which
 * count them everywhere) are compared too. 5 sample titles end in a space.
 */
export function playMatches(p: string, c: string): string {
  return `${c}.title = ${p}.song AND LENGTH(${c}.title) = LENGTH(${p}.song)
 AND ${c}.artist_name = ${p}.artist AND LENGTH(${c}.artist_name) = LENGTH(${p}.artist) AND ${c}.duration = ${p}.length`;
}

/**
 * The songs a play may be matched to: among songs with the same title, artist
 * name and duration, the smallest song_id (pick = 1). `where` narrows the
 * songs by title (every song of a title is kept, so the pick is unchanged).
 */
export function songCandidatesSql(stagingSongs: string, where = ''): string {
  return `
  SELECT title, artist_name, duration, song_id, artist_id,
         ROW_NUMBER() OVER (PARTITION BY title, LENGTH(title), artist_name, LENGTH(artist_name), duration ORDER BY song_id, artist_id) AS pick
  FROM ${stagingSongs}${where ? `\n  WHERE ${where}` : ''}`;
}

const PLAY_COLUMNS = 'songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent, song_title, artist_name, file_id';
const USER_COLUMNS = 'user_id, first_name, last_name, gender, level';
const SONG_COLUMNS = 'song_id, title, artist_id, year, duration';
const ARTIST_COLUMNS = 'artist_id, name, location, latitude, longitude';
const TIME_COLUMNS = 'start_time, hour, day, week, month, year, weekday';

export interface PlaysOptions {
  into: string;
  /** Where the events come from: the staging table, or (incremental) the run's new events. */
  events: string;
  songs: string;
  /** Added to each play's number: the highest songplay_id already given (incremental). Default 0. */
  idBase?: number;
  matchedOnly?: boolean;
  repairs?: boolean;
  /** Match only against songs some play has the title, artist and duration of (cheaper when `events` is a day's worth). */
  narrowSongs?: boolean;
}

/** The plays of `events` (page NextSong), numbered in playOrder after `idBase`, each matched to at most one song. */
export function insertPlaysSql(d: SqlDialect, o: PlaysOptions): string {
  const startTime = d.epochMsToTimestamp('p.ts');
  const id = o.idBase ? `p.songplay_id + ${o.idBase}` : 'p.songplay_id';
  // Numbered over the sort keys alone and joined back by row, where the dialect names rows; else in one pass.
  const plays = d.rowId
    ? `numbered AS (
  SELECT e.${d.rowId} AS row_ref,
         ROW_NUMBER() OVER (ORDER BY ${playOrder('e')}) AS songplay_id
  FROM ${o.events} e
  WHERE e.page = 'NextSong'
),
plays AS (
  SELECT e.*, n.songplay_id FROM ${o.events} e JOIN numbered n ON n.row_ref = e.${d.rowId}
)`
    : `plays AS (
  SELECT e.*,
         ROW_NUMBER() OVER (ORDER BY ${playOrder('e')}) AS songplay_id
  FROM ${o.events} e
  WHERE e.page = 'NextSong'
)`;
  // Songs of the same title, artist and duration all pass the filter or none does, so the pick is unchanged.
  const narrow = 'EXISTS (SELECT 1 FROM plays p WHERE p.song = title AND p.artist = artist_name AND p.length = duration)';
  return `
INSERT INTO ${o.into} (${PLAY_COLUMNS})
WITH ${plays},
candidates AS (${songCandidatesSql(o.songs, o.narrowSongs ? narrow : '')}
)
SELECT ${id},
       ${startTime},
       p.userId,
       p.level,
       c.song_id,
       c.artist_id,
       p.sessionId,
       p.location,
       CASE WHEN p.userAgent LIKE '"%"' AND LENGTH(p.userAgent) >= 2
            THEN SUBSTRING(p.userAgent, 2, LENGTH(p.userAgent) - 2) ELSE p.userAgent END,
       ${o.repairs ? 'COALESCE(rs.repaired, p.song)' : 'p.song'},
       ${o.repairs ? 'COALESCE(ra.repaired, p.artist)' : 'p.artist'},
       p.file_id
FROM plays p
${o.matchedOnly ? 'JOIN' : 'LEFT JOIN'} candidates c
  ON c.pick = 1 AND ${playMatches('p', 'c')}${
   o.repairs
     ? `
LEFT JOIN ${REPAIRS_TABLE} rs ON rs.original = p.song AND LENGTH(rs.original) = LENGTH(p.song)
LEFT JOIN ${REPAIRS_TABLE} ra ON ra.original = p.artist AND LENGTH(ra.original) = LENGTH(p.artist)`
     : ''
 }`;
}

/**
 * One row per user, from the user's latest event of any page (a user who only
 * browsed is still a user); a level change shows as the newer level. The
 * latest is the last by time, ties broken by session, item and level; only
 * the events at each user's last time are ranked. `users` narrows it to the
 * users a query lists (`SELECT user_id FROM …`).
 */
export function usersSelect(stagingEvents: string, users?: string): string {
  const only = users ? ` AND userId IN (${users})` : '';
  return `
SELECT userId, firstName, lastName, gender, level
FROM (
  SELECT e.*,
         ROW_NUMBER() OVER (PARTITION BY e.userId
                            ORDER BY e.sessionId DESC NULLS LAST, e.itemInSession DESC NULLS LAST,
                                     e.level DESC NULLS LAST) AS pick
  FROM ${stagingEvents} e
  JOIN (SELECT userId AS last_user, MAX(ts) AS last_ts FROM ${stagingEvents} WHERE userId IS NOT NULL${only} GROUP BY userId) l
    ON e.userId = l.last_user AND e.ts = l.last_ts
) latest
WHERE pick = 1`;
}

/** One row per song; year 0 in the Million Song Dataset means "unknown". `songs` narrows it to the song_ids a query lists. */
export function songsSelect(stagingSongs: string, songs?: string): string {
  return `
SELECT song_id, NULLIF(title, ''), artist_id, NULLIF(year, 0), duration
FROM (
  SELECT s.*,
         ROW_NUMBER() OVER (PARTITION BY s.song_id
                            ORDER BY s.title NULLS LAST, s.artist_id, s.duration NULLS LAST, s.year NULLS LAST) AS pick
  FROM ${stagingSongs} s${songs ? `\n  WHERE s.song_id IN (${songs})` : ''}
) one
WHERE pick = 1`;
}

/**
 * One row per artist. Song files may disagree about an artist: take the most
 * complete record (a location, then coordinates), then the first by name and
 * location. `artists` narrows it to the artist_ids a query lists.
 */
export function artistsSelect(stagingSongs: string, artists?: string): string {
  return `
SELECT artist_id, NULLIF(artist_name, ''), NULLIF(artist_location, ''), artist_latitude, artist_longitude
FROM (
  SELECT s.*,
         ROW_NUMBER() OVER (PARTITION BY s.artist_id
                            ORDER BY CASE WHEN NULLIF(s.artist_location, '') IS NULL THEN 1 ELSE 0 END,
                                     CASE WHEN s.artist_latitude IS NULL OR s.artist_longitude IS NULL THEN 1 ELSE 0 END,
                                     s.artist_name NULLS LAST, s.artist_location NULLS LAST,
                                     s.artist_latitude NULLS LAST, s.artist_longitude NULLS LAST) AS pick
  FROM ${stagingSongs} s${artists ? `\n  WHERE s.artist_id IN (${artists})` : ''}
) one
WHERE pick = 1`;
}

/** The time rows of the distinct start times a query gives. weekday: 0 = Sunday, as EXTRACT(DOW) everywhere; week is the ISO week. */
export function timeSelect(startTimes: string): string {
  return `
SELECT start_time,
       CAST(EXTRACT(HOUR FROM start_time) AS INTEGER),
       CAST(EXTRACT(DAY FROM start_time) AS INTEGER),
       CAST(EXTRACT(WEEK FROM start_time) AS INTEGER),
       CAST(EXTRACT(MONTH FROM start_time) AS INTEGER),
       CAST(EXTRACT(YEAR FROM start_time) AS INTEGER),
       CAST(EXTRACT(DOW FROM start_time) AS INTEGER)
FROM (${startTimes}) t`;
}

export const STAR_COLUMNS = { songplays: PLAY_COLUMNS, users: USER_COLUMNS, songs: SONG_COLUMNS, artists: ARTIST_COLUMNS, time: TIME_COLUMNS } as const;
