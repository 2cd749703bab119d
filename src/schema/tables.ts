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
   * is not the column's own (Sparkify writes user ids as strings). Redshift's
   * COPY lands such fields as text and converts them with the shared rules.
   */
  json?: 'string' | 'number';
  /**
   * Text only: the longest value in bytes of UTF-8 that a warehouse with sized
   * text types must hold (Redshift's VARCHAR(n) counts bytes). See TEXT_BYTES.
   */
  maxBytes?: number;
}

export interface Table {
  name: TableName;
  role: 'staging' | 'fact' | 'dimension' | 'meta';
  columns: readonly Column[];
  primaryKey?: readonly string[];
  /** MPP placement hints (Redshift). Ignored by warehouses that have no such thing. */
  distribution?: { style: 'all' } | { style: 'key'; key: string } | { style: 'even' } | { style: 'auto' };
  sortKey?: readonly string[];
  /**
   * Rows carry `file_id`, the loaded file they were read from (etl_files): staging
   * rows, and the plays made of them. It follows `columns` in the table, and is
   * not one of them: loaders fill it, and a changed or removed file's rows are
   * found by it. See FILE_ID and storedColumns.
   */
  traced?: boolean;
}

export type StagingTableName = 'staging_events' | 'staging_songs';
export type StarTableName = 'songplays' | 'users' | 'songs' | 'artists' | 'time';
export type MetaTableName = 'etl_rejects' | 'etl_files' | 'etl_runs';
export type TableName = StagingTableName | StarTableName | MetaTableName;

/** The loaded file a row of a traced table came from: etl_files.file_id (NULL where a bulk load could not tell). */
export const FILE_ID: Column = { name: 'file_id', type: 'integer' };

/** Longest raw record text kept in etl_rejects, in characters. */
export const REJECT_RAW_LIMIT = 1000;

/**
 * Sizes of text columns in bytes (Redshift's VARCHAR(n) counts bytes, not
 * characters). On the sample the longest values are 159 bytes (a song title
 * whose accented letters are double-encoded UTF-8, 4 bytes each) and 139 (a
 * user agent). Free text from the Million Song Dataset (titles, artist names,
 * locations) and user agents get 1024 bytes: 256 characters even if every one
 * took 4 bytes. Ids are 18 ASCII characters; codes (level, gender, method) a
 * few. A longer value is rejected at load with its file and line, never cut;
 * and a star column is never narrower than the staging column it is made
 * from, so the transform cannot fail on length.
 */
const TEXT_BYTES = {
  freeText: 1024,
  personName: 256,
  cityName: 512,
  id: 64,
  code: 16,
  word: 64,
  /** Redshift's largest VARCHAR. */
  max: 65535,
} as const;

const text = (name: string, extra: Partial<Column> = {}): Column => ({ name, type: 'text', ...extra });
const sized = (name: string, maxBytes: number, extra: Partial<Column> = {}): Column => text(name, { maxBytes, ...extra });
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
    sized('artist', TEXT_BYTES.freeText),
    sized('auth', TEXT_BYTES.word),
    sized('firstName', TEXT_BYTES.personName),
    sized('gender', TEXT_BYTES.code),
    int('itemInSession'),
    sized('lastName', TEXT_BYTES.personName),
    double('length'),
    sized('level', TEXT_BYTES.code),
    sized('location', TEXT_BYTES.cityName),
    sized('method', TEXT_BYTES.code),
    sized('page', TEXT_BYTES.word),
    double('registration'),
    int('sessionId'),
    sized('song', TEXT_BYTES.freeText),
    int('status'),
    { name: 'ts', type: 'bigint', required: true },
    sized('userAgent', TEXT_BYTES.freeText),
    int('userId', { json: 'string' }),
  ],
  distribution: { style: 'even' },
  traced: true,
};

/** One column per field of a Million Song Dataset song file, named as in the source. */
export const stagingSongs: Table = {
  name: 'staging_songs',
  role: 'staging',
  columns: [
    int('num_songs'),
    sized('artist_id', TEXT_BYTES.id, { required: true }),
    double('artist_latitude'),
    double('artist_longitude'),
    sized('artist_location', TEXT_BYTES.freeText),
    sized('artist_name', TEXT_BYTES.freeText),
    sized('song_id', TEXT_BYTES.id, { required: true }),
    sized('title', TEXT_BYTES.freeText),
    double('duration'),
    int('year'),
  ],
  distribution: { style: 'even' },
  traced: true,
};

export const songplays: Table = {
  name: 'songplays',
  role: 'fact',
  columns: [
    { name: 'songplay_id', type: 'bigint', notNull: true },
    { name: 'start_time', type: 'timestamp', notNull: true },
    int('user_id'),
    sized('level', TEXT_BYTES.code),
    sized('song_id', TEXT_BYTES.id),
    sized('artist_id', TEXT_BYTES.id),
    int('session_id'),
    sized('location', TEXT_BYTES.cityName),
    sized('user_agent', TEXT_BYTES.freeText),
    // The event's own title and artist, for every play: what users listen to, matched to the catalogue or not.
    // song_id and artist_id keep the course's rule (exact title, artist and duration).
    sized('song_title', TEXT_BYTES.freeText),
    sized('artist_name', TEXT_BYTES.freeText),
  ],
  primaryKey: ['songplay_id'],
  // Spread evenly: a key on song_id would put every unmatched play (NULL; 6,819 of the sample's 6,820) on one
  // slice. The dimensions are small enough to sit whole on every node. Analysts filter by time.
  distribution: { style: 'even' },
  sortKey: ['start_time'],
  traced: true,
};

