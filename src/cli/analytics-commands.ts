import path from 'node:path';
import type { Command } from 'commander';
import { loadCheckFiles, runChecks, type CheckOptions } from '../analytics/checks.js';
import { exportParquet } from '../analytics/export.js';
import { runQuery } from '../analytics/query.js';
import { reportHtml } from '../analytics/report-html.js';
import { buildReport } from '../analytics/report.js';
import type { Config, ConfigFlags } from '../config/config.js';
import { ConfigError, firstLine, messageOf, plural, SparkifyError } from '../errors.js';
import type { SourceOptions } from '../sources/source.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import { printChecks, printQuery, printReport } from './analytics-output.js';
import { bytes, type CliIO, type CommandOutput, type OutputFlags } from './output.js';
import { helpExamples } from './options.js';

/**
 * The analytics team's commands: query, check, report, export. They are wired
 * like every command (main.ts hands over its option sets, its action wrapper
 * and how it opens the warehouse); the work is in src/analytics/.
 */

type CommonFlags = ConfigFlags & OutputFlags & { dryRun?: boolean };

export interface CommandWiring {
  addCommonOptions: (cmd: Command, options?: { sources?: boolean; writes?: boolean }) => Command;
  action: (fn: (flags: CommonFlags, config: Config, out: CommandOutput) => Promise<void>) => (options: unknown, cmd: Command) => Promise<void>;
  withWarehouse: (out: CommandOutput, config: Config, fn: (wh: Warehouse) => Promise<void>, open?: { readOnly: boolean }) => Promise<void>;
  sourceOptions: (config: Config) => SourceOptions;
  setExitCode: (code: number) => void;
}

export function addAnalyticsCommands(program: Command, io: CliIO, wiring: CommandWiring): void {
  const { addCommonOptions, action, withWarehouse, sourceOptions, setExitCode } = wiring;
  addCommonOptions(program.command('query'), { sources: false })
    .argument('[sql]', 'the query; or --file, or SQL on stdin')
    .option('-f, --file <path>', 'read the query from a file')
    .option('--format <format>', 'table, json or csv (default table)')
    .option('--write', 'allow a statement that changes the warehouse (DDL, DML); read-only otherwise')
    .description('ask the warehouse a question: one SQL statement, read-only unless --write')
    .addHelpText('after', helpExamples([
      'sparkify query "SELECT level, COUNT(*) AS plays FROM songplays GROUP BY level"',
      'sparkify query --file top-users.sql --format csv > top-users.csv',
      'echo "SELECT COUNT(*) FROM songplays" | sparkify query -w redshift',
    ]))
    .action((sqlArg: string | undefined, options: unknown, cmd: Command) =>
      action(async (flags, config, out) => {
        const q = flags as CommonFlags & { file?: string; format?: string; write?: boolean };
        const format = q.format ?? 'table';
        if (format !== 'table' && format !== 'json' && format !== 'csv') {
          throw new SparkifyError('USAGE_INVALID', `--format ${format} is not one of table, json, csv.`, { hint: 'Use --format table (the default), json or csv; --json gives the JSON envelope.' });
        }
        const sql = await querySql(sqlArg, q.file, io);
        await withWarehouse(out, config, async (wh) => printQuery(out, await runQuery(wh, sql, { write: q.write }), format), { readOnly: !q.write });
      })(options, cmd),
    );

  addCheckOptions(addCommonOptions(program.command('check'), { sources: false }), false)
    .description('data-quality checks of the star schema; exit 1 when an error-severity check fails')
    .addHelpText('after', helpExamples(['sparkify check', 'sparkify check --checks checks/ --min-match-rate 0.9 --json']))
    .action(action(async (flags, config, out) => {
      const options = await checkOptions(flags as CheckFlags);
      await withWarehouse(out, config, async (wh) => void (setExitCode(printChecks(out, await runChecks(wh, options)))), { readOnly: true });
    }));

  addCommonOptions(program.command('report'), { sources: false })
    .option('--format <format>', 'table, json or csv (default table)')
    .option('--html <file>', 'also write the report as one HTML page with charts (static SVG: no script, nothing fetched)')
    .description('what users listen to: top songs and artists, when, where, free and paid, level changes, devices, sessions, the match rate')
    .addHelpText('after', helpExamples(['sparkify report', 'sparkify report --format csv > report.csv', 'sparkify report -w redshift --json']))
    .action(action(async (flags, config, out) => {
      const format = (flags as CommonFlags & { format?: string }).format ?? 'table';
      if (format !== 'table' && format !== 'json' && format !== 'csv') {
        throw new SparkifyError('USAGE_INVALID', `--format ${format} is not one of table, json, csv.`, { hint: 'Use --format table (the default), json or csv; --json gives the JSON envelope.' });
      }
      const html = (flags as CommonFlags & { html?: string }).html;
      await withWarehouse(
        out,
        config,
        async (wh) => {
          const report = await buildReport(wh);
          if (html) {
            const { writeFile } = await import('node:fs/promises');
            const file = path.resolve(io.cwd, html);
            await writeFile(file, await reportHtml(report, { warehouse: wh.description }));
            out.line(`sparkify: the report with its charts is in ${file}`);
          }
          printReport(out, report, format);
        },
        { readOnly: true },
      );
    }));

  addCommonOptions(program.command('export'), { sources: false })
    .requiredOption('-o, --out <location>', 'a folder, or s3://bucket/prefix')
    .option('--s3-endpoint <url>', 'an S3-compatible endpoint for --out s3://… (MinIO, a local server)')
    .option('--region <region>', "the bucket's region (default: the AWS chain)")
    .description('write the star schema as Parquet files, one per table, to a folder or an S3 prefix')
    .addHelpText('after', helpExamples(['sparkify export --out export/', 'sparkify export -w redshift --out s3://my-bucket/sparkify/2018-11']))
    .action(action(async (flags, config, out) => {
      const target = (flags as CommonFlags & { out: string }).out;
      await withWarehouse(
        out,
        config,
        async (wh) => {
          const result = await exportParquet(wh, { out: target, s3: sourceOptions(config) });
          if (out.json) return out.succeed(result);
          for (const t of result.tables) {
            const layout = t.partitionedBy ? ` in ${plural(t.files, 'file')}, ${bytes(t.bytes)}, partitioned by ${t.partitionedBy.join(', ')}` : `, ${bytes(t.bytes)}`;
            io.stdout.write(`${t.location}  ${plural(t.rows, 'row')}${layout}\n`);
          }
        },
        { readOnly: true },
      );
    }));
}

