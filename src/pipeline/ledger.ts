import { SparkifyError } from '../errors.js';
import type { SqlDialect } from '../schema/dialect.js';
import type { StagingTableName } from '../schema/tables.js';
import type { SourceFile } from '../sources/source.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import { hasLedger } from './stage.js';

/**
 * The ledger of loaded files (etl_files) and of runs (etl_runs), and the plan a
 * run makes from it: which listed files are new, changed or unchanged since
 * they were loaded, and which loaded files the source no longer holds. The
 * ledger lives in the warehouse, written in the same transaction as the data,
 * so it can never say a file is loaded when its rows are not there (or the
 * other way round).
 */

/** One row of etl_files. */
export interface LedgerFile {
  fileId: number;
  table: StagingTableName;
  key: string;
  uri: string;
  size: number;
  marker: string | null;
  runId: number;
  /** Rows it gave the staging table; null when the load could not count per file (Redshift's bulk COPY). */
  loadedRows: number | null;
  rejectedRows: number | null;
}

/** What the warehouse holds of the ledger. */
export interface Ledger {
  files: LedgerFile[];
  /** The highest run id and songplay id ever given (0 when none). */
  lastRunId: number;
  lastSongplayId: number;
  lastFileId: number;
}

/**
 * The ledger, or undefined when there is none: the tables are new, or predate
 * it (an earlier sparkify-dwh made no etl_files, etl_runs, nor file_id), and
 * can only be built in full.
 */
export async function readLedger(wh: Warehouse): Promise<Ledger | undefined> {
  if (!(await hasLedger(wh))) return undefined;
  const rows = await wh.query(`SELECT file_id, target_table, file_key, uri, ${wh.dialect.columnName('size')} AS size, marker, run_id, loaded_rows, rejected_rows FROM etl_files ORDER BY file_id`);
  const runs = await wh.query('SELECT MAX(run_id) AS run_id, MAX(last_songplay_id) AS songplay_id FROM etl_runs');
  const [sp] = await wh.query<{ n: number | null }>('SELECT MAX(songplay_id) AS n FROM songplays');
  const files = rows.map((r) => ({
    fileId: Number(r.file_id),
    table: String(r.target_table) as StagingTableName,
    key: String(r.file_key),
    uri: String(r.uri),
    size: Number(r.size),
    marker: r.marker === null ? null : String(r.marker),
    runId: Number(r.run_id),
    loadedRows: r.loaded_rows === null ? null : Number(r.loaded_rows),
    rejectedRows: r.rejected_rows === null ? null : Number(r.rejected_rows),
  }));
  return {
    files,
    lastRunId: Number(runs[0]?.run_id ?? 0),
    lastSongplayId: Math.max(Number(runs[0]?.songplay_id ?? 0), Number(sp?.n ?? 0)),
    lastFileId: files.reduce((n, f) => Math.max(n, f.fileId), 0),
  };
}

/** What the source says changes when a file does: the ETag on S3, else the modification time in ms. */
export function markerOf(file: SourceFile): string | null {
  if (file.etag) return file.etag;
  return file.modified === undefined ? null : String(file.modified);
}

/** A listed file the run loads, with the id its rows get. */
export interface FileToLoad {
  file: SourceFile;
  fileId: number;
  change: 'new' | 'changed';
  /** The ledger row of the version it replaces (changed files). */
  replaces?: LedgerFile;
}

/** What one run does with one source. */
export interface FilePlan {
  table: StagingTableName;
  load: FileToLoad[];
  unchanged: LedgerFile[];
  /** Loaded files the source no longer lists (within the run's days): kept, unless pruned. */
  missing: LedgerFile[];
  /** Whether `missing` files' rows are deleted (--prune). */
  prune: boolean;
  /** Listed files left out by --since/--until. */
  outOfRange: number;
}

/**
 * Compares a source's listing with the ledger. A file is known by its key below
 * the source's root; it changed when its size or its marker did. `inRange`
 * tells which files (listed or loaded) the run looks at (--since/--until).
 */