export const users: Table = {
  name: 'users',
  role: 'dimension',
  columns: [
    int('user_id', { notNull: true }),
    sized('first_name', TEXT_BYTES.personName),
    sized('last_name', TEXT_BYTES.personName),
    sized('gender', TEXT_BYTES.code),
    sized('level', TEXT_BYTES.code),
  ],
  primaryKey: ['user_id'],
  distribution: { style: 'all' },
  sortKey: ['user_id'],
};

export const songs: Table = {
  name: 'songs',
  role: 'dimension',
  columns: [
    sized('song_id', TEXT_BYTES.id, { notNull: true }),
    sized('title', TEXT_BYTES.freeText),
    sized('artist_id', TEXT_BYTES.id),
    int('year'),
    double('duration'),
  ],
  primaryKey: ['song_id'],
  distribution: { style: 'all' },
  sortKey: ['song_id'],
};

export const artists: Table = {
  name: 'artists',
  role: 'dimension',
  columns: [
    sized('artist_id', TEXT_BYTES.id, { notNull: true }),
    sized('name', TEXT_BYTES.freeText),
    sized('location', TEXT_BYTES.freeText),
    double('latitude'),
    double('longitude'),
  ],
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
    sized('target_table', TEXT_BYTES.word, { notNull: true }),
    // An S3 URI: a 63-byte bucket name and a key of up to 1024 bytes.
    sized('source', 2048, { notNull: true }),
    { name: 'line', type: 'bigint' },
    sized('reason', 4096, { notNull: true }),
    // The record's first REJECT_RAW_LIMIT characters (at most 4 bytes each); on Redshift, STL's raw_line
    // (1,024 bytes). Not 65,535: Redshift warns that rows this wide may fail INSERT and SELECT.
    sized('raw', REJECT_RAW_LIMIT * 4),
  ],
  distribution: { style: 'even' },
};

/**
 * The ledger of loaded files: one row per source file whose records are in the
 * staging tables (and the plays made of them), with what it was when loaded.
 * A later run compares the source's listing with it to load only what is new
 * or changed (pipeline/ledger.ts). Written in the same transaction as the data.
 */
export const etlFiles: Table = {
  name: 'etl_files',
  role: 'meta',
  columns: [
    int('file_id', { notNull: true }),
    sized('target_table', TEXT_BYTES.word, { notNull: true }),
    // The key below the source's root (what identifies the file from run to run), and where it was read.
    sized('file_key', 1024, { notNull: true }),
    sized('uri', 2048, { notNull: true }),
    { name: 'size', type: 'bigint' },
    // What the source says changes when the file does: the ETag on S3, else the modification time in ms.
    sized('marker', 256),
    int('run_id', { notNull: true }),
    // Rows it gave the staging table, and records rejected; NULL when a bulk load could not count per file.
    { name: 'loaded_rows', type: 'bigint' },
    { name: 'rejected_rows', type: 'bigint' },
  ],
  primaryKey: ['file_id'],
  distribution: { style: 'all' },
};

/** One row per run that changed the tables: when, how, and what it did. */
export const etlRuns: Table = {
  name: 'etl_runs',
  role: 'meta',
  columns: [
    int('run_id', { notNull: true }),
    sized('mode', TEXT_BYTES.code, { notNull: true }),
    { name: 'started_at', type: 'timestamp' },
    { name: 'finished_at', type: 'timestamp' },
    int('files_new'),
    int('files_changed'),
    int('files_unchanged'),
    int('files_missing'),
    int('files_pruned'),
    { name: 'records_loaded', type: 'bigint' },
    { name: 'records_removed', type: 'bigint' },
    { name: 'rejected', type: 'bigint' },
    { name: 'songplays_added', type: 'bigint' },
    // The highest songplay_id ever given, so ids of deleted plays are never given again.
    { name: 'last_songplay_id', type: 'bigint' },
  ],
  primaryKey: ['run_id'],
  distribution: { style: 'all' },
};

export const STAGING_TABLES: readonly Table[] = [stagingEvents, stagingSongs];
export const STAR_TABLES: readonly Table[] = [songplays, users, songs, artists, time];
export const LEDGER_TABLES: readonly Table[] = [etlFiles, etlRuns];
/** Every table sparkify-dwh owns, in creation order. */
export const ALL_TABLES: readonly Table[] = [...STAGING_TABLES, ...STAR_TABLES, etlRejects, ...LEDGER_TABLES];

/** The columns of `table` as created: its own, then file_id when it is traced. */
export function storedColumns(table: Table): readonly Column[] {
  return table.traced ? [...table.columns, FILE_ID] : table.columns;
}

export function tableByName(name: TableName): Table {
  const table = ALL_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`unknown table ${name}`);
  return table;
}