/** The query: the argument, else the file, else stdin when it is not a terminal. */
async function querySql(arg: string | undefined, file: string | undefined, io: CliIO): Promise<string> {
  if (arg !== undefined && file !== undefined) throw new SparkifyError('USAGE_INVALID', 'Give the query as an argument or with --file, not both.');
  if (arg !== undefined) return arg;
  const { readFile } = await import('node:fs/promises');
  if (file !== undefined) {
    try {
      return await readFile(path.resolve(io.cwd, file), 'utf8');
    } catch (err) {
      throw new SparkifyError('USAGE_INVALID', `Cannot read the query file ${file}: ${firstLine(messageOf(err))}.`);
    }
  }
  if (process.stdin.isTTY) throw new SparkifyError('USAGE_INVALID', 'No query given.', { hint: 'sparkify query "SELECT …", --file q.sql, or the SQL on stdin.' });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export type CheckFlags = CommonFlags & { checks?: string; minMatchRate?: string };

/** --checks and --min-match-rate, checked. */
export async function checkOptions(flags: CheckFlags): Promise<CheckOptions> {
  let minMatchRate: number | undefined;
  if (flags.minMatchRate !== undefined) {
    minMatchRate = Number(flags.minMatchRate);
    if (!/^\s*(0(\.\d+)?|1(\.0+)?)\s*$/.test(flags.minMatchRate)) {
      throw new ConfigError([{ where: '--min-match-rate', message: `"${flags.minMatchRate}" is not a share from 0 to 1 (e.g. 0.9)` }]);
    }
  }
  return { ...(minMatchRate === undefined ? {} : { minMatchRate }), ...(flags.checks ? { extra: await loadCheckFiles(flags.checks) } : {}) };
}

/** The checks' options; on run and etl also --check, which runs them after the load. */
export function addCheckOptions(cmd: Command, afterLoad = true): Command {
  if (afterLoad) cmd.option('--check', 'run the data-quality checks after the load; exit 1 when one of error severity fails');
  return cmd
    .option('--checks <dir>', 'also run your own checks: a folder of .sql files, each returning the rows that break it')
    .option('--min-match-rate <share>', 'the least share of plays matched to a song before its check warns (default 0.5)');
}

