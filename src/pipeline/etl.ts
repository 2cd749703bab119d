import { ConfigError, num, plural, SparkifyError } from '../errors.js';
import { createTableSql, nextName } from '../schema/ddl.js';
import { createGoneFilesSql, dropIncrementHelpersSql, GONE_FILES, incrementSql } from '../schema/increments.js';
import { etlRejects, etlRuns, STAR_TABLES, stagingEvents, stagingSongs, type StagingTableName, type Table } from '../schema/tables.js';
import { createRepairsSql, insertRepairsSql, repairCandidatesSql, repairText, REPAIRS_TABLE } from '../schema/repair.js';
import { transforms } from '../schema/transforms.js';
import { openSource } from '../sources/open-source.js';
import type { RecordFormat } from '../sources/records.js';
import type { Source, SourceFile, SourceOptions } from '../sources/source.js';
import type { StagingInput, Warehouse } from '../warehouses/warehouse.js';
import type { EtlReport, FileChanges, PipelineOptions, RetryInfo, StageInfo, StageName } from './report.js';
import { countRows } from './create-tables.js';
import { dayRange, goneFiles, idLists, insertLedgerSql, markerOf, planFiles, readLedger, type FilePlan, type FileToLoad, type Ledger, type LedgerFile } from './ledger.js';
import { analyzeTables, createCopies, dropCopies, publish } from './publish.js';
import { withRetries, type RetryOptions } from './retry.js';
import { assertTablesExist, cancelOnAbort, countTables, PRE_LEDGER_TABLES, stage, tablesExist, withLock } from './stage.js';

/**
 * The pipeline, dlt-style: extract + load each staging table, transform
 * staging into the star schema, publish. A full run writes copies of every
 * table and swaps them all in at once; a daily (incremental) run loads only
 * new and changed files into copies of the staging tables and folds them in
 * with one transaction (ledger.ts, schema/increments.ts). Either way a run
 * that fails, at any stage and on any warehouse, changes no table. Each stage
 * returns what it did; progress goes through `onEvent`, never printed here.
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
  /**
   * Rebuild every table from the sources, whatever was loaded before. Default
   * false: when the tables hold earlier runs, load only the files that are new
   * or changed since (see ledger.ts), and fold them in.
   */
  fullRefresh?: boolean;
  /** Delete the records of loaded files the source no longer holds. Default false: keep them, and say so. */
  prune?: boolean;
  /** Only event logs whose file name holds a day on or after this one (YYYY-MM-DD): a backfill's range. */
  since?: string;
  /** Only event logs whose file name holds a day on or before this one (YYYY-MM-DD). */
  until?: string;
}

/** A source and its files, listed before anything is touched. */
interface Listed {
  table: Table;
  source: Source;
  files: SourceFile[];
  format: RecordFormat;
  /** The files in the run's range of days (all of them without --since/--until). */
  inRange?: (key: string) => boolean;
}

/** What the run loads from one source, and what it found compared with the ledger. */
interface Planned extends Listed {
  plan: FilePlan;
}

/**
 * Loads both staging tables from the sources and builds the star schema: the
 * first time (or with `fullRefresh`) from every file, rebuilding every table;
 * after that, only the files new or changed since the ledger's runs, folded
 * into the tables as a full run would leave them (songplay ids aside). Running
 * it twice on the same input leaves every table as after one run; a run that
 * fails leaves every table, and the ledger, as before it. Sources are opened
 * and listed, and the warehouse asked whether it can load them, before the
 * lock is taken.
 *
 * @example
 *   const report = await etl(wh, { songs: 'data/sparkify-sample/song_data', logs: 'data/sparkify-sample/log_data' });
 *   console.log(report.counts.songplays);
 */
