import type { SqlDialect } from './dialect.js';
import { nextName } from './ddl.js';
import { REPAIRS_TABLE } from './repair.js';
import { stagingEvents, stagingSongs, storedColumns } from './tables.js';
import {
  artistsSelect,
  insertPlaysSql,
  playMatches,
  playOrder,
  songCandidatesSql,
  songsSelect,
  STAR_COLUMNS,
  timeSelect,
  usersSelect,
} from './transforms.js';

/**
 * The incremental transform: the statements that fold a run's new files into
 * tables that already hold earlier runs, so that they end as a full transform
 * of everything would leave them (songplay ids aside). Made of the same pieces
 * as the full transform (transforms.ts); run in one transaction after the
 * run's new records are loaded into copies of the staging tables.
 *
 * - Rows of replaced files (a changed file's old version, a pruned file) go,
 *   found by file_id; the file ids are in GONE.
 * - New staging rows go in; new plays get ids after the highest ever given.
 * - Songs and artists touched by a new or removed song record are chosen again
 *   from all their records; plays whose title, artist and duration could now
 *   match another song are matched again (plays loaded before their song
 *   arrived get it now), keeping their ids.
 * - Users touched by a new or removed event are chosen again from all their
 *   events (the latest wins, whatever order the files came in); time gains the
 *   new start times and loses those no play has any more.
 */

/** Helper tables of one incremental transform, created and dropped inside its transaction. */
export const GONE_FILES = '_sparkify_inc_gone';
const SONG_IDS = '_sparkify_inc_songs';
const ARTIST_IDS = '_sparkify_inc_artists';
const MATCH_KEYS = '_sparkify_inc_keys';
const REMATCH_FILES = '_sparkify_inc_refiles';
const REMATCH = '_sparkify_inc_rematch';
const USER_IDS = '_sparkify_inc_users';
const GONE_TIMES = '_sparkify_inc_times';
const HELPERS = [GONE_FILES, SONG_IDS, ARTIST_IDS, MATCH_KEYS, REMATCH_FILES, REMATCH, USER_IDS, GONE_TIMES];

export interface IncrementOptions {
  /** The highest songplay_id ever given: new plays are numbered after it. */
  idBase: number;
  /** Whether song files were added, changed or removed (else the song side is skipped). */
  songs: boolean;
  /** Whether event files were added, changed or removed (else the event side is skipped). */
  events: boolean;
  /** Whether song files, and event files, have rows to remove (else nothing is searched for them). */
  gone: { songs: boolean; events: boolean };
  /** Whether the run's repairs table is there (mis-encoded titles, schema/repair.ts). */
  repairs: boolean;
}

/** `CREATE TABLE` of the table of gone file ids; the pipeline fills it, then runs `incrementSql`. */
export function createGoneFilesSql(): string {
  return `CREATE TABLE ${GONE_FILES} (file_id INTEGER)`;
}

/**
 * Drops the helper tables: before the transaction (what a run killed after
 * its commit left), and after it. Kept out of the transaction, which must
 * stay short (the Data API runs it as one batch of at most 40 statements).
 */
export function dropIncrementHelpersSql(): string[] {
  return [...HELPERS, REPAIRS_TABLE].map((t) => `DROP TABLE IF EXISTS ${t}`);
}

/**
 * The statements, in order, all inside the run's transaction. Staging copies
 * hold only the run's new records (`_sparkify_next_staging_*`, with their
 * file ids); GONE holds the file ids whose rows go. The helper tables they
 * create are dropped after the commit (dropIncrementHelpersSql).
 */
