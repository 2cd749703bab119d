import { ConfigError, num, plural, SparkifyError } from '../errors.js';
import { nextName } from '../schema/ddl.js';
import { STAR_TABLES, stagingEvents, stagingSongs, type Table } from '../schema/tables.js';
import { createRepairsSql, insertRepairsSql, repairCandidatesSql, repairText, REPAIRS_TABLE } from '../schema/repair.js';
import { transforms } from '../schema/transforms.js';
import { openSource } from '../sources/open-source.js';
import type { RecordFormat } from '../sources/records.js';
import type { Source, SourceFile, SourceOptions } from '../sources/source.js';
import type { StagingInput, Warehouse } from '../warehouses/warehouse.js';
import type { EtlReport, PipelineOptions, RetryInfo, StageInfo, StageName } from './report.js';
import { countRows } from './create-tables.js';
import { analyzeTables, createCopies, dropCopies, publish } from './publish.js';
import { withRetries, type RetryOptions } from './retry.js';
import { assertTablesExist, cancelOnAbort, countTables, stage, withLock } from './stage.js';

/**
 * The pipeline, dlt-style: extract + load each staging table, transform
 * staging into the star schema, publish. Every stage writes copies of the
 * tables; the last one swaps them all in at once, so a run that fails, at any
 * stage and on any warehouse, changes no table. Each stage returns what it
 * did; progress goes through `onEvent`, never printed here.
 */

export interface EtlOptions extends PipelineOptions, RetryOptions {
  /** Song files: a local folder or `s3://bucket/prefix`, or a Source (left open). */
  songs: string | Source;
  /** Event log files: a local folder or `s3://bucket/prefix`, or a Source (left open). */
  logs: string | Source;
  sourceOptions?: SourceOptions;
  /** Fail (and roll back) a load when more records than this are rejected. Default: never. */
  maxRejects?: number;
  /** Keep only plays matched to a song. Default false. */
  matchedOnly?: boolean;
  /**
   * Build the tables whether or not they exist yet (`sparkify run`): they are
   * replaced at the end, with everything else, only when the whole run succeeds.
   * Default false: the tables must exist (`sparkify create-tables`).
   */
  replaceTables?: boolean;
  /** Warn when more than this share of a source's records is rejected. Default 0.5. */
  warnRejectShare?: number;
}

/** A source and its files, listed before anything is touched. */
interface Listed {
  table: Table;
  source: Source;
  files: SourceFile[];
  format: RecordFormat;
}

/**
 * Loads both staging tables from the sources, then rebuilds the star schema.
 * Running it twice on the same input leaves every table as after one run; a
 * run that fails leaves every table as before it. Sources are opened and
 * listed, and the warehouse asked whether it can load them, before the lock is
 * taken.
 *
 * @example
 *   const report = await etl(wh, { songs: 'data/sparkify-sample/song_data', logs: 'data/sparkify-sample/log_data' });
 *   console.log(report.counts.songplays);
 */
