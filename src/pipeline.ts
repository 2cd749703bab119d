import { SparkifyError, toSparkifyError } from './errors.js';
import { createTableSql, dropTableSql, primaryKeyRebuildSql } from './schema/ddl.js';
import { ALL_TABLES, STAR_TABLES, stagingEvents, stagingSongs, type Table } from './schema/tables.js';
import { transforms } from './schema/transforms.js';
import { openSource } from './sources/open-source.js';
import type { RecordFormat } from './sources/records.js';
import type { Source, SourceOptions } from './sources/source.js';
import type { StagingInput, Warehouse } from './warehouses/warehouse.js';

/**
 * The pipeline: create tables; extract + load each staging table; transform
 * staging into the star schema. Each stage runs in one transaction and returns
 * what it did; progress is reported through `onEvent`, never printed here.
 */

export type StageName = 'create-tables' | 'load staging_songs' | 'load staging_events' | 'transform';

export interface StageInfo {
  stage: StageName;
  seconds: number;
  /** Rows written (loads: staging rows; transform: all star rows). */
  rows: number;
  rejected?: number;
  files?: number;
  bytes?: number;
  /** Rows per table written by this stage. */
  tables?: Record<string, number>;
}

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName; detail?: string }
  | { type: 'progress'; stage: StageName; records: number; bytes: number; files: number; totalFiles: number }
  | { type: 'stage-end'; info: StageInfo };

export interface PipelineOptions {
  onEvent?: (event: PipelineEvent) => void;
}

export interface EtlOptions extends PipelineOptions {
  /** Song files: a local folder or `s3://bucket/prefix` (or an opened Source). */
  songs: string | Source;
  /** Event log files: a local folder or `s3://bucket/prefix` (or an opened Source). */
  logs: string | Source;
  sourceOptions?: SourceOptions;
  /** Fail (and roll back) a load when more records than this are rejected. Default: never. */
  maxRejects?: number;
  /** Keep only plays matched to a song. Default false. */
  matchedOnly?: boolean;
  /** Redshift COPY's JSONPaths file for the event log. */
  logJsonPath?: string;
}

export interface EtlReport {
  warehouse: string;
  stages: StageInfo[];
  /** Rows per table after the run. */
  counts: Record<string, number>;
  rejected: number;
  seconds: number;
}

/**
 * Drops (if present) and creates every table, in one transaction.
 *
 * @example
 *   await createTables(await openWarehouse({ kind: 'duckdb', path: 'sparkify.duckdb' }));
 */
export async function createTables(wh: Warehouse, options: PipelineOptions = {}): Promise<StageInfo> {
  return withLock(wh, () =>
    stage('create-tables', options, async () => {
      await wh.transaction(async () => {
        for (const table of [...ALL_TABLES].reverse()) await wh.execute(dropTableSql(table));
        for (const table of ALL_TABLES) await wh.execute(createTableSql(table, wh.dialect));
      });
      return { rows: 0, tables: Object.fromEntries(ALL_TABLES.map((t) => [t.name, 0])) };
    }),
  );
}

/**
 * Loads both staging tables from the sources, then rebuilds the star schema.
 * Running it twice on the same input leaves every table as after one run.
 *
 * @example
 *   const report = await etl(wh, { songs: 'data/sparkify-sample/song_data', logs: 'data/sparkify-sample/log_data' });
 *   console.log(report.counts.songplays);
 */
export async function etl(wh: Warehouse, options: EtlOptions): Promise<EtlReport> {
  const started = performance.now();
  return withLock(wh, async () => {
    await assertTablesExist(wh);
    const songs = typeof options.songs === 'string' ? await openSource(options.songs, options.sourceOptions) : options.songs;
    const logs = typeof options.logs === 'string' ? await openSource(options.logs, options.sourceOptions) : options.logs;
    const stages: StageInfo[] = [];
    stages.push(await loadStage(wh, stagingSongs, songs, 'json', options));
    stages.push(await loadStage(wh, stagingEvents, logs, 'ndjson', options));
    stages.push(await transformStage(wh, options));
    const counts = await countRows(wh);
    return {
      warehouse: wh.description,
      stages,
      counts,
      rejected: stages.reduce((n, s) => n + (s.rejected ?? 0), 0),
      seconds: (performance.now() - started) / 1000,
    };
  });
}

/**
 * Row count of every table.
 *
 * @example
 *   const counts = await countRows(wh); // { staging_events: 8056, …, songplays: 6820, … }
 */
