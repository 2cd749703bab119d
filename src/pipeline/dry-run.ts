import { messageOf } from '../errors.js';
import { openSource } from '../sources/open-source.js';
import type { Source, SourceFile } from '../sources/source.js';
import { DryRunWarehouse } from '../warehouses/dry-run.js';
import type { WarehouseTarget } from '../warehouses/open-warehouse.js';
import type { PlannedStatement } from '../warehouses/warehouse.js';
import { createTables } from './create-tables.js';
import { etl, type EtlOptions } from './etl.js';

/**
 * `--dry-run`: every statement a command would send, in order, with its
 * transaction boundaries, without connecting to the warehouse. The pipeline
 * runs as it would, against a DryRunWarehouse that records instead of sending.
 * The sources are listed (a load's statements name the files), except where
 * listing S3 fails here (no credentials): then a placeholder stands for the
 * files the run will list.
 */

export type DryRunCommand = 'create-tables' | 'etl' | 'run';

export interface DryRun {
  command: DryRunCommand;
  /** The warehouse, described as `describeTarget` does (no password). */
  warehouse: string;
  statements: PlannedStatement[];
}

/**
 * @example
 *   const plan = await dryRun({ kind: 'duckdb', path: 'sparkify.duckdb' }, 'run', { songs: 'data/sparkify-sample/song_data', logs: 'data/sparkify-sample/log_data' });
 *   for (const s of plan.statements) console.log(s.sql ?? `-- ${s.note}`);
 */
export async function dryRun(target: WarehouseTarget, command: DryRunCommand, options: Partial<EtlOptions> = {}): Promise<DryRun> {
  const wh = await DryRunWarehouse.for(target);
  const opened: Source[] = [];
  try {
    if (command === 'create-tables') {
      await createTables(wh, { retries: 0 });
    } else {
      const songs = await listedOrPlaceholder(wh, options.songs, options, opened);
      const logs = await listedOrPlaceholder(wh, options.logs, options, opened);
      await etl(wh, { ...options, songs, logs, retries: 0, replaceTables: command === 'run', onEvent: undefined, signal: undefined });
    }
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
  return { command, warehouse: wh.description, statements: wh.statements };
}

/** The source, listed once; an S3 source that cannot be listed here stands in as one placeholder file. */
async function listedOrPlaceholder(wh: DryRunWarehouse, location: string | Source | undefined, options: Partial<EtlOptions>, opened: Source[]): Promise<Source> {
  if (location === undefined) throw new Error('dryRun: songs and logs are needed for etl and run');
  const source = typeof location === 'string' ? await openSource(location, options.sourceOptions) : location;
  if (typeof location === 'string') opened.push(source);
  let files: SourceFile[];
  try {
    files = await source.list();
  } catch (err) {
    if (source.kind !== 's3') throw err;
    wh.note(`${source.uri} could not be listed here (${messageOf(err)}); {files} stands for what the run will list`);
    files = [{ key: '{files}', uri: `${source.uri}/{files}`, size: 0 }];
  }
  return { ...bind(source), list: async () => files };
}

/** A source's members bound to it, so that a copy with another `list` still reads through it. */
function bind(source: Source): Source {
  return {
    kind: source.kind,
    uri: source.uri,
    region: source.region,
    customEndpoint: source.customEndpoint,
    list: () => source.list(),
    read: (f) => source.read(f),
    stream: (f) => source.stream(f),
    localPath: (f) => source.localPath(f),
    close: () => source.close(),
  };
}
