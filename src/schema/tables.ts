/**
 * Every table, described once as data. Warehouses render these descriptions
 * into their own DDL (types, keys, distribution); nothing here is SQL text.
 */

/** Logical column types; each warehouse maps them to its own type names. */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'double' | 'timestamp';

export interface Column {
  name: string;
  type: ColumnType;
  /** Staging only: the record is rejected when the field is missing or null. */
  required?: boolean;
  notNull?: boolean;
  /**
   * Staging only: the JSON type the source normally uses for this field, when it
   * is not the column's own (Sparkify writes user ids as strings). Records
   * whose fields all have their usual JSON type take the fast path in DuckDB.
   */
  json?: 'string' | 'number';
}

export interface Table {
  name: TableName;
  role: 'staging' | 'fact' | 'dimension' | 'meta';
  columns: readonly Column[];
  primaryKey?: readonly string[];
  /** MPP placement hints (Redshift). Ignored by warehouses that have no such thing. */
  distribution?: { style: 'all' } | { style: 'key'; key: string } | { style: 'even' } | { style: 'auto' };
  sortKey?: readonly string[];
}

export type StagingTableName = 'staging_events' | 'staging_songs';
export type StarTableName = 'songplays' | 'users' | 'songs' | 'artists' | 'time';
export type TableName = StagingTableName | StarTableName | 'etl_rejects';

const text = (name: string, extra: Partial<Column> = {}): Column => ({ name, type: 'text', ...extra });
const int = (name: string, extra: Partial<Column> = {}): Column => ({ name, type: 'integer', ...extra });
const double = (name: string, extra: Partial<Column> = {}): Column => ({ name, type: 'double', ...extra });

/**
 * One column per field of a Sparkify event, named as in the source JSON (and in
 * the same order as the course's JSONPaths file, which Redshift's COPY relies on).
 */
export const stagingEvents: Table = {
  name: 'staging_events',
  role: 'staging',
  columns: [
    text('artist'),
    text('auth'),
    text('firstName'),
    text('gender'),
    int('itemInSession'),
    text('lastName'),
    double('length'),
    text('level'),
    text('location'),
    text('method'),
    text('page'),
    double('registration'),
    int('sessionId'),
    text('song'),
    int('status'),
    { name: 'ts', type: 'bigint', required: true },
    text('userAgent'),
    int('userId', { json: 'string' }),
  ],
  distribution: { style: 'even' },
};

/** One column per field of a Million Song Dataset song file, named as in the source. */
export const stagingSongs: Table = {
  name: 'staging_songs',
  role: 'staging',
  columns: [
    int('num_songs'),
    text('artist_id', { required: true }),
    double('artist_latitude'),
    double('artist_longitude'),
    text('artist_location'),
    text('artist_name'),
    text('song_id', { required: true }),
    text('title'),
    double('duration'),
    int('year'),
  ],
  distribution: { style: 'even' },
};

export const songplays: Table = {
  name: 'songplays',
  role: 'fact',
  columns: [
    { name: 'songplay_id', type: 'bigint', notNull: true },
    { name: 'start_time', type: 'timestamp', notNull: true },
    int('user_id'),
    text('level'),
    text('song_id'),
    text('artist_id'),
    int('session_id'),
    text('location'),
    text('user_agent'),
  ],
  primaryKey: ['songplay_id'],
  // Plays join songs far more often than any other dimension, and analysts filter by time.
  distribution: { style: 'key', key: 'song_id' },
  sortKey: ['start_time'],
};

export const users: Table = {
  name: 'users',
  role: 'dimension',
  columns: [int('user_id', { notNull: true }), text('first_name'), text('last_name'), text('gender'), text('level')],
  primaryKey: ['user_id'],
  distribution: { style: 'all' },
  sortKey: ['user_id'],
};

export const songs: Table = {
  name: 'songs',
  role: 'dimension',
  columns: [text('song_id', { notNull: true }), text('title'), text('artist_id'), int('year'), double('duration')],
  primaryKey: ['song_id'],
  distribution: { style: 'key', key: 'song_id' },
  sortKey: ['song_id'],
};

export const artists: Table = {
  name: 'artists',
  role: 'dimension',
  columns: [text('artist_id', { notNull: true }), text('name'), text('location'), double('latitude'), double('longitude')],
  primaryKey: ['artist_id'],
  distribution: { style: 'all' },
  sortKey: ['artist_id'],
};

export const time: Table = {
  name: 'time',
  role: 'dimension',
  columns: [
    { name: 'start_time', type: 'timestamp', notNull: true },
    int('hour'),
    int('day'),
    int('week'),
    int('month'),
    int('year'),
    int('weekday'),
  ],
  primaryKey: ['start_time'],
  distribution: { style: 'all' },
  sortKey: ['start_time'],
};

/** Records that could not be loaded, with where they came from and why. */
export const etlRejects: Table = {
  name: 'etl_rejects',
  role: 'meta',
  columns: [
    text('target_table', { notNull: true }),
    text('source', { notNull: true }),
    { name: 'line', type: 'bigint' },
    text('reason', { notNull: true }),
    text('raw'),
  ],
  distribution: { style: 'even' },
};

export const STAGING_TABLES: readonly Table[] = [stagingEvents, stagingSongs];
export const STAR_TABLES: readonly Table[] = [songplays, users, songs, artists, time];
/** Every table sparkify-dwh owns, in creation order. */
export const ALL_TABLES: readonly Table[] = [...STAGING_TABLES, ...STAR_TABLES, etlRejects];

export function tableByName(name: TableName): Table {
  const table = ALL_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`unknown table ${name}`);
  return table;
}

/** Longest raw record text kept in etl_rejects. */
export const REJECT_RAW_LIMIT = 1000;