export async function countRows(wh: Warehouse): Promise<Record<string, number>> {
  await assertTablesExist(wh);
  const sql = ALL_TABLES.map((t) => `SELECT '${t.name}' AS name, COUNT(*) AS n FROM ${t.name}`).join('\nUNION ALL\n');
  const rows = await wh.query<{ name: string; n: number }>(sql);
  const counts: Record<string, number> = {};
  for (const t of ALL_TABLES) counts[t.name] = Number(rows.find((r) => r.name === t.name)?.n ?? 0);
  return counts;
}

async function loadStage(wh: Warehouse, table: Table, source: Source, format: RecordFormat, options: EtlOptions): Promise<StageInfo> {
  const name = `load ${table.name}` as StageName;
  return stage(name, options, async () => {
    const files = await source.list();
    if (files.length === 0) {
      throw new SparkifyError('SOURCE_EMPTY', `No *.json files under ${source.uri}.`, {
        hint: `Check the ${format === 'json' ? '--songs / [S3] SONG_DATA' : '--logs / [S3] LOG_DATA'} location.`,
      });
    }
    options.onEvent?.({ type: 'progress', stage: name, records: 0, bytes: 0, files: 0, totalFiles: files.length });
    const input: StagingInput = {
      source,
      files,
      format,
      jsonPaths: table === stagingEvents ? options.logJsonPath : undefined,
      maxRejects: options.maxRejects,
      onProgress: (p) => options.onEvent?.({ type: 'progress', stage: name, ...p, totalFiles: files.length }),
    };
    await wh.prepareStaging?.(table, input);
    const result = await wh.transaction(async () => {
      await wh.execute(`DELETE FROM ${table.name}`);
      await wh.execute(`DELETE FROM etl_rejects WHERE target_table = '${table.name}'`);
      const r = await wh.loadStaging(table, input);
      if (options.maxRejects !== undefined && r.rejected > options.maxRejects) {
        throw new SparkifyError(
          'REJECT_LIMIT_EXCEEDED',
          `${r.rejected} records of ${table.name} were rejected, more than the limit of ${options.maxRejects}; nothing was loaded.`,
          { hint: 'Run without --max-rejects to load the good records and list every reject in etl_rejects (file, line, reason); then fix the sources or raise the limit.' },
        );
      }
      return r;
    });
    return { rows: result.rows, rejected: result.rejected, files: files.length, bytes: result.bytes, tables: { [table.name]: result.rows } };
  });
}

async function transformStage(wh: Warehouse, options: EtlOptions): Promise<StageInfo> {
  return stage('transform', options, async () => {
    const tables: Record<string, number> = {};
    await wh.transaction(async () => {
      const keys = STAR_TABLES.flatMap((t) => primaryKeyRebuildSql(t, wh.dialect) ?? []);
      for (const k of keys) await wh.execute(k.before);
      for (const t of [...STAR_TABLES].reverse()) await wh.execute(`DELETE FROM ${t.name}`);
      for (const t of transforms(wh.dialect, { matchedOnly: options.matchedOnly })) await wh.execute(t.sql);
      for (const k of keys) await wh.execute(k.after);
      const rows = await wh.query<{ name: string; n: number }>(
        STAR_TABLES.map((t) => `SELECT '${t.name}' AS name, COUNT(*) AS n FROM ${t.name}`).join(' UNION ALL '),
      );
      for (const r of rows) tables[r.name] = Number(r.n);
    });
    return { rows: Object.values(tables).reduce((a, b) => a + b, 0), tables };
  });
}

async function stage(
  name: StageName,
  options: PipelineOptions,
  body: () => Promise<Omit<StageInfo, 'stage' | 'seconds'>>,
): Promise<StageInfo> {
  const started = performance.now();
  options.onEvent?.({ type: 'stage-start', stage: name });
  try {
    const info: StageInfo = { stage: name, seconds: 0, ...(await body()) };
    info.seconds = (performance.now() - started) / 1000;
    options.onEvent?.({ type: 'stage-end', info });
    return info;
  } catch (err) {
    const e = toSparkifyError(err, 'LOAD_FAILED');
    e.stage ??= name;
    throw e;
  }
}

async function withLock<T>(wh: Warehouse, fn: () => Promise<T>): Promise<T> {
  const release = await wh.lock();
  try {
    return await fn();
  } finally {
    await release();
  }
}

async function assertTablesExist(wh: Warehouse): Promise<void> {
  // Each query fails with WAREHOUSE_NOT_READY (classified by the warehouse) when a table is missing.
  for (const t of ALL_TABLES) await wh.query(`SELECT 1 AS one FROM ${t.name} WHERE 1 = 0`);
}