export function incrementSql(d: SqlDialect, o: IncrementOptions): string[] {
  const gone = `SELECT file_id FROM ${GONE_FILES}`;
  const newSongs = nextName('staging_songs');
  const newEvents = nextName('staging_events');
  const songCols = storedColumns(stagingSongs).map((c) => d.columnName(c.name)).join(', ');
  const eventCols = storedColumns(stagingEvents).map((c) => d.columnName(c.name)).join(', ');
  const out: string[] = [];

  if (o.songs) {
    const touched = (cols: string) =>
      o.gone.songs ? `SELECT ${cols} FROM staging_songs WHERE file_id IN (${gone})\n  UNION ALL SELECT ${cols} FROM ${newSongs}` : `SELECT ${cols} FROM ${newSongs}`;
    out.push(
      `CREATE TABLE ${SONG_IDS} AS SELECT DISTINCT song_id FROM (\n  ${touched('song_id')}\n) t`,
      `CREATE TABLE ${ARTIST_IDS} AS SELECT DISTINCT artist_id FROM (\n  ${touched('artist_id')}\n) t`,
      // The (title, artist, duration) whose candidate songs change: plays with them may match another song now.
      `CREATE TABLE ${MATCH_KEYS} AS SELECT DISTINCT title, artist_name, duration FROM (\n  ${touched('title, artist_name, duration')}\n) t WHERE title IS NOT NULL AND artist_name IS NOT NULL AND duration IS NOT NULL`,
      ...(o.gone.songs ? [`DELETE FROM staging_songs WHERE file_id IN (${gone})`] : []),
      `INSERT INTO staging_songs (${songCols}) SELECT ${songCols} FROM ${newSongs}`,
      `DELETE FROM songs WHERE song_id IN (SELECT song_id FROM ${SONG_IDS})`,
      `INSERT INTO songs (${STAR_COLUMNS.songs})${songsSelect('staging_songs', `SELECT song_id FROM ${SONG_IDS}`)}`,
      `DELETE FROM artists WHERE artist_id IN (SELECT artist_id FROM ${ARTIST_IDS})`,
      `INSERT INTO artists (${STAR_COLUMNS.artists})${artistsSelect('staging_songs', `SELECT artist_id FROM ${ARTIST_IDS}`)}`,
      // Plays already loaded that may match differently, by the file they came from (files about to go are left out).
      `CREATE TABLE ${REMATCH_FILES} AS SELECT DISTINCT e.file_id FROM staging_events e JOIN ${MATCH_KEYS} k ON ${playMatches('e', 'k')}
WHERE e.page = 'NextSong' AND e.file_id IS NOT NULL AND e.file_id NOT IN (${gone})`,
      // A file's plays were numbered in playOrder, so its n-th play by id is its n-th event by playOrder.
      `CREATE TABLE ${REMATCH} AS
SELECT r.songplay_id, c.song_id, c.artist_id
FROM (SELECT songplay_id, file_id, ROW_NUMBER() OVER (PARTITION BY file_id ORDER BY songplay_id) AS k
      FROM songplays WHERE file_id IN (SELECT file_id FROM ${REMATCH_FILES})) r
JOIN (SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.file_id ORDER BY ${playOrder('e')}) AS k
      FROM staging_events e WHERE e.page = 'NextSong' AND e.file_id IN (SELECT file_id FROM ${REMATCH_FILES})) p
  ON p.file_id = r.file_id AND p.k = r.k
JOIN ${MATCH_KEYS} mk ON ${playMatches('p', 'mk')}
LEFT JOIN (${songCandidatesSql('staging_songs', `title IN (SELECT title FROM ${MATCH_KEYS})`)}
) c ON c.pick = 1 AND ${playMatches('p', 'c')}`,
      `UPDATE songplays SET song_id = m.song_id, artist_id = m.artist_id FROM ${REMATCH} m WHERE songplays.songplay_id = m.songplay_id`,
    );
  }

  if (o.events) {
    const startTime = d.epochMsToTimestamp('e.ts');
    out.push(
      `CREATE TABLE ${USER_IDS} AS SELECT DISTINCT userId AS user_id FROM (${
        o.gone.events ? `\n  SELECT userId FROM staging_events WHERE file_id IN (${gone})\n  UNION ALL` : ''
      }
  SELECT userId FROM ${newEvents}
) t WHERE userId IS NOT NULL`,
    );
    if (o.gone.events) {
      out.push(
        `CREATE TABLE ${GONE_TIMES} AS SELECT DISTINCT start_time FROM songplays WHERE file_id IN (${gone})`,
        `DELETE FROM staging_events WHERE file_id IN (${gone})`,
        `DELETE FROM songplays WHERE file_id IN (${gone})`,
      );
    }
    out.push(
      `INSERT INTO staging_events (${eventCols}) SELECT ${eventCols} FROM ${newEvents}`,
      insertPlaysSql(d, { into: 'songplays', events: newEvents, songs: 'staging_songs', idBase: o.idBase, repairs: o.repairs, narrowSongs: true }),
      `DELETE FROM users WHERE user_id IN (SELECT user_id FROM ${USER_IDS})`,
      `INSERT INTO users (${STAR_COLUMNS.users})${usersSelect('staging_events', `SELECT user_id FROM ${USER_IDS}`)}`,
    );
    if (o.gone.events) {
      out.push(`DELETE FROM time WHERE start_time IN (
  SELECT g.start_time FROM ${GONE_TIMES} g WHERE NOT EXISTS (SELECT 1 FROM songplays sp WHERE sp.start_time = g.start_time))`);
    }
    // Every new event of page NextSong is a new play (a daily run keeps every play), so its time is the play's.
    out.push(
      `INSERT INTO time (${STAR_COLUMNS.time})${timeSelect(
        `SELECT DISTINCT n.start_time FROM (SELECT ${startTime} AS start_time FROM ${newEvents} e WHERE e.page = 'NextSong') n
   WHERE NOT EXISTS (SELECT 1 FROM time t WHERE t.start_time = n.start_time)`,
      )}`,
    );
  }
  return out;
}