export async function etl(wh: Warehouse, options: EtlOptions): Promise<EtlReport> {
  const started = performance.now();
  const opened: Source[] = [];
  const open = async (s: string | Source): Promise<Source> => {
    if (typeof s !== 'string') return s;
    const source = await openSource(s, options.sourceOptions);
    opened.push(source);
    return source;
  };
  try {
    const songs = await list(stagingSongs, await open(options.songs), 'json');
    const logs = await list(stagingEvents, await open(options.logs), 'ndjson');
    const issues = (await Promise.all([songs, logs].map((l) => wh.sourceIssues(l.table, l.source)))).flat();
    if (issues.length > 0) throw new ConfigError(issues);
    const retries: RetryInfo[] = [];
    return await withRetries(wh, options, retries, () => withLock(wh, () => cancelOnAbort(wh, options.signal, async () => {
      if (!options.replaceTables) await assertTablesExist(wh);
      const stages: StageInfo[] = [];
      const warnings: string[] = [];
      const warn = (stageName: StageName, message: string) => {
        warnings.push(message);
        options.onEvent?.({ type: 'warning', stage: stageName, message });
      };
      await createCopies(wh);
      try {
        stages.push(await loadStage(wh, songs, options, warn));
        stages.push(await loadStage(wh, logs, options, warn));
        stages.push(await transformStage(wh, options));
        stages.push(await stage('publish', options, async () => {
          await publish(wh);
          return { rows: 0 };
        }));
      } catch (err) {
        await dropCopies(wh).catch(() => undefined);
        throw err;
      }
      // Published: from here on nothing can undo the run, and a failure is only a warning.
      const analyzeFailed = await analyzeTables(wh);
      if (analyzeFailed) warn('publish', analyzeFailed);
      const counts = await countRows(wh);
      return {
        warehouse: wh.description,
        stages,
        counts,
        rejected: stages.reduce((n, s) => n + (s.rejected ?? 0), 0),
        warnings,
        retries,
        seconds: (performance.now() - started) / 1000,
      };
    })));
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

async function list(table: Table, source: Source, format: RecordFormat): Promise<Listed> {
  const files = await source.list();
  if (files.length === 0) {
    throw new SparkifyError('SOURCE_EMPTY', `No *.json files under ${source.uri}.`, {
      hint: `Check the ${format === 'json' ? '--songs / [S3] SONG_DATA' : '--logs / [S3] LOG_DATA'} location.`,
    });
  }
  return { table, source, files, format };
}

async function loadStage(wh: Warehouse, listed: Listed, options: EtlOptions, warn: (stage: StageName, message: string) => void): Promise<StageInfo> {
  const { table, files } = listed;
  const name = `load ${table.name}` as StageName;
  return stage(name, options, async () => {
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    options.onEvent?.({ type: 'progress', stage: name, records: 0, bytes: 0, files: 0, totalFiles: files.length, totalBytes });
    const input: StagingInput = {
      into: { rows: nextName(table.name), rejects: nextName('etl_rejects') },
      source: listed.source,
      files,
      format: listed.format,
      maxRejects: options.maxRejects,
      signal: options.signal,
      onProgress: (p) => options.onEvent?.({ type: 'progress', stage: name, ...p, totalFiles: files.length, totalBytes }),
    };
    const result = await wh.loadStaging(table, input);
    const records = result.rows + result.rejected;
    if (result.rows === 0) throw await nothingLoaded(wh, listed, records);
    const share = result.rejected / records;
    if (share > (options.warnRejectShare ?? 0.5)) {
      warn(name, `${Math.round(share * 100)}% of the records under ${listed.source.uri} (${num(result.rejected)} of ${num(records)}) were rejected: check that it holds ${listed.format === 'json' ? 'song files' : 'event logs'} (see etl_rejects).`);
    }
    if (options.maxRejects !== undefined && result.rejected > options.maxRejects) {
      throw new SparkifyError(
        'REJECT_LIMIT_EXCEEDED',
        `${plural(result.rejected, 'record')} of ${table.name} ${result.rejected === 1 ? 'was' : 'were'} rejected, more than the limit of ${num(options.maxRejects)}; no table was changed.`,
        { hint: 'Run without --max-rejects to load the good records and list every reject in etl_rejects (file, line, reason); then fix the sources or raise the limit.' },
      );
    }
    const invalidUtf8 = result.invalidUtf8 ?? 0;
    if (invalidUtf8 > 0) {
      warn(name, `${plural(invalidUtf8, 'record')} under ${listed.source.uri} held bytes that are not UTF-8, read as U+FFFD (�); re-export the files as UTF-8 to keep those characters.`);
    }
    const extra = { ...(result.exactFiles === undefined ? {} : { exactFiles: result.exactFiles }), ...(invalidUtf8 > 0 ? { invalidUtf8 } : {}) };
    return { rows: result.rows, rejected: result.rejected, files: files.length, bytes: result.bytes, ...extra, tables: { [table.name]: result.rows } };
  });
}

/** A load in which no record loaded: most likely the wrong folder, or --songs and --logs swapped. */
async function nothingLoaded(wh: Warehouse, listed: Listed, records: number): Promise<SparkifyError> {
  const { table, source, files } = listed;
  const other = listed.format === 'json' ? '--logs' : '--songs';
  const what = listed.format === 'json' ? 'song files (one object per song, with song_id and artist_id)' : 'event logs (one event per line, with ts)';
  if (records === 0) {
    return new SparkifyError('NOTHING_LOADED', `${files.length === 1 ? 'The file' : `The ${plural(files.length, 'file')}`} under ${source.uri} ${files.length === 1 ? 'holds' : 'hold'} no records for ${table.name}; no table was changed.`, {
      hint: `Check that the location holds ${what}.`,
    });
  }
  const q = wh.dialect.quoteString;
  const [first] = await wh
    .query<{ reason: string }>(`SELECT reason FROM ${nextName('etl_rejects')} WHERE target_table = ${q(table.name)} ORDER BY source, line LIMIT 1`)
    .catch(() => []);
  return new SparkifyError(
    'NOTHING_LOADED',
    `None of the ${num(records)} records under ${source.uri} could be loaded into ${table.name}${first ? ` (the first: ${first.reason})` : ''}; no table was changed.`,
    { hint: `Check that the location holds ${what}; are it and ${other} swapped?` },
  );
}

async function transformStage(wh: Warehouse, options: EtlOptions): Promise<StageInfo> {
  return stage('transform', options, async () => {
    const repaired = await prepareRepairs(wh);
    const steps = transforms(wh.dialect, { matchedOnly: options.matchedOnly, names: nextName, repairs: true });
    for (const [done, t] of steps.entries()) {
      options.onEvent?.({ type: 'step', stage: 'transform', step: t.table, done, total: steps.length });
      await wh.execute(t.sql);
    }
    await wh.execute(`DROP TABLE ${REPAIRS_TABLE}`);
    const counts = await countTables(wh, STAR_TABLES.map((t) => ({ name: nextName(t.name) })));
    const tables = Object.fromEntries(STAR_TABLES.map((t) => [t.name, counts[nextName(t.name)] ?? 0]));
    return { rows: Object.values(tables).reduce((a, b) => a + b, 0), tables, repaired };
  });
}

/**
 * The run's repairs of mis-encoded titles and artist names (schema/repair.ts):
 * the distinct candidates come here, the certain repairs go back into a
 * temporary table the transform joins. Returns how many values were repaired.
 */
async function prepareRepairs(wh: Warehouse): Promise<number> {
  const candidates = await wh.query<{ v: string | null }>(repairCandidatesSql(nextName('staging_events')));
  const repairs = candidates.flatMap((c) => {
    const fixed = c.v === null ? undefined : repairText(c.v);
    return fixed === undefined ? [] : [[c.v!, fixed] as [string, string]];
  });
  await wh.execute(`DROP TABLE IF EXISTS ${REPAIRS_TABLE}`);
  await wh.execute(createRepairsSql(wh.dialect));
  for (const sql of insertRepairsSql(repairs, wh.dialect)) await wh.execute(sql);
  return repairs.length;
}