export async function etl(wh: Warehouse, options: EtlOptions): Promise<EtlReport> {
  const started = performance.now();
  const startedAt = new Date();
  const inRange = dayRange(options.since, options.until);
  const opened: Source[] = [];
  const open = async (s: string | Source): Promise<Source> => {
    if (typeof s !== 'string') return s;
    const source = await openSource(s, options.sourceOptions);
    opened.push(source);
    return source;
  };
  try {
    const songs = await list(stagingSongs, await open(options.songs), 'json');
    const logs = { ...(await list(stagingEvents, await open(options.logs), 'ndjson')), inRange };
    const issues = (await Promise.all([songs, logs].map((l) => wh.sourceIssues(l.table, l.source)))).flat();
    if (issues.length > 0) throw new ConfigError(issues);
    const retries: RetryInfo[] = [];
    return await withRetries(wh, options, retries, () => withLock(wh, () => cancelOnAbort(wh, options.signal, async () => {
      const warnings: string[] = [];
      const warn = (stageName: StageName, message: string) => {
        warnings.push(message);
        options.onEvent?.({ type: 'warning', stage: stageName, message });
      };
      const run: Run = { wh, options, warn, startedAt };
      const { mode, reason, ledger } = await chooseMode(wh, options);
      const result = mode === 'full' ? await fullRun(run, songs, logs, ledger) : await incrementalRun(run, songs, logs, ledger!);
      // Done: from here on nothing can undo the run, and a failure is only a warning.
      const analyzeFailed = await analyzeTables(wh);
      if (analyzeFailed) warn('publish', analyzeFailed);
      const counts = await countRows(wh);
      return {
        warehouse: wh.description,
        mode,
        ...(reason ? { modeReason: reason } : {}),
        runId: result.runId,
        stages: result.stages,
        counts,
        rejected: result.stages.reduce((n, s) => n + (s.rejected ?? 0), 0),
        warnings,
        retries,
        seconds: (performance.now() - started) / 1000,
      };
    })));
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}

/** What every part of one run shares. */
interface Run {
  wh: Warehouse;
  options: EtlOptions;
  warn: (stage: StageName, message: string) => void;
  startedAt: Date;
}

/**
 * A full rebuild when asked, when the tables are new or hold nothing loaded
 * yet (the bulk path is the fast one), or predate the ledger; else incremental.
 */
async function chooseMode(wh: Warehouse, options: EtlOptions): Promise<{ mode: 'full' | 'incremental'; reason?: string; ledger?: Ledger }> {
  if (!options.replaceTables) await assertTablesExist(wh, PRE_LEDGER_TABLES);
  const ledger = await readLedger(wh);
  if (options.fullRefresh) return { mode: 'full', reason: '--full-refresh', ledger };
  if (!ledger) {
    const built = await tablesExist(wh, PRE_LEDGER_TABLES);
    return { mode: 'full', reason: built ? 'the tables were built before sparkify-dwh kept a ledger of loaded files' : 'the tables are new' };
  }
  if (ledger.files.length === 0) return { mode: 'full', reason: 'nothing was loaded before', ledger };
  if (options.matchedOnly) return { mode: 'full', reason: '--matched-only (a play left out for want of its song cannot be added when the song arrives)', ledger };
  return { mode: 'incremental', ledger };
}

/** The listed files a full run loads (those in its range of days), numbered from 1. */
function planAll(l: Listed, nextId: () => number): Planned {
  const plan = planFiles(l.table.name as StagingTableName, l.files, [], { nextId, prune: false, inRange: l.inRange });
  return { ...l, plan };
}

/**
 * Every file again: loads and the transform write copies of every table; the
 * last stage swaps them all in at once, so a run that fails, at any stage and
 * on any warehouse, changes no table.
 */
async function fullRun(run: Run, songsListed: Listed, logsListed: Listed, ledger: Ledger | undefined): Promise<{ runId: number; stages: StageInfo[] }> {
  const { wh, options, warn } = run;
  let id = 0;
  const songs = planAll(songsListed, () => ++id);
  const logs = planAll(logsListed, () => ++id);
  if (logs.plan.load.length === 0) throw noDays(logs, options);
  const runId = (ledger?.lastRunId ?? 0) + 1;
  const stages: StageInfo[] = [];
  await createCopies(wh);
  try {
    stages.push(await loadStage(wh, songs, options, warn, 'full'));
    stages.push(await loadStage(wh, logs, options, warn, 'full'));
    stages.push(await transformStage(wh, options));
    const playCount = stages[2]!.tables?.songplays ?? 0;
    const ledgerRows = await loadedFiles(wh, [songs, logs], runId);
    // The runs before this one stay in the history (tables without a ledger have none).
    if (ledger) await wh.execute(`INSERT INTO ${nextName('etl_runs')} SELECT * FROM etl_runs`);
    for (const sql of insertLedgerSql(nextName('etl_files'), ledgerRows, wh.dialect)) await wh.execute(sql);
    await wh.execute(insertRunSql(wh, nextName('etl_runs'), {
      runId, mode: 'full', startedAt: run.startedAt, stages: stages.slice(0, 2),
      removed: 0, songplaysAdded: playCount, lastSongplayId: Math.max(playCount, ledger?.lastSongplayId ?? 0),
    }));
    stages.push(await stage('publish', options, async () => {
      await publish(wh);
      return { rows: 0 };
    }));
  } catch (err) {
    await dropCopies(wh).catch(() => undefined);
    throw err;
  }
  return { runId, stages };
}

/**
 * Only what changed since the ledger's runs: the new and changed files are
 * loaded into copies of the staging tables, then folded into the tables in
 * one transaction, with the ledger (schema/increments.ts). A run that fails
 * changes no table, and the ledger still says what the tables hold.
 */
async function incrementalRun(run: Run, songsListed: Listed, logsListed: Listed, ledger: Ledger): Promise<{ runId: number; stages: StageInfo[] }> {
  const { wh, options, warn } = run;
  let id = ledger.lastFileId;
  const nextId = () => ++id;
  const plan = (l: Listed): Planned => ({ ...l, plan: planFiles(l.table.name as StagingTableName, l.files, ledger.files, { nextId, prune: options.prune ?? false, inRange: l.inRange }) });
  const songs = plan(songsListed);
  const logs = plan(logsListed);
  const goneSongs = goneFiles(songs.plan);
  const goneLogs = goneFiles(logs.plan);
  const gone = [...goneSongs, ...goneLogs];
  const goneIds = idLists(gone.map((f) => f.fileId));
  const untraced = gone.filter((f) => f.loadedRows === null);
  if (untraced.length > 0) {
    throw new SparkifyError('FULL_REFRESH_NEEDED', `${plural(untraced.length, 'file')} to replace or prune (${untraced[0]!.uri}${untraced.length > 1 ? ', …' : ''}) ${untraced.length === 1 ? 'was' : 'were'} loaded by a bulk COPY that cannot tell which rows came from which file; no table was changed.`, {
      hint: 'Run with --full-refresh to rebuild from the sources.',
    });
  }
  for (const p of [songs, logs]) {
    const missing = p.plan.missing.length;
    if (missing > 0 && !p.plan.prune) {
      warn(`load ${p.table.name}` as StageName, `${plural(missing, 'file')} loaded before ${missing === 1 ? 'is' : 'are'} no longer under ${p.source.uri} (${p.plan.missing[0]!.key}${missing > 1 ? ', …' : ''}); ${missing === 1 ? 'its' : 'their'} records are kept. Run with --prune to remove them.`);
    }
  }
  const runId = ledger.lastRunId + 1;
  const stages: StageInfo[] = [];
  await dropScratch(wh);
  try {
    const temporary = wh.dialect.scratchTables === 'temporary';
    for (const t of [stagingSongs, stagingEvents, etlRejects]) await wh.execute(createTableSql(t, wh.dialect, { name: nextName(t.name), primaryKey: false, temporary }));
    stages.push(await loadStage(wh, songs, options, warn, 'incremental'));
    stages.push(await loadStage(wh, logs, options, warn, 'incremental'));
    stages.push(await stage('transform', options, async () => {
      const songsChanged = songs.plan.load.length > 0 || goneSongs.length > 0;
      const eventsChanged = logs.plan.load.length > 0 || goneLogs.length > 0;
      const repaired = eventsChanged ? await prepareRepairs(wh) : 0;
      const [plays] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${nextName('staging_events')} WHERE page = 'NextSong'`);
      const added = Number(plays?.n ?? 0);
      const ledgerRows = await loadedFiles(wh, [songs, logs], runId);
      const removed = gone.reduce((n, f) => n + (f.loadedRows ?? 0), 0);
      const steps = incrementSql(wh.dialect, {
        idBase: ledger.lastSongplayId,
        songs: songsChanged,
        events: eventsChanged,
        gone: { songs: goneSongs.length > 0, events: goneLogs.length > 0 },
        repairs: eventsChanged,
      });
      const q = wh.dialect.quoteString;
      await wh.transaction(async () => {
        await wh.execute(createGoneFilesSql());
        for (const ids of goneIds) await wh.execute(`INSERT INTO ${GONE_FILES} (file_id) SELECT file_id FROM etl_files WHERE file_id IN (${ids})`);
        // Rejects name their file by URI.
        for (let i = 0; i < gone.length; i += 500) {
          const some = gone.slice(i, i + 500);
          await wh.execute(`DELETE FROM etl_rejects WHERE ${some.map((f) => `(target_table = ${q(f.table)} AND source = ${q(f.uri)})`).join('\n   OR ')}`);
        }
        for (const [done, sql] of steps.entries()) {
          options.onEvent?.({ type: 'step', stage: 'transform', step: stepName(sql), done, total: steps.length });
          await wh.execute(sql);
        }
        await wh.execute(`INSERT INTO etl_rejects (${etlRejects.columns.map((c) => c.name).join(', ')}) SELECT ${etlRejects.columns.map((c) => c.name).join(', ')} FROM ${nextName('etl_rejects')}`);
        for (const ids of goneIds) await wh.execute(`DELETE FROM etl_files WHERE file_id IN (${ids})`);
        for (const sql of insertLedgerSql('etl_files', ledgerRows, wh.dialect)) await wh.execute(sql);
        await wh.execute(insertRunSql(wh, 'etl_runs', {
          runId, mode: 'incremental', startedAt: run.startedAt, stages: stages.slice(0, 2), removed,
          songplaysAdded: added, lastSongplayId: ledger.lastSongplayId + added,
        }));
      });
      // Committed: what is left is scratch, which the next run drops anyway; failing to drop it now fails nothing.
      await dropScratch(wh).catch(() => undefined);
      return { rows: added, tables: { songplays: added }, repaired };
    }));
  } catch (err) {
    await dropScratch(wh).catch(() => undefined);
    throw err;
  }
  return { runId, stages };
}

/** Drops the copies and helper tables of an incremental run (before it, after it, or after it failed). */
async function dropScratch(wh: Warehouse): Promise<void> {
  await dropCopies(wh);
  for (const sql of dropIncrementHelpersSql()) await wh.execute(sql);
}

/** The star table an incremental statement writes, for progress. */
function stepName(sql: string): string {
  const m = /^\s*(?:INSERT INTO|DELETE FROM|UPDATE|CREATE TABLE)\s+([a-z_]+)/i.exec(sql);
  return m?.[1] ?? 'step';
}

/** A full run whose range of days holds no log file. */
function noDays(logs: Planned, options: EtlOptions): SparkifyError {
  const range = [options.since && `from ${options.since}`, options.until && `until ${options.until}`].filter(Boolean).join(' ');
  return new SparkifyError('SOURCE_EMPTY', `None of the ${plural(logs.files.length, 'file')} under ${logs.source.uri} is named for a day ${range}; nothing was loaded and no table was changed.`, {
    hint: 'Check --since/--until, and that the log files are named by day (2018-11-01-events.json).',
  });
}

/** The ledger rows of the files a run loaded, with the rows and rejects each gave (counted in the run's copies). */
async function loadedFiles(wh: Warehouse, planned: readonly Planned[], runId: number): Promise<LedgerFile[]> {
  const out: LedgerFile[] = [];
  for (const p of planned) {
    if (p.plan.load.length === 0) continue;
    const rows = await wh.query<{ file_id: number | null; n: number }>(`SELECT file_id, COUNT(*) AS n FROM ${nextName(p.table.name)} GROUP BY file_id`);
    const rejects = await wh.query<{ source: string; n: number }>(
      `SELECT source, COUNT(*) AS n FROM ${nextName('etl_rejects')} WHERE target_table = ${wh.dialect.quoteString(p.table.name)} GROUP BY source`,
    );
    const byId = new Map(rows.map((r) => [r.file_id === null ? null : Number(r.file_id), Number(r.n)]));
    const byUri = new Map(rejects.map((r) => [String(r.source).trim(), Number(r.n)]));
    // Rows without a file id: the load could not tell files apart (a bulk COPY), so no file's count is known.
    const traced = !byId.has(null);
    for (const l of p.plan.load) {
      out.push({
        fileId: l.fileId, table: p.plan.table, key: l.file.key, uri: l.file.uri, size: l.file.size, marker: markerOf(l.file), runId,
        loadedRows: traced ? (byId.get(l.fileId) ?? 0) : null,
        rejectedRows: traced ? (byUri.get(l.file.uri) ?? 0) : null,
      });
    }
  }
  return out;
}

interface RunRow {
  runId: number;
  mode: 'full' | 'incremental';
  startedAt: Date;
  /** The two load stages. */
  stages: StageInfo[];
  removed: number;
  songplaysAdded: number;
  lastSongplayId: number;
}

/** The etl_runs row of a run. */
function insertRunSql(wh: Warehouse, into: string, r: RunRow): string {
  const changes = r.stages.map((s) => s.changes);
  const sum = (f: (c: FileChanges) => number) => changes.reduce((n, c) => n + (c ? f(c) : 0), 0);
  const ts = (d: Date) => `TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')}'`;
  const cols = etlRuns.columns.map((c) => wh.dialect.columnName(c.name)).join(', ');
  const values = [
    r.runId, wh.dialect.quoteString(r.mode), ts(r.startedAt), ts(new Date()),
    sum((c) => c.new), sum((c) => c.changed), sum((c) => c.unchanged), sum((c) => c.missing), sum((c) => c.pruned),
    r.stages.reduce((n, s) => n + s.rows, 0), r.removed, r.stages.reduce((n, s) => n + (s.rejected ?? 0), 0),
    r.songplaysAdded, r.lastSongplayId,
  ];
  return `INSERT INTO ${into} (${cols}) VALUES (${values.join(', ')})`;
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

async function loadStage(wh: Warehouse, listed: Planned, options: EtlOptions, warn: (stage: StageName, message: string) => void, mode: 'full' | 'incremental'): Promise<StageInfo> {
  const { table, plan } = listed;
  const files = plan.load.map((l) => l.file);
  const name = `load ${table.name}` as StageName;
  const changes = fileChanges(plan);
  return stage(name, options, async () => {
    if (files.length === 0) return { rows: 0, rejected: 0, files: 0, bytes: 0, changes, tables: { [table.name]: 0 } };
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    options.onEvent?.({ type: 'progress', stage: name, records: 0, bytes: 0, files: 0, totalFiles: files.length, totalBytes });
    const input: StagingInput = {
      into: { rows: nextName(table.name), rejects: nextName('etl_rejects') },
      source: listed.source,
      files,
      sourceFiles: listed.files,
      fileIds: plan.load.map((l) => l.fileId),
      format: listed.format,
      maxRejects: options.maxRejects,
      signal: options.signal,
      onProgress: (p) => options.onEvent?.({ type: 'progress', stage: name, ...p, totalFiles: files.length, totalBytes }),
    };
    const result = await wh.loadStaging(table, input);
    const records = result.rows + result.rejected;
    // A day whose records are all rejected is only that, when other days are loaded already; but a daily run
    // that knows none of the source's files and loads none of their records was most likely pointed at the
    // wrong folder (--songs and --logs swapped), as a full run would be.
    const knowsNone = plan.unchanged.length === 0 && plan.load.every((l) => l.change === 'new');
    if (result.rows === 0 && (mode === 'full' || knowsNone)) throw await nothingLoaded(wh, listed, files, records);
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
    changes.newRecords = result.rows;
    return { rows: result.rows, rejected: result.rejected, files: files.length, bytes: result.bytes, ...extra, changes, tables: { [table.name]: result.rows } };
  });
}

/** What a load found, compared with the ledger; its records are counted once loaded. */
function fileChanges(plan: FilePlan): FileChanges {
  const changed = plan.load.filter((l: FileToLoad) => l.change === 'changed').length;
  const pruned = plan.prune ? plan.missing.length : 0;
  return {
    new: plan.load.length - changed,
    changed,
    unchanged: plan.unchanged.length,
    missing: plan.missing.length - pruned,
    pruned,
    newRecords: 0,
    removedRecords: goneFiles(plan).reduce((n, f) => n + (f.loadedRows ?? 0), 0),
    ...(plan.outOfRange > 0 ? { outOfRange: plan.outOfRange } : {}),
  };
}

/** A load in which no record loaded: most likely the wrong folder, or --songs and --logs swapped. */
async function nothingLoaded(wh: Warehouse, listed: Listed, files: readonly SourceFile[], records: number): Promise<SparkifyError> {
  const { table, source } = listed;
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
