/**
 * What Redshift does differently from PostgreSQL: DDL (sized VARCHARs,
 * DISTSTYLE/DISTKEY/SORTKEY from the table data), COPY from S3, load errors
 * read back into etl_rejects, the lock table.
 *
 * NO REDSHIFT CLUSTER IS REACHABLE FROM THIS MACHINE, AND NO AWS AT ALL: no
 * Redshift SQL runs in these tests. The Redshift-only statements (COPY, the
 * system tables) are checked as text and through a fake session that records
 * them. The pieces that are also valid PostgreSQL (the millisecond timestamp
 * expression, the transforms with the Redshift dialect, the landing → staging
 * conversion of `userId`, the lock table) run on the local PostgreSQL server,
 * which proves their arithmetic and logic, not that Redshift accepts them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SparkifyError } from '../src/errors.js';
import { createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { coerceValue } from '../src/schema/coerce.js';
import { createTableSql } from '../src/schema/ddl.js';
import { ALL_TABLES, REJECT_RAW_LIMIT, STAR_TABLES, stagingEvents, stagingSongs, tableByName, type Table } from '../src/schema/tables.js';
import { transforms } from '../src/schema/transforms.js';
import { LocalSource } from '../src/sources/local.js';
import type { Source, SourceFile } from '../src/sources/source.js';
import { PostgresWarehouse } from '../src/warehouses/postgres/postgres-warehouse.js';
import {
  copyLocation,
  copySql,
  createLandingSql,
  insertRowRejectsSql,
  insertStagingSql,
  jsonOption,
  landingCountsSql,
  landingTableName,
  maxErrorFor,
} from '../src/warehouses/redshift/redshift-copy.js';
import { REDSHIFT_MAX_VARCHAR, REDSHIFT_RESERVED, redshiftDialect } from '../src/warehouses/redshift/redshift-dialect.js';
import { classifyCopyError, COPY_IDS_SQL, insertLoadErrorsSql, loadHistorySql, reconcileCopy } from '../src/warehouses/redshift/redshift-load-errors.js';
import { acquireTableLock } from '../src/warehouses/redshift/redshift-lock.js';
import { isServerlessHost, RedshiftWarehouse } from '../src/warehouses/redshift/redshift-warehouse.js';
import { loadStagingRedshift, redshiftSourceIssues, type RedshiftSql } from '../src/warehouses/redshift/redshift-staging.js';
import type { Row, Warehouse } from '../src/warehouses/warehouse.js';
import { countTables } from '../src/pipeline/stage.js';
import { analyzeTables } from '../src/pipeline/publish.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { TEST_PG, dropSchema, dump, runsHere, uniqueSchema } from './warehouses.js';

const ROLE = 'arn:aws:iam::123456789012:role/dwhRole';
/** The run's copies of the tables, which a load fills. */
const INTO_EVENTS = { rows: '_sparkify_next_staging_events', rejects: '_sparkify_next_etl_rejects' };
const INTO_SONGS = { rows: '_sparkify_next_staging_songs', rejects: '_sparkify_next_etl_rejects' };
const JSONPATHS = 's3://udacity-dend/log_json_path.json';

/** The attributes after the column list, e.g. `DISTSTYLE EVEN SORTKEY (start_time)`. */
function attributes(table: Table): { diststyle?: string; distkey?: string; sortkey?: string[] } {
  const ddl = createTableSql(table, redshiftDialect);
  return {
    diststyle: /DISTSTYLE (\w+)/.exec(ddl)?.[1],
    distkey: /DISTKEY \((\w+)\)/.exec(ddl)?.[1],
    sortkey: /SORTKEY \(([^)]+)\)/.exec(ddl)?.[1]?.split(', '),
  };
}