export function planFiles(
  table: StagingTableName,
  listed: readonly SourceFile[],
  ledger: readonly LedgerFile[],
  options: { nextId: () => number; prune: boolean; inRange?: (key: string) => boolean },
): FilePlan {
  const inRange = options.inRange ?? (() => true);
  const loaded = new Map(ledger.filter((f) => f.table === table).map((f) => [f.key, f]));
  const plan: FilePlan = { table, load: [], unchanged: [], missing: [], prune: options.prune, outOfRange: 0 };
  const seen = new Set<string>();
  for (const file of listed) {
    if (!inRange(file.key)) {
      plan.outOfRange++;
      continue;
    }
    seen.add(file.key);
    const before = loaded.get(file.key);
    if (!before) plan.load.push({ file, fileId: options.nextId(), change: 'new' });
    else if (before.size !== file.size || before.marker !== markerOf(file)) plan.load.push({ file, fileId: options.nextId(), change: 'changed', replaces: before });
    else plan.unchanged.push(before);
  }
  for (const f of loaded.values()) if (!seen.has(f.key) && inRange(f.key)) plan.missing.push(f);
  return plan;
}

/** The ledger rows whose records a run deletes: old versions of changed files, and pruned files. */
export function goneFiles(plan: FilePlan): LedgerFile[] {
  return [...plan.load.flatMap((l) => (l.replaces ? [l.replaces] : [])), ...(plan.prune ? plan.missing : [])];
}

/**
 * The day a log file is of: the last `YYYY-MM-DD` in its name, when it is a
 * real day (`2018/11/2018-11-01-events.json` → `2018-11-01`; `2018-02-30` is none).
 */
export function dayOf(key: string): string | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const day = name.match(/\d{4}-\d{2}-\d{2}/g)?.at(-1);
  return day !== undefined && isDay(day) ? day : undefined;
}

/** Which keys a run with --since/--until looks at: those whose name holds a day in the range. */
export function dayRange(since?: string, until?: string): ((key: string) => boolean) | undefined {
  if (since === undefined && until === undefined) return undefined;
  for (const [flag, v] of [['--since', since], ['--until', until]] as const) {
    if (v !== undefined && !isDay(v)) {
      throw new SparkifyError('USAGE_INVALID', `${flag} takes a day as YYYY-MM-DD, not "${v}".`, { hint: `For example ${flag} 2018-11-01.` });
    }
  }
  if (since !== undefined && until !== undefined && since > until) {
    throw new SparkifyError('USAGE_INVALID', `--since ${since} is after --until ${until}: no day is in that range.`, { hint: 'Swap them, or leave one out.' });
  }
  return (key) => {
    const day = dayOf(key);
    return day !== undefined && (since === undefined || day >= since) && (until === undefined || day <= until);
  };
}

function isDay(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

/** INSERT statements for ledger rows, a few hundred rows each. */
export function insertLedgerSql(into: string, rows: readonly LedgerFile[], d: SqlDialect): string[] {
  const q = d.quoteString;
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const values = rows.slice(i, i + 500).map((f) =>
      `(${f.fileId}, ${q(f.table)}, ${q(f.key)}, ${q(f.uri)}, ${f.size}, ${f.marker === null ? 'NULL' : q(f.marker)}, ${f.runId}, ${f.loadedRows ?? 'NULL'}, ${f.rejectedRows ?? 'NULL'})`,
    );
    out.push(`INSERT INTO ${into} (file_id, target_table, file_key, uri, ${d.columnName('size')}, marker, run_id, loaded_rows, rejected_rows) VALUES\n${values.join(',\n')}`);
  }
  return out;
}

/** `IN (…)` lists of ids, a few thousand at a time (statements stay small on every warehouse). */
export function idLists(ids: readonly number[], size = 2000): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size).join(', '));
  return out;
}
