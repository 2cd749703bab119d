import Table from 'cli-table3';
import type { Command } from 'commander';
import { plural } from '../errors.js';
import { loadStatus, type DayRange, type FilesStatus, type LoadStatus, type RunStatus } from '../pipeline/status.js';
import type { CommandWiring } from './analytics-commands.js';
import { helpExamples } from './options.js';
import { bytes, num, printable, secs, type CommandOutput } from './output.js';

/**
 * `sparkify status`: what has been loaded into the warehouse, from its ledger
 * (etl_files, etl_runs). It only reads: a warehouse without the tables is
 * WAREHOUSE_NOT_READY, as for `counts`, and nothing is created.
 */
export function addStatusCommand(program: Command, wiring: Pick<CommandWiring, 'addCommonOptions' | 'action' | 'withWarehouse'>): void {
  const { addCommonOptions, action, withWarehouse } = wiring;
  addCommonOptions(program.command('status'), { sources: false })
    .description('what has been loaded: files, rows and days per source, the days missing between them, and the recent runs')
    .addHelpText('after', helpExamples([
      'sparkify status',
      'sparkify status -w redshift --json   # result.logs.gaps: the days to backfill',
    ]))
    .action(action(async (_flags, config, out) => {
      await withWarehouse(out, config, async (wh) => printStatus(out, await loadStatus(wh)), { readOnly: true });
    }));
}

/** Gaps listed by name; more are counted. */
const GAPS_SHOWN = 5;

/**
 * The status: JSON (the envelope's `result` is the LoadStatus), or a summary
 * per source, the last run, and a table of the recent runs.
 */
export function printStatus(out: CommandOutput, status: LoadStatus): void {
  if (out.json) return out.succeed(status);
  const { io } = out;
  if (status.empty) {
    io.stdout.write('Nothing has been loaded yet: the tables exist, but no file or run is recorded.\nLoad the sources with `sparkify etl`.\n');
    return;
  }
  const lines: string[] = [];
  const { logs, songs } = status;
  lines.push(`Event logs (${logs.table}): ${filesSummary(logs)}`);
  if (logs.days > 0) {
    const span = logs.firstDay === logs.lastDay ? `${logs.firstDay}` : `${logs.firstDay} to ${logs.lastDay}`;
    const missing = logs.missingDays === 0 ? 'none missing' : `${plural(logs.missingDays, 'day')} missing`;
    lines.push(`  days: ${span}, ${plural(logs.days, 'day')} loaded, ${missing}`);
  }
  if (logs.gaps.length > 0) {
    const shown = logs.gaps.slice(0, GAPS_SHOWN).map(range).join(', ');
    const more = logs.gaps.length > GAPS_SHOWN ? `, and ${plural(logs.gaps.length - GAPS_SHOWN, 'more gap')}` : '';
    lines.push(`  gaps: ${shown}${more}`);
    lines.push('  (put those days\' files in the log source and run `sparkify etl` to fill them)');
  }
  if (logs.undatedFiles > 0) lines.push(`  ${plural(logs.undatedFiles, 'file')} with no YYYY-MM-DD day in ${logs.undatedFiles === 1 ? 'its' : 'their'} name`);
  lines.push(`Song files (${songs.table}): ${filesSummary(songs)}`);

  if (status.lastRun) {
    const r = status.lastRun;
    const when = r.startedAt === null ? 'start not recorded' : `started ${time(r.startedAt)} UTC`;
    const took = r.seconds === null ? (r.finishedAt === null ? ', not finished' : '') : `, took ${secs(r.seconds)}`;
    lines.push('', `Last run: #${r.runId} (${printable(r.mode)}), ${when}${took}`);
    lines.push(`  files: ${n(r.files.new)} new, ${n(r.files.changed)} changed, ${n(r.files.unchanged)} unchanged, ${n(r.files.missing)} missing, ${n(r.files.pruned)} pruned`);
    lines.push(`  records: ${n(r.recordsLoaded)} loaded, ${n(r.recordsRemoved)} removed, ${n(r.rejected)} rejected; ${n(r.songplaysAdded)} songplays added`);
  } else {
    lines.push('', 'No run is recorded.');
  }

  if (status.recentRuns.length > 0) {
    const some = status.runs > status.recentRuns.length;
    lines.push('', some ? `Recent runs (${status.recentRuns.length} of ${num(status.runs)}), newest first:` : 'Runs, newest first:');
    const table = new Table({
      head: ['run', 'mode', 'started (UTC)', 'took', 'files', 'loaded', 'removed', 'rejected', 'songplays'],
      colAligns: ['right', 'left', 'left', 'right', 'left', 'right', 'right', 'right', 'right'],
      style: { head: [], border: [], compact: true },
    });
    for (const r of status.recentRuns) {
      table.push([
        String(r.runId),
        printable(r.mode),
        r.startedAt === null ? '' : time(r.startedAt),
        r.seconds === null ? '' : secs(r.seconds),
        fileChanges(r),
        n(r.recordsLoaded),
        n(r.recordsRemoved),
        n(r.rejected),
        n(r.songplaysAdded),
      ]);
    }
    lines.push(table.toString());
  }
  io.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * `30 files, 8,056 rows, 2 rejected, 3.1 MB`: the rows the staging table holds; and what the ledger's
 * per-file counts add up to, when they are complete and say otherwise.
 */
function filesSummary(s: FilesStatus): string {
  if (s.files === 0) return s.stagingRows === 0 ? 'no file loaded' : `no file recorded, yet ${s.table} holds ${plural(s.stagingRows, 'row')}`;
  let rows = plural(s.stagingRows, 'row');
  if (s.rowsUncounted === 0 && s.rows !== s.stagingRows) rows += ` (the files' counts add up to ${num(s.rows)})`;
  const parts = [plural(s.files, 'file'), rows];
  if (s.rejected > 0) parts.push(`${num(s.rejected)} rejected`);
  parts.push(bytes(s.bytes));
  return `${parts.join(', ')}${s.lastLoadedBy === null ? '' : `; last loaded by run #${s.lastLoadedBy}`}`;
}

/** What a run did to the files, the counts that are not zero: `1 new, 2 changed`; `none changed` when it loaded and removed nothing. */
function fileChanges(r: RunStatus): string {
  const f = r.files;
  if (Object.values(f).every((v) => v === null)) return '–';
  const parts = ([['new', f.new], ['changed', f.changed], ['missing', f.missing], ['pruned', f.pruned]] as const)
    .filter(([, v]) => v !== null && v > 0)
    .map(([label, v]) => `${num(v!)} ${label}`);
  return parts.length > 0 ? parts.join(', ') : 'none changed';
}

function range(g: DayRange): string {
  return g.days === 1 ? g.from : `${g.from} to ${g.to} (${g.days} days)`;
}

/** `2018-11-30 06:00:01.234` → `2018-11-30 06:00:01`. */
function time(ts: string): string {
  return printable(ts.replace(/\.\d+$/, ''));
}

/** A count, or `–` when the run did not record it. */
function n(v: number | null): string {
  return v === null ? '–' : num(v);
}