/** Column name → SQL type as rendered in the CREATE TABLE. */
function columnTypes(table: Table): Record<string, string> {
  const ddl = createTableSql(table, redshiftDialect);
  const out: Record<string, string> = {};
  for (const line of ddl.split('\n').slice(1, -1)) {
    const m = /^\s+("?[A-Za-z_]+"?) (.+?)(?: NOT NULL)?,?$/.exec(line);
    if (m && m[1] !== 'PRIMARY') out[m[1]!.replace(/"/g, '')] = m[2]!;
  }
  return out;
}

describe('redshift: DDL from the table data', () => {
  it('distributes and sorts each table as tables.ts says', () => {
    const got = Object.fromEntries(ALL_TABLES.map((t) => [t.name, attributes(t)]));
    expect(got).toEqual({
      staging_events: { diststyle: 'EVEN' },
      staging_songs: { diststyle: 'EVEN' },
      // Not KEY (song_id): the unmatched plays (NULL) would all land on one slice.
      songplays: { diststyle: 'EVEN', sortkey: ['start_time'] },
      songs: { diststyle: 'ALL', sortkey: ['song_id'] },
      users: { diststyle: 'ALL', sortkey: ['user_id'] },
      artists: { diststyle: 'ALL', sortkey: ['artist_id'] },
      time: { diststyle: 'ALL', sortkey: ['start_time'] },
      etl_rejects: { diststyle: 'EVEN' },
      // The ledger: small, read whole by every run.
      etl_files: { diststyle: 'ALL' },
      etl_runs: { diststyle: 'ALL' },
    });
  });

  it('follows the hints for every table, whatever they are', () => {
    for (const t of ALL_TABLES) {
      const a = attributes(t);
      expect(a.diststyle, t.name).toBe(t.distribution!.style.toUpperCase());
      expect(a.distkey, t.name).toBe(t.distribution!.style === 'key' ? t.distribution!.key : undefined);
      expect(a.sortkey, t.name).toEqual(t.sortKey ? [...t.sortKey] : undefined);
    }
  });

  it('gives each column its Redshift type: VARCHAR sized in bytes, no collation, no IDENTITY', () => {
    for (const t of ALL_TABLES) {
      const types = columnTypes(t);
      for (const c of t.columns) {
        const expected =
          c.type === 'text' ? `VARCHAR(${c.maxBytes})` : { integer: 'INTEGER', bigint: 'BIGINT', double: 'DOUBLE PRECISION', timestamp: 'TIMESTAMP' }[c.type];
        expect(types[c.name], `${t.name}.${c.name}`).toBe(expected);
      }
      expect(createTableSql(t, redshiftDialect)).not.toMatch(/COLLATE|IDENTITY/);
    }
    expect(columnTypes(stagingEvents)).toMatchObject({ ts: 'BIGINT', userId: 'INTEGER', userAgent: 'VARCHAR(1024)', location: 'VARCHAR(512)' });
    // raw holds what any warehouse keeps of a record (REJECT_RAW_LIMIT characters of up to 4 bytes; STL's raw_line
    // is 1,024 bytes), not 65,535: Redshift warns that such wide rows may fail INSERT and SELECT.
    expect(columnTypes(tableByName('etl_rejects')).raw).toBe(`VARCHAR(${REJECT_RAW_LIMIT * 4})`);
    const widest = Math.max(...ALL_TABLES.map((t) => t.columns.reduce((n, c) => n + (c.maxBytes ?? 8), 0)));
    expect(widest).toBeLessThan(REDSHIFT_MAX_VARCHAR / 4);
  });

  it('sizes every text column explicitly, within Redshift limits', () => {
    for (const t of ALL_TABLES) {
      for (const c of t.columns.filter((col) => col.type === 'text')) {
        expect(c.maxBytes, `${t.name}.${c.name}`).toBeGreaterThan(0);
        expect(c.maxBytes, `${t.name}.${c.name}`).toBeLessThanOrEqual(REDSHIFT_MAX_VARCHAR);
      }
    }
  });

  it('never makes a star column narrower than the staging column it is made from (the transform cannot fail on length)', () => {
    const lineage: Record<string, string> = {
      'songplays.level': 'staging_events.level',
      'songplays.song_id': 'staging_songs.song_id',
      'songplays.artist_id': 'staging_songs.artist_id',
      'songplays.location': 'staging_events.location',
      'songplays.user_agent': 'staging_events.userAgent',
      'songplays.song_title': 'staging_events.song',
      'songplays.artist_name': 'staging_events.artist',
      'users.first_name': 'staging_events.firstName',
      'users.last_name': 'staging_events.lastName',
      'users.gender': 'staging_events.gender',
      'users.level': 'staging_events.level',
      'songs.song_id': 'staging_songs.song_id',
      'songs.title': 'staging_songs.title',
      'songs.artist_id': 'staging_songs.artist_id',
      'artists.artist_id': 'staging_songs.artist_id',
      'artists.name': 'staging_songs.artist_name',
      'artists.location': 'staging_songs.artist_location',
    };
    const bytes = (ref: string) => {
      const [t, c] = ref.split('.') as [string, string];
      return tableByName(t as Table['name']).columns.find((col) => col.name === c)!.maxBytes!;
    };
    const starText = STAR_TABLES.flatMap((t) => t.columns.filter((c) => c.type === 'text').map((c) => `${t.name}.${c.name}`));
    expect(Object.keys(lineage).sort()).toEqual(starText.sort());
    for (const [star, staging] of Object.entries(lineage)) expect(bytes(star), star).toBeGreaterThanOrEqual(bytes(staging));
  });

  it('holds every text value of the real sample, counted in bytes of UTF-8', () => {
    const longest = (table: Table, records: Record<string, unknown>[]) => {
      for (const c of table.columns.filter((col) => col.type === 'text')) {
        const max = Math.max(0, ...records.map((r) => (typeof r[c.name] === 'string' ? Buffer.byteLength(r[c.name] as string) : 0)));
        expect(max, `${table.name}.${c.name}`).toBeLessThanOrEqual(c.maxBytes!);
      }
    };
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const events = files(SAMPLE_LOGS).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
    const songs = files(SAMPLE_SONGS).map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(events.length).toBe(8056);
    longest(stagingEvents, events);
    longest(stagingSongs, songs);
    // The case the sizes are made for: a title with far more bytes than characters (double-encoded UTF-8).
    const song = events.map((e) => e.song as string | null).find((s) => s && Buffer.byteLength(s) > s.length + 6);
    expect(song).toBeDefined();
  });

  it('declares primary keys and quotes the one reserved column name (raw)', () => {
    expect(createTableSql(tableByName('songplays'), redshiftDialect)).toContain('PRIMARY KEY (songplay_id)');
    expect(createTableSql(tableByName('time'), redshiftDialect)).toContain('PRIMARY KEY (start_time)');
    const rejects = createTableSql(tableByName('etl_rejects'), redshiftDialect);
    expect(rejects).toContain('"raw" VARCHAR(4000)');
    expect(rejects).toMatch(/\n {2}reason VARCHAR/);
  });

  it("quotes exactly the Developer Guide's reserved words, and START and CONNECT, which it says to quote", () => {
    // Copied from https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html
    const documented = `AES128 AES256 ALL ALLOWOVERWRITE ANALYSE ANALYZE AND ANY ARRAY AS ASC AUTHORIZATION AZ64 BACKUP BETWEEN BINARY
      BLANKSASNULL BOTH BYTEDICT BZIP2 CASE CAST CHECK COLLATE COLUMN CONSTRAINT CREATE CREDENTIALS CROSS CURRENT_DATE CURRENT_TIME
      CURRENT_TIMESTAMP CURRENT_USER CURRENT_USER_ID DEFAULT DEFERRABLE DEFLATE DEFRAG DELTA DELTA32K DESC DISABLE DISTINCT DO ELSE
      EMPTYASNULL ENABLE ENCODE ENCRYPT ENCRYPTION END EXCEPT EXPLICIT FALSE FOR FOREIGN FREEZE FROM FULL GLOBALDICT256 GLOBALDICT64K
      GRANT GROUP GZIP HAVING IDENTITY IGNORE ILIKE IN INITIALLY INNER INTERSECT INTERVAL INTO IS ISNULL JOIN LEADING LEFT LIKE LIMIT
      LOCALTIME LOCALTIMESTAMP LUN LUNS LZO LZOP MINUS MOSTLY16 MOSTLY32 MOSTLY8 NATURAL NEW NOT NOTNULL NULL NULLS OFF OFFLINE OFFSET
      OID OLD ON ONLY OPEN OR ORDER OUTER OVERLAPS PARALLEL PARTITION PERCENT PERMISSIONS PIVOT PLACING PRIMARY RAW READRATIO RECOVER
      REFERENCES REJECTLOG RESORT RESPECT RESTORE RIGHT SELECT SESSION_USER SIMILAR SNAPSHOT SOME SYSDATE SYSTEM TABLE TAG TDES TEXT255
      TEXT32K THEN TIMESTAMP TO TOP TRAILING TRUE TRUNCATECOLUMNS UNION UNIQUE UNNEST UNPIVOT USER USING VERBOSE WALLET WHEN WHERE WITH
      WITHOUT`.split(/\s+/);
    expect([...REDSHIFT_RESERVED].sort()).toEqual([...documented, 'START', 'CONNECT'].sort());
    expect(redshiftDialect.columnName('raw')).toBe('"raw"');
    expect(redshiftDialect.columnName('start')).toBe('"start"');
    expect(redshiftDialect.columnName('start_time')).toBe('start_time');
  });

  it('doubles backslashes in string literals (Redshift reads them as escapes)', () => {
    expect(redshiftDialect.quoteString(`it's a\\b`)).toBe(`'it''s a\\\\b'`);
  });
});

/** A source on S3 as S3Source presents itself, without AWS. */
function s3Source(uri: string, files: SourceFile[] = [], extra: Partial<Source> = {}): Source {
  return {
    kind: 's3',
    uri,
    region: 'us-west-2',
    ...extra,
    list: async () => files,
    read: async () => Buffer.alloc(0),
    stream: async function* () {},
    localPath: () => undefined,
    close: async () => undefined,
  };
}

describe('redshift: COPY from S3', () => {
  const from = 's3://udacity-dend/log_data/';

  it('reads the folder (trailing slash), one object as itself, a whole bucket', () => {
    expect(copyLocation('s3://udacity-dend/log_data')).toBe('s3://udacity-dend/log_data/');
    expect(copyLocation('s3://b/song_data/A/x.json')).toBe('s3://b/song_data/A/x.json');
    expect(copyLocation('s3://b')).toBe('s3://b/');
  });

  it('says what stops a location before anything runs: a local folder, another S3 store, a JSONPaths file in the wrong place', () => {
    const local = redshiftSourceIssues(stagingEvents, new LocalSource(SAMPLE_LOGS), {});
    expect(local).toHaveLength(1);
    expect(local[0]!.where).toBe('the event logs (--logs, [S3] LOG_DATA)');
    expect(local[0]!.message).toContain(SAMPLE_LOGS);
    expect(local[0]!.message).toMatch(/aws s3 sync .* --warehouse duckdb/);
    expect(redshiftSourceIssues(stagingSongs, s3Source('s3://b/logs', [], { customEndpoint: 'http://127.0.0.1:9000' }), {})[0]!.message).toContain(
      'not the S3-compatible endpoint http://127.0.0.1:9000',
    );
    expect(redshiftSourceIssues(stagingSongs, s3Source('s3://b/logs', [], { customEndpoint: 'https://s3.eu-west-1.amazonaws.com' }), {})).toEqual([]);
    const logs = s3Source('s3://udacity-dend/log_data');
    expect(redshiftSourceIssues(stagingEvents, logs, { logJsonPaths: JSONPATHS })).toEqual([]);
    expect(redshiftSourceIssues(stagingEvents, logs, { logJsonPaths: '/home/me/log_json_path.json' })[0]!.message).toMatch(/not an s3:\/\/ object/);
    expect(redshiftSourceIssues(stagingEvents, logs, { logJsonPaths: `${from}paths.json` })[0]!.message).toMatch(/lies under the event log location/);
    // Songs never use the event log's JSONPaths file.
    expect(redshiftSourceIssues(stagingSongs, s3Source('s3://udacity-dend/song_data'), { logJsonPaths: '/not/s3.json' })).toEqual([]);
  });

  it('maps events through the JSONPaths file, songs by name, events by name ignoring case when there is no file', () => {
    expect(jsonOption(stagingEvents, JSONPATHS)).toBe(JSONPATHS);
    expect(jsonOption(stagingSongs, undefined)).toBe('auto');
    // 'auto' is case-sensitive against lower-cased column names: firstName, userId … would load NULL.
    expect(jsonOption(stagingEvents, undefined)).toBe('auto ignorecase');
  });

  it("matches the course's JSONPaths file: one path per staging_events column, in the table's order", () => {
    const file = JSON.parse(readFileSync(path.join(SAMPLE_LOGS, '..', 'log_json_path.json'), 'utf8')) as { jsonpaths: string[] };
    expect(file.jsonpaths.map((p) => /^\$\['(.+)'\]$/.exec(p)?.[1])).toEqual(stagingEvents.columns.map((c) => c.name));
  });

  it('turns the reject limit into MAXERROR (COPY fails when errors reach it), within Redshift ceiling', () => {
    expect(maxErrorFor(undefined)).toBe(100_000);
    expect(maxErrorFor(0)).toBe(1);
    expect(maxErrorFor(5)).toBe(6);
    expect(maxErrorFor(10_000_000)).toBe(100_000);
  });

  it('carries the role, the region, the JSON option and MAXERROR, into the landing table with every staging column', () => {
    const sql = copySql({ table: stagingEvents, from, iamRoleArn: ROLE, region: 'us-west-2', json: JSONPATHS, maxError: 11 }, redshiftDialect);
    const clause = (word: string) => new RegExp(`^${word} (.+)$`, 'm').exec(sql)?.[1];
    expect(clause('FROM')).toBe(`'${from}'`);
    expect(clause('IAM_ROLE')).toBe(`'${ROLE}'`);
    expect(clause('REGION')).toBe(`'us-west-2'`);
    expect(clause('FORMAT AS JSON')).toBe(`'${JSONPATHS}'`);
    expect(clause('MAXERROR')).toBe('11');
    const columns = /^COPY (\w+) \(([^)]+)\)/.exec(sql);
    expect(columns?.[1]).toBe(landingTableName(stagingEvents));
    // In table order: the JSONPaths file lists one path per column in this order.
    expect(columns?.[2]?.split(', ')).toEqual(stagingEvents.columns.map((c) => c.name));
    expect(sql).not.toMatch(/TIMEFORMAT/); // staging keeps ts as BIGINT milliseconds
  });

  it("uses the cluster's default role when none is configured, and no REGION when none is known", () => {
    const sql = copySql({ table: stagingSongs, from: 's3://b/song_data/', json: 'auto', maxError: 100_000 }, redshiftDialect);
    expect(sql).toMatch(/^IAM_ROLE default$/m);
    expect(sql).not.toMatch(/REGION/);
  });

  it("adds TIMEFORMAT 'epochmillisecs' only for a table with a TIMESTAMP column", () => {
    const withTime: Table = { name: 'staging_events', role: 'staging', columns: [{ name: 'at', type: 'timestamp' }] };
    expect(copySql({ table: withTime, from, json: 'auto', maxError: 1 }, redshiftDialect)).toMatch(/^TIMEFORMAT 'epochmillisecs'$/m);
  });

  it("lands userId as text (Sparkify writes it as a JSON string, \"\" when logged out), every other column as in staging", () => {
    const ddl = createLandingSql(stagingEvents, redshiftDialect);
    expect(ddl).toMatch(/^CREATE TEMP TABLE _sparkify_copy_staging_events \(/);
    expect(ddl).toContain('userId VARCHAR(256)');
    expect(ddl).toContain('ts BIGINT');
    expect(ddl).toContain('sessionId INTEGER');
  });
});

describe('redshift: load errors into etl_rejects, inside the warehouse', () => {
  it('moves the errors of this COPY only, from the view of the deployment, in one INSERT … SELECT', () => {
    const stl = insertLoadErrorsSql(stagingEvents, 's3://b/log_data/', 'stl', '77', redshiftDialect, '_sparkify_next_etl_rejects');
    expect(stl).toMatch(/^INSERT INTO _sparkify_next_etl_rejects \(target_table, source, line, reason, "raw"\)\nSELECT /);
    expect(stl).toContain('FROM stl_load_errors e WHERE query = 77');
    expect(stl).toContain("WHEN 'userid' THEN 'userId'");
    const sys = insertLoadErrorsSql(stagingSongs, 's3://b/song_data/', 'sys', '78', redshiftDialect);
    expect(sys).toContain('FROM sys_load_error_detail e WHERE query_id = 78');
    expect(sys).not.toContain('raw_line');
    expect(sys).not.toContain('CASE LOWER'); // staging_songs spells every column in lower case
    expect(COPY_IDS_SQL).toBe('SELECT pg_last_copy_id() AS copy_id, pg_backend_pid() AS pid');
    expect(loadHistorySql({ copyId: '77', pid: '1234' })).toMatch(/FROM sys_load_history\nWHERE query_id = 77 OR session_id = 1234\n/);
    expect(isServerlessHost('wg.123456789012.us-west-2.redshift-serverless.amazonaws.com')).toBe(true);
    expect(isServerlessHost('dwhcluster.abc123.us-west-2.redshift.amazonaws.com')).toBe(false);
  });

  it("reconciles with Redshift's own account: loaded rows landed, skipped records found", () => {
    const history = { query_id: 77, loaded_rows: 10, error_count: 2, status: 'completed' };
    expect(reconcileCopy(history, { landed: 10, errors: 2, rejects: 2 })).toBeUndefined();
    expect(reconcileCopy(history, { landed: 10, errors: 3, rejects: 2 })).toBeUndefined(); // two errors on one record
    expect(reconcileCopy(history, { landed: 10, errors: 0, rejects: 0 })).toBe('Redshift says it skipped 2 records, and its error view holds 0 (0 error rows)');
    expect(reconcileCopy(history, { landed: 9, errors: 2, rejects: 2 })).toBe('Redshift says it loaded 10 rows, and 9 landed');
    expect(reconcileCopy(undefined, { landed: 10, errors: 0, rejects: 0 })).toBe('Redshift has no load history for it (sys_load_history)');
  });
});

describe('redshift: row counts keyed on table names', () => {
  /** Answers the count query the way Redshift may: names as blank-padded CHAR. */
  const padded = (rows: { name: string; n: number }[]) => {
    const seen: string[] = [];
    const wh = { dialect: redshiftDialect, query: async (sql: string) => (seen.push(sql), rows) } as unknown as Warehouse;
    return { wh, seen };
  };

  it('casts the names to VARCHAR and compares them trimmed, so a padded name still counts', async () => {
    const { wh, seen } = padded([{ name: 'users    ', n: 104 }, { name: 'songplays', n: 6820 }]);
    expect(await countTables(wh, [{ name: 'users' }, { name: 'songplays' }])).toEqual({ users: 104, songplays: 6820 });
    expect(seen[0]).toContain("SELECT CAST('users' AS VARCHAR(128)) AS name, COUNT(*) AS n FROM users");
  });

  it('fails rather than report 0 for a table missing from the answer', async () => {
    const { wh } = padded([{ name: 'users', n: 104 }]);
    await expect(countTables(wh, [{ name: 'users' }, { name: 'songplays' }])).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('redshift: after a load', () => {
  it('analyzes every table it replaced; a failure is a warning (the run is already published), never an error', async () => {
    const seen: string[] = [];
    const wh = { dialect: redshiftDialect, execute: async (sql: string) => void seen.push(sql) } as unknown as Warehouse;
    expect(await analyzeTables(wh)).toBeUndefined();
    expect(seen).toEqual(ALL_TABLES.map((t) => `ANALYZE ${t.name}`));
    const failing = { dialect: redshiftDialect, execute: async () => Promise.reject(new Error('permission denied for relation songs\nDETAIL: x')) } as unknown as Warehouse;
    expect(await analyzeTables(failing)).toBe(
      'The tables were replaced, but updating their statistics failed (permission denied for relation songs); queries may be planned poorly until the warehouse analyzes them itself, or you run ANALYZE.',
    );
  });
});

describe('redshift: a COPY that fails', () => {
  const ctx = { table: stagingEvents, from: 's3://udacity-dend/log_data/', iamRoleArn: ROLE, maxRejects: 10, maxError: 11, loadErrors: 'stl' as const };
  const server = (message: string) => new SparkifyError('WAREHOUSE_QUERY_FAILED', `Redshift: ${message}`);

  it.each([
    ["Load into table '_sparkify_copy_staging_events' failed.  Check 'stl_load_errors' system table for details.", 'REJECT_LIMIT_EXCEEDED'],
    ['S3ServiceException:Access Denied,Status 403,Error AccessDenied', 'S3_ACCESS_DENIED'],
    [`User arn:aws:redshift:us-west-2:123:dbuser:c/awsuser is not authorized to assume IAM Role ${ROLE}`, 'WAREHOUSE_PERMISSION_DENIED'],
    ['S3ServiceException:The specified bucket does not exist,Status 404,Error NoSuchBucket', 'S3_BUCKET_NOT_FOUND'],
    ['S3ServiceException:The bucket you are attempting to access must be addressed using the specified endpoint.,Status 301,Error PermanentRedirect', 'S3_WRONG_REGION'],
    ['Number of jsonpaths and the number of columns should match. JSONPath size: 17, Number of columns in table or column list: 18', 'LOAD_FAILED'],
    ["The specified S3 prefix 'log_dta' does not exist", 'SOURCE_NOT_FOUND'],
  ])('%s → %s', (message, code) => {
    const err = classifyCopyError(server(message), ctx) as SparkifyError;
    expect(err.code).toBe(code);
    expect(err.hint).toBeTruthy();
  });

  it('keeps an error that is not about the COPY as it is', () => {
    const lost = new SparkifyError('WAREHOUSE_UNREACHABLE', 'Lost the connection');
    expect(classifyCopyError(lost, ctx)).toBe(lost);
  });
});

/** A session that records statements and answers the queries the load asks. */
function fakeSession(
  answers: { history?: { loaded_rows: number; error_count: number }; errors?: { errors: number; rejects: number }; counts?: { total: number; bad: number }; failCopy?: Error } = {},
) {
  const statements: string[] = [];
  const db: RedshiftSql = {
    dialect: redshiftDialect,
    async execute(sql) {
      statements.push(sql);
      if (answers.failCopy && sql.startsWith('COPY ')) throw answers.failCopy;
    },
    async query<T extends Row = Row>(sql: string) {
      statements.push(sql);
      const counts = answers.counts ?? { total: 0, bad: 0 };
      const errors = answers.errors ?? { errors: 0, rejects: 0 };
      const history = answers.history ?? { loaded_rows: counts.total, error_count: errors.rejects };
      if (sql === COPY_IDS_SQL) return [{ copy_id: 77, pid: 1234 }] as unknown as T[];
      if (/FROM sys_load_history/.test(sql)) return [{ query_id: 77, status: 'completed', ...history }] as unknown as T[];
      if (/AS rejects FROM/.test(sql)) return [errors] as unknown as T[];
      if (/COUNT\(\*\) AS total/.test(sql)) return [counts] as unknown as T[];
      return [];
    },
  };
  return { db, statements };
}

describe('redshift: the staging load, statement by statement (fake session)', () => {
  const files: SourceFile[] = [
    { key: '2018/11/a.json', uri: 's3://udacity-dend/log_data/2018/11/a.json', size: 1000 },
    { key: '2018/11/b.json', uri: 's3://udacity-dend/log_data/2018/11/b.json', size: 500 },
  ];
  const source = s3Source('s3://udacity-dend/log_data', files);

  it('copies into a landing table, records load errors, converts userId, counts rows and rejects', async () => {
    const { db, statements } = fakeSession({ errors: { errors: 1, rejects: 1 }, counts: { total: 8056, bad: 2 } });
    const progress: unknown[] = [];
    const result = await loadStagingRedshift(
      db,
      stagingEvents,
      { into: INTO_EVENTS, source, files, format: 'ndjson', maxRejects: 10, onProgress: (p) => progress.push(p) },
      { copy: { iamRoleArn: ROLE, logJsonPaths: JSONPATHS }, loadErrors: 'stl' },
    );
    expect(result).toEqual({ rows: 8054, rejected: 3, bytes: 1500 });
    expect(progress).toEqual([{ records: 8057, bytes: 1500, files: 2 }]);

    const kinds = statements.map((s) => /^(\w+(?: \w+)?)/.exec(s)![1]);
    expect(kinds).toEqual([
      'DROP TABLE',
      'CREATE TEMP',
      'COPY _sparkify_copy_staging_events',
      'SELECT pg_last_copy_id', // this COPY's id and the session
      'SELECT query_id', // Redshift's account of it
      'INSERT INTO', // COPY's load errors, moved inside the warehouse
      'SELECT COUNT', // how many there were
      'INSERT INTO', // rows breaking a rule COPY cannot check
      'INSERT INTO', // good rows into staging_events
      'SELECT COUNT',
      'DROP TABLE',
    ]);
    const copy = statements[2]!;
    expect(copy).toContain(`IAM_ROLE '${ROLE}'`);
    expect(copy).toContain(`REGION 'us-west-2'`); // where the source found the bucket
    expect(copy).toContain(`FORMAT AS JSON '${JSONPATHS}'`);
    expect(copy).toContain('MAXERROR 11');
    expect(statements[5]).toMatch(/^INSERT INTO _sparkify_next_etl_rejects \(/);
    expect(statements[5]).toContain('FROM stl_load_errors e WHERE query = 77');
    expect(statements[7]).toMatch(/^INSERT INTO _sparkify_next_etl_rejects \(/);
    expect(statements[8]).toMatch(/^INSERT INTO _sparkify_next_staging_events \(/);
  });

  it("fails, changing nothing, when Redshift's account of the COPY and what was found differ", async () => {
    const { db } = fakeSession({ history: { loaded_rows: 8056, error_count: 5 }, errors: { errors: 1, rejects: 1 }, counts: { total: 8056, bad: 0 } });
    const err = await loadStagingRedshift(db, stagingEvents, { into: INTO_EVENTS, source, files, format: 'ndjson' }, { copy: {}, loadErrors: 'sys' }).catch((e: SparkifyError) => e);
    expect(err).toMatchObject({ code: 'LOAD_FAILED' });
    expect((err as SparkifyError).message).toBe(
      'The COPY into staging_events from s3://udacity-dend/log_data/ cannot be accounted for: Redshift says it skipped 5 records, and its error view holds 1 (1 error row). A record it skipped could be lost, so no table was changed.',
    );
  });

  it('waits for the load history to show the COPY, then gives up saying so', async () => {
    const waits: number[] = [];
    const { db, statements } = fakeSession({ counts: { total: 3, bad: 0 } });
    const query = db.query.bind(db);
    db.query = (async (sql: string) => (/FROM sys_load_history/.test(sql) ? (statements.push(sql), []) : query(sql))) as RedshiftSql['query'];
    const err = await loadStagingRedshift(db, stagingEvents, { into: INTO_EVENTS, source, files, format: 'ndjson' }, { copy: {}, loadErrors: 'sys', sleep: async (ms) => void waits.push(ms) }).catch(
      (e: SparkifyError) => e,
    );
    expect(waits).toEqual([250, 500, 1000, 2000, 4000]);
    expect(statements.filter((s) => s.includes('FROM sys_load_history'))).toHaveLength(6);
    expect((err as SparkifyError).message).toContain('cannot be accounted for: Redshift has no load history for it (sys_load_history)');
  });

  it('refuses a local folder before running anything', async () => {
    const { db, statements } = fakeSession();
    await expect(
      loadStagingRedshift(db, stagingSongs, { into: INTO_SONGS, source: new LocalSource(SAMPLE_SONGS), files: [], format: 'json' }, { copy: {}, loadErrors: 'stl' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(statements).toEqual([]);
  });

  it('reports too many bad records as REJECT_LIMIT_EXCEEDED, naming the limit', async () => {
    const { db } = fakeSession({
      failCopy: new SparkifyError('WAREHOUSE_QUERY_FAILED', "Redshift: Load into table '_sparkify_copy_staging_songs' failed.  Check 'sys_load_error_detail' system table for details."),
    });
    const err = await loadStagingRedshift(db, stagingSongs, { into: INTO_SONGS, source: s3Source('s3://b/song_data'), files: [], format: 'json', maxRejects: 0 }, { copy: {}, loadErrors: 'sys' }).catch(
      (e: SparkifyError) => e,
    );
    expect(err).toMatchObject({ code: 'REJECT_LIMIT_EXCEEDED' });
    expect((err as SparkifyError).message).toContain('the limit of 0');
    expect((err as SparkifyError).hint).toContain('sys_load_error_detail');
  });
});

const pgEnabled = runsHere('postgres');

describe.skipIf(!pgEnabled)('redshift SQL that is also PostgreSQL, run on the local PostgreSQL', () => {
  const schema = uniqueSchema('sparkify_rs');
  let wh: PostgresWarehouse;

  beforeAll(async () => {
    wh = await PostgresWarehouse.open({ connection: TEST_PG, schema });
  });
  afterAll(async () => {
    await wh?.close();
    await dropSchema(schema);
  });

  it('turns epoch milliseconds into timestamps keeping the milliseconds', async () => {
    const cases: [string, string][] = [
      ['0', '1970-01-01 00:00:00.000'],
      ['1', '1970-01-01 00:00:00.001'],
      ['-1', '1969-12-31 23:59:59.999'],
      ['1541105830796', '2018-11-01 20:57:10.796'], // the sample's first event
      ['1543607674999', '2018-11-30 19:54:34.999'],
      ['253402300799999', '9999-12-31 23:59:59.999'],
    ];
    const sql = cases.map(([ms], i) => `SELECT ${i} AS i, ${redshiftDialect.epochMsToTimestamp(`CAST(${ms} AS BIGINT)`)} AS t`).join(' UNION ALL ');
    const rows = await wh.query<{ i: number; t: string }>(sql);
    expect(rows.sort((a, b) => a.i - b.i).map((r) => r.t)).toEqual(cases.map(([, t]) => t));
  });

  it('builds the same star schema with the Redshift dialect as with PostgreSQL’s (one SQL text)', async () => {
    await createTables(wh);
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    // The same rows built by each dialect's transforms, repairs aside (their table lives for one run).
    const rebuild = (d: typeof redshiftDialect) =>
      wh.transaction(async () => {
        for (const t of [...STAR_TABLES].reverse()) await wh.execute(`DELETE FROM ${t.name}`);
        for (const t of transforms(d)) await wh.execute(t.sql);
      });
    await rebuild(wh.dialect);
    const before: Record<string, unknown[][]> = {};
    for (const t of STAR_TABLES) before[t.name] = await dump(wh, t.name, t.columns.map((c) => c.name));
    await rebuild(redshiftDialect);
    for (const t of STAR_TABLES) expect(await dump(wh, t.name, t.columns.map((c) => c.name)), t.name).toEqual(before[t.name]);
    expect(before.songplays).toHaveLength(6820);
  });

  it('folds a daily run in with the Redshift dialect’s SQL as a full run builds it (PostgreSQL running the SQL text)', async () => {
    await createTables(wh);
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, until: '2018-11-28' });
    // The daily run's SQL as Redshift gets it; only DDL (sizes, distribution) stays PostgreSQL's, to run here.
    const d = { ...redshiftDialect, typeName: wh.dialect.typeName, tableAttributes: wh.dialect.tableAttributes, primaryKeys: wh.dialect.primaryKeys };
    const asRedshift = new Proxy(wh, { get: (t, p) => (p === 'dialect' ? d : ((v) => (typeof v === 'function' ? v.bind(t) : v))(Reflect.get(t, p) as unknown)) });
    const daily = await etl(asRedshift, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS });
    expect(daily.mode).toBe('incremental');
    expect(daily.stages[1]!.changes).toMatchObject({ new: 2, unchanged: 28 });
    const columns = (t: Table) => t.columns.map((c) => c.name).filter((c) => c !== 'songplay_id');
    const folded: Record<string, unknown[][]> = {};
    for (const t of STAR_TABLES) folded[t.name] = await dump(wh, t.name, columns(t));
    await etl(wh, { songs: SAMPLE_SONGS, logs: SAMPLE_LOGS, fullRefresh: true });
    for (const t of STAR_TABLES) expect(folded[t.name], t.name).toEqual(await dump(wh, t.name, columns(t)));
    expect(folded.songplays).toHaveLength(6820);
  });

  it('matches plays to songs byte for byte: a title with a trailing space is another title (Redshift alone would say equal)', async () => {
    await createTables(wh);
    await wh.execute(`INSERT INTO staging_songs (song_id, title, artist_id, artist_name, duration, num_songs) VALUES
      ('SOSPACE', 'Hello ', 'AR1', 'Adele', 295.5, 1), ('SONOSPACE', 'Hello', 'AR1', 'Adele ', 295.5, 1)`);
    await wh.execute(`INSERT INTO staging_events (ts, page, song, artist, length, userId, sessionId, itemInSession) VALUES
      (1, 'NextSong', 'Hello ', 'Adele', 295.5, 1, 1, 0), (2, 'NextSong', 'Hello', 'Adele', 295.5, 1, 1, 1), (3, 'NextSong', 'Hello', 'Adele ', 295.5, 1, 1, 2)`);
    for (const t of transforms(redshiftDialect)) await wh.execute(t.sql);
    expect(await wh.query('SELECT songplay_id, song_id FROM songplays ORDER BY songplay_id')).toEqual([
      { songplay_id: 1, song_id: 'SOSPACE' },
      { songplay_id: 2, song_id: null },
      { songplay_id: 3, song_id: 'SONOSPACE' },
    ]);
    const songplays = transforms(redshiftDialect)[0]!.sql;
    expect(songplays).toContain('c.title = p.song AND LENGTH(c.title) = LENGTH(p.song)');
    expect(songplays).toContain('c.artist_name = p.artist AND LENGTH(c.artist_name) = LENGTH(p.artist)');
    expect(songplays).toContain('PARTITION BY title, LENGTH(title), artist_name, LENGTH(artist_name), duration');
  });

  it('converts the landed userId text by the shared coercion rules, rejecting what they reject', async () => {
    const userId = stagingEvents.columns.find((c) => c.name === 'userId')!;
    const values: (string | null)[] = ['', '39', '-7', '0', 'abc', '1e3', '39.0', ' 39', '2147483647', '2147483648', '-2147483649', '99999999999999999999', null];
    await createTables(wh);
    await wh.transaction(async () => {
      await wh.execute(createLandingSql(stagingEvents, redshiftDialect));
      const land = landingTableName(stagingEvents);
      const rows = values.map((v, i) => `(${i + 1}, ${v === null ? 'NULL' : redshiftDialect.quoteString(v)})`);
      rows.push(`(NULL, '5')`); // ts missing: required
      await wh.execute(`INSERT INTO ${land} (ts, userId) VALUES ${rows.join(', ')}`);
      await wh.execute(insertRowRejectsSql(stagingEvents, 's3://b/log_data/', redshiftDialect)!);
      await wh.execute(insertStagingSql(stagingEvents, redshiftDialect));
      const [counts] = await wh.query<{ total: number; bad: number }>(landingCountsSql(stagingEvents, redshiftDialect));
      expect(counts).toEqual({ total: values.length + 1, bad: 8 });
    });
    const staged = new Map((await wh.query<{ ts: number; userid: number | null }>('SELECT ts, userId FROM staging_events')).map((r) => [r.ts, r.userid]));
    const rejects = await wh.query<{ reason: string; source: string; line: number | null }>('SELECT reason, source, line FROM etl_rejects ORDER BY reason');
    values.forEach((v, i) => {
      const c = coerceValue(userId, v);
      if (c.ok) expect(staged.get(i + 1), `userId ${JSON.stringify(v)}`).toBe(c.value);
      else expect(staged.has(i + 1), `userId ${JSON.stringify(v)} is rejected`).toBe(false);
    });
    expect(rejects.map((r) => r.reason)).toEqual(
      [
        'ts: required field is missing',
        'userId: expected integer, got " 39"',
        'userId: expected integer, got "-2147483649"',
        'userId: expected integer, got "1e3"',
        'userId: expected integer, got "2147483648"',
        'userId: expected integer, got "39.0"',
        'userId: expected integer, got "99999999999999999999"',
        'userId: expected integer, got "abc"',
      ].sort(),
    );
    expect(rejects.every((r) => r.source === 's3://b/log_data/' && r.line === null)).toBe(true);
  });

  /**
   * The whole staging load on PostgreSQL, with stand-ins for what only Redshift
   * has: COPY (it fills the landing table and logs its errors as Redshift
   * documents), the system views (tables with their documented columns) and
   * pg_last_copy_id(). What this proves: the SQL that moves the errors into
   * etl_rejects and the reconciliation compute the right rows; not that
   * Redshift's views hold exactly these values.
   */
  describe('the staging load, with stand-ins for COPY and the system views', () => {
    const into = { rows: 'staging_events', rejects: 'etl_rejects' };
    const files: SourceFile[] = [{ key: '2018/11/a.json', uri: 's3://b/log_data/2018/11/a.json', size: 100 }];
    const source = s3Source('s3://b/log_data', files);
    const long = 'é'.repeat(100);

    beforeEach(async () => {
      await createTables(wh);
      await wh.execute(`DROP TABLE IF EXISTS stl_load_errors, sys_load_error_detail, sys_load_history, copy_ids`);
      await wh.execute(`CREATE TABLE stl_load_errors (query INTEGER, filename CHAR(256), line_number BIGINT, colname CHAR(127), err_reason CHAR(100), raw_field_value CHAR(1024), raw_line CHAR(1024))`);
      await wh.execute(`CREATE TABLE sys_load_error_detail (query_id BIGINT, session_id INTEGER, file_name CHAR(256), line_number BIGINT, column_name CHAR(127), error_message CHAR(512))`);
      await wh.execute(`CREATE TABLE sys_load_history (query_id BIGINT, session_id INTEGER, start_time TIMESTAMP, status TEXT, loaded_rows BIGINT, error_count BIGINT)`);
      await wh.execute(`CREATE TABLE copy_ids (id INTEGER)`);
      await wh.execute(`CREATE OR REPLACE FUNCTION pg_last_copy_id() RETURNS INTEGER LANGUAGE sql AS 'SELECT id FROM copy_ids'`);
    });

    /** A session on the test schema whose COPY lands three rows and logs `errors`, as Redshift would. */
    const session = (onCopy: () => Promise<void>): RedshiftSql => ({
      dialect: redshiftDialect,
      async execute(sql) {
        if (!sql.startsWith('COPY ')) return wh.execute(sql);
        await wh.execute(`INSERT INTO _sparkify_copy_staging_events (ts, userId, page) VALUES (1, '7', 'NextSong'), (2, '', 'Home'), (3, 'x', 'Home')`);
        await onCopy();
      },
      query: (sql) => wh.query(sql),
    });
    const rejects = () => wh.query('SELECT source, line, reason, "raw" FROM etl_rejects ORDER BY reason');
    const staged = () => wh.query('SELECT ts, userId FROM staging_events ORDER BY ts');

    it('provisioned: STL_LOAD_ERRORS by pg_last_copy_id(), one reject per record, the column as the table spells it, value and raw line', async () => {
      const db = session(async () => {
        await wh.execute(`INSERT INTO copy_ids VALUES (77)`);
        await wh.execute(`INSERT INTO stl_load_errors VALUES
          (77, 's3://b/log_data/2018/11/a.json', 4, 'sessionid', 'Invalid digit, Value ''x'', Pos 0, Type: Integer', 'x', '{"sessionId":"x","status":"y"}'),
          (77, 's3://b/log_data/2018/11/a.json', 4, 'status', 'Invalid digit', 'y', '{"sessionId":"x","status":"y"}'),
          (77, 's3://b/log_data/2018/11/b.json', 0, '', 'Invalid JSONPath format', '', ''),
          (77, '', 9, 'artist', 'String length exceeds DDL length', '${long}', '{}'),
          (76, 's3://b/log_data/2018/11/a.json', 1, 'ts', 'an earlier COPY', '', '')`);
        await wh.execute(`INSERT INTO sys_load_history SELECT 77, pg_backend_pid(), now(), 'completed', 3, 4`);
      });
      const result = await loadStagingRedshift(db, stagingEvents, { into, source, files, format: 'ndjson' }, { copy: {}, loadErrors: 'stl' });
      expect(result).toEqual({ rows: 2, rejected: 4, bytes: 100 });
      expect(await staged()).toEqual([{ ts: 1, userid: 7 }, { ts: 2, userid: null }]);
      expect(await rejects()).toEqual([
        { source: 's3://b/log_data/2018/11/b.json', line: null, reason: 'Invalid JSONPath format', raw: null },
        { source: 's3://b/log_data/', line: 9, reason: `artist: String length exceeds DDL length (value "${'é'.repeat(60)}")`, raw: '{}' },
        { source: 's3://b/log_data/2018/11/a.json', line: 4, reason: `sessionId: Invalid digit, Value 'x', Pos 0, Type: Integer (value "x")`, raw: '{"sessionId":"x","status":"y"}' },
        { source: 's3://b/log_data/', line: null, reason: 'userId: expected integer, got "x"', raw: null },
      ]);
    });

    it("Serverless: SYS_LOAD_ERROR_DETAIL by the history's query_id, found by session when pg_last_copy_id() is another id", async () => {
      const db = session(async () => {
        await wh.execute(`INSERT INTO copy_ids VALUES (77)`);
        await wh.execute(`INSERT INTO sys_load_history SELECT 5, pg_backend_pid(), now() - INTERVAL '1 minute', 'completed', 10, 0`);
        await wh.execute(`INSERT INTO sys_load_history SELECT 9001, pg_backend_pid(), now(), 'completed', 3, 1`);
        await wh.execute(`INSERT INTO sys_load_error_detail VALUES (9001, 0, 's3://b/log_data/2018/11/a.json', 5, 'ts', 'Invalid digit')`);
      });
      const result = await loadStagingRedshift(db, stagingEvents, { into, source, files, format: 'ndjson' }, { copy: {}, loadErrors: 'sys' });
      expect(result).toEqual({ rows: 2, rejected: 2, bytes: 100 });
      expect(await rejects()).toEqual([
        { source: 's3://b/log_data/2018/11/a.json', line: 5, reason: 'ts: Invalid digit', raw: null },
        { source: 's3://b/log_data/', line: null, reason: 'userId: expected integer, got "x"', raw: null },
      ]);
    });

    describe('which COPY: the whole prefix, or each new file by its key', () => {
      const listed: SourceFile[] = ['a', 'b', 'c'].map((k, i) => ({ key: `2018/11/${k}.json`, uri: `s3://b/log_data/2018/11/${k}.json`, size: 10 * (i + 1) }));
      /** A session whose every COPY lands one row per file it reads (ts 1, 2, … in order), and is accounted for in the history. */
      const copies = (froms: string[]): RedshiftSql => ({
        dialect: redshiftDialect,
        async execute(sql) {
          if (!sql.startsWith('COPY ')) return wh.execute(sql);
          const from = /FROM '([^']+)'/.exec(sql)![1]!;
          froms.push(from);
          const read = listed.filter((f) => f.uri.startsWith(from));
          await wh.execute(`INSERT INTO _sparkify_copy_staging_events (ts, userId, page) VALUES ${read.map((f) => `(${listed.indexOf(f) + 1}, '7', 'NextSong')`).join(', ')}`);
          const id = 100 + froms.length;
          await wh.execute(`DELETE FROM copy_ids; INSERT INTO copy_ids VALUES (${id})`);
          await wh.execute(`INSERT INTO sys_load_history SELECT ${id}, pg_backend_pid(), clock_timestamp(), 'completed', ${read.length}, 0`);
        },
        query: (sql) => wh.query(sql),
      });
      const fileIds = () => wh.query('SELECT ts, file_id FROM staging_events ORDER BY ts');

      it('a daily run: one COPY per new file, naming exactly its key, each row stamped with its file id', async () => {
        const froms: string[] = [];
        const input = { into, source: s3Source('s3://b/log_data', listed), files: listed.slice(1), fileIds: [5, 9], format: 'ndjson' as const };
        const result = await loadStagingRedshift(copies(froms), stagingEvents, input, { copy: {}, loadErrors: 'stl' });
        expect(froms).toEqual(['s3://b/log_data/2018/11/b.json', 's3://b/log_data/2018/11/c.json']);
        expect(result).toEqual({ rows: 2, rejected: 0, bytes: 50 });
        expect(await fileIds()).toEqual([{ ts: 2, file_id: 5 }, { ts: 3, file_id: 9 }]);
      });

      it('takes what else the prefix holds from the listing it is given, without listing S3 again', async () => {
        const froms: string[] = [];
        const unlistable = s3Source('s3://b/log_data', [], { list: () => Promise.reject(new Error('listed again')) });
        const input = { into, source: unlistable, sourceFiles: listed, files: listed.slice(2), fileIds: [9], format: 'ndjson' as const };
        await loadStagingRedshift(copies(froms), stagingEvents, input, { copy: {}, loadErrors: 'stl' });
        expect(froms).toEqual(['s3://b/log_data/2018/11/c.json']);
      });

      it('a full run: one COPY of the prefix, whose rows cannot say their file', async () => {
        const froms: string[] = [];
        const input = { into, source: s3Source('s3://b/log_data', listed), files: listed, fileIds: [1, 2, 3], format: 'ndjson' as const };
        const result = await loadStagingRedshift(copies(froms), stagingEvents, input, { copy: {}, loadErrors: 'stl' });
        expect(froms).toEqual(['s3://b/log_data/']);
        expect(result).toEqual({ rows: 3, rejected: 0, bytes: 60 });
        expect(await fileIds()).toEqual([1, 2, 3].map((ts) => ({ ts, file_id: null })));
      });

      it('refuses a new file whose key begins another key (COPY would read both), before any COPY', async () => {
        const froms: string[] = [];
        const clash: SourceFile[] = [...listed, { key: '2018/11/b.json.gz', uri: 's3://b/log_data/2018/11/b.json.gz', size: 5 }];
        const input = { into, source: s3Source('s3://b/log_data', clash), files: [listed[1]!], fileIds: [5], format: 'ndjson' as const };
        const err = await loadStagingRedshift(copies(froms), stagingEvents, input, { copy: {}, loadErrors: 'stl' }).catch((e: SparkifyError) => e);
        expect(err).toMatchObject({ code: 'LOAD_FAILED', message: expect.stringContaining('would also read s3://b/log_data/2018/11/b.json.gz') });
        expect(froms).toEqual([]);
      });
    });

    it('fails when a skipped record cannot be found, and the run changes no table', async () => {
      const db = session(async () => {
        await wh.execute(`INSERT INTO copy_ids VALUES (77)`);
        await wh.execute(`INSERT INTO sys_load_history SELECT 77, pg_backend_pid(), now(), 'completed', 3, 2`);
        await wh.execute(`INSERT INTO sys_load_error_detail VALUES (78, 0, 's3://b/log_data/2018/11/a.json', 5, 'ts', 'Invalid digit')`);
      });
      const err = await loadStagingRedshift(db, stagingEvents, { into, source, files, format: 'ndjson' }, { copy: {}, loadErrors: 'sys' }).catch((e: SparkifyError) => e);
      expect(err).toMatchObject({ code: 'LOAD_FAILED' });
      expect((err as SparkifyError).message).toContain('cannot be accounted for: Redshift says it skipped 2 records, and its error view holds 0 (0 error rows)');
    });
  });

  it('opens the wire-protocol transport (PostgreSQL standing in for Redshift: same protocol, not the same server)', async () => {
    const other = uniqueSchema('sparkify_rs_pg');
    const rs = await RedshiftWarehouse.open({ kind: 'redshift', connection: TEST_PG, schema: other, copy: { iamRoleArn: ROLE } });
    try {
      expect(rs.kind).toBe('redshift');
      expect(rs.dialect).toBe(redshiftDialect);
      expect(rs.description).toBe(`Redshift ${TEST_PG.user}@${TEST_PG.host}:${TEST_PG.port}/${TEST_PG.database} (schema ${other})`);
      // The session set-up ran: UTC, the schema created and first on the search path.
      expect(await rs.query(`SELECT current_schema() AS s, current_setting('TimeZone') AS tz`)).toEqual([{ s: other, tz: 'UTC' }]);
      const release = await rs.lock();
      await expect(rs.lock()).rejects.toMatchObject({ code: 'WAREHOUSE_LOCKED' });
      await release();
      // The pipeline asks this before it takes the lock.
      expect(await rs.sourceIssues(stagingEvents, new LocalSource(SAMPLE_LOGS))).toEqual([
        { where: 'the event logs (--logs, [S3] LOG_DATA)', message: expect.stringContaining('Redshift loads only from Amazon S3') },
      ]);
    } finally {
      await rs.close();
      await dropSchema(other);
    }
  });

  it('locks runs out with a lock table: a second run is refused naming the first, release frees it, a lapsed lease is taken over', async () => {
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    const release = await acquireTableLock(wh, { where: `schema ${schema}`, schema, holder: 'run A', now: () => t0, leaseMs: 60_000 });
    const refused = await acquireTableLock(wh, { where: `schema ${schema}`, schema, holder: 'run B', now: () => t0 + 1000 }).catch((e: SparkifyError) => e);
    expect(refused).toMatchObject({ code: 'WAREHOUSE_LOCKED' });
    expect((refused as SparkifyError).message).toContain('run A, since 2026-01-01 12:00:00 UTC');
    expect((refused as SparkifyError).hint).toContain(`DELETE FROM ${schema}.sparkify_lock`);
    await release();
    await release(); // idempotent
    const again = await acquireTableLock(wh, { where: `schema ${schema}`, schema, holder: 'run C', now: () => t0 + 2000, leaseMs: 60_000 });
    // run C dies without releasing; after its lease, run D gets in.
    const later = await acquireTableLock(wh, { where: `schema ${schema}`, schema, holder: 'run D', now: () => t0 + 2000 + 61_000 });
    expect(await wh.query('SELECT holder FROM sparkify_lock')).toEqual([{ holder: 'run D' }]);
    await later();
    await again();
    expect(await wh.query('SELECT holder FROM sparkify_lock')).toEqual([]);
  });

  it('lets exactly one of two runs racing for it take the lock, and names the winner to the other', async () => {
    const other = await PostgresWarehouse.open({ connection: TEST_PG, schema });
    try {
      await (await acquireTableLock(wh, { where: `schema ${schema}`, schema }))(); // the table exists before the race
      for (let round = 0; round < 5; round++) {
        const holders = ['run A', 'run B'];
        const results = await Promise.allSettled([
          acquireTableLock(wh, { where: `schema ${schema}`, schema, holder: holders[0] }),
          acquireTableLock(other, { where: `schema ${schema}`, schema, holder: holders[1] }),
        ]);
        const won = results.findIndex((r) => r.status === 'fulfilled');
        expect(won).toBeGreaterThanOrEqual(0);
        const lost = results[1 - won]!;
        expect(lost.status).toBe('rejected');
        const err = (lost as PromiseRejectedResult).reason as SparkifyError;
        expect(err.code).toBe('WAREHOUSE_LOCKED');
        expect(err.message).toContain(`Another sparkify run is loading schema ${schema} (${holders[won]}, since `);
        expect(await wh.query('SELECT holder FROM sparkify_lock')).toEqual([{ holder: holders[won] }]);
        await (results[won] as PromiseFulfilledResult<() => Promise<void>>).value();
        expect(await wh.query('SELECT holder FROM sparkify_lock')).toEqual([]);
      }
    } finally {
      await other.close();
    }
  });
});
