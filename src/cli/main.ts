#!/usr/bin/env node
/**
 * `sparkify`: argv → one library call per command. src/cli/ is the only place
 * that prints or exits.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { addGlobalOptions, addOutputOptions, helpExamples } from './options.js';
import { credentialsWithFallback } from '../aws/credentials.js';
import { loadConfig, type Config, type ConfigFlags } from '../config/config.js';
import { definedOnly } from '../config/layers.js';
import type { SourceOptions } from '../sources/source.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { checksFailed, runChecks } from '../analytics/checks.js';
import { ConfigError, SparkifyError } from '../errors.js';
import { countRows, createTables } from '../pipeline/create-tables.js';
import { doctor } from '../pipeline/doctor.js';
import { dryRun } from '../pipeline/dry-run.js';
import { etl, type EtlOptions } from '../pipeline/etl.js';
import type { EtlReport } from '../pipeline/report.js';
import { describeTarget, openWarehouse } from '../warehouses/open-warehouse.js';
import type { Warehouse } from '../warehouses/warehouse.js';
import { addAnalyticsCommands, addCheckOptions, checkOptions, type CheckFlags } from './analytics-commands.js';
import { checksError, printChecks } from './analytics-output.js';
import { addClusterCommands, type ClusterCliDeps } from './cluster-commands.js';
import { addConfigCommand } from './config-command.js';
import { addGenerateCommand } from './generate-command.js';
import { addStatusCommand } from './status-command.js';
import { CommandOutput, commandName, countsTable, printDoctor, printDryRun, printReport, type CliIO, type OutputFlags, type RejectSample } from './output.js';
import { progressPrinter } from './progress.js';

type CommonFlags = ConfigFlags & OutputFlags & { dryRun?: boolean };
/** How run and etl choose files (the rest of their flags are configuration). */
type LoadFlags = { fullRefresh?: boolean; prune?: boolean; since?: string; until?: string };

const HELP_AFTER = `
Quick start (no server needed: the bundled sample into ./sparkify.duckdb):
  $ sparkify run

Other warehouses:
  $ sparkify run --warehouse postgres://postgres@127.0.0.1:5432/postgres --schema sparkify
  $ sparkify run --warehouse redshift        # [CLUSTER] of dwh.cfg; sources from [S3]
  $ sparkify doctor --warehouse redshift     # check what sparkify relies on there; exit 1 if a check fails

Global options go before or after the command (sparkify --json counts = sparkify counts --json);
-v is --verbose everywhere, -V the version. With --json every command prints one JSON envelope
{ ok, command, warehouse, result | error, warnings } on stdout, and nothing on stderr.

Configuration, later layers winning: dwh.cfg (course layout: [CLUSTER], [IAM_ROLE], [S3], plus
[WAREHOUSE] TARGET/SCHEMA/MAX_REJECTS/RETRIES), environment (SPARKIFY_WAREHOUSE, SPARKIFY_SONGS,
SPARKIFY_LOGS, SPARKIFY_SCHEMA, PG*, DATABASE_URL, AWS_*), then flags.`;

function addCommonOptions(cmd: Command, { sources = true, writes = sources }: { sources?: boolean; writes?: boolean } = {}): Command {
  cmd
    .option('-c, --config <file>', 'dwh.cfg to read (default: ./dwh.cfg when present)')
    .option('-w, --warehouse <target>', 'a DuckDB file path (default ./sparkify.duckdb), postgres://user@host:port/db, or redshift')
    .option('--schema <name>', 'PostgreSQL/Redshift schema (default public)');
  if (sources) {
    cmd
      .option('--songs <location>', 'song files: a folder or s3://bucket/prefix (default: the bundled sample)')
      .option('--logs <location>', 'event log files: a folder or s3://bucket/prefix (default: the bundled sample)')
      .option('--s3-endpoint <url>', 'an S3-compatible endpoint (MinIO, a local server); path-style addressing')
      .option('--region <region>', 'AWS region (default: the AWS chain)')
      .option('--max-rejects <n>', 'fail and roll back a load when more than n records are rejected (default: never)')
      .option('--matched-only', 'keep only plays matched to a song, as the course did (always a full rebuild)')
      .option('--full-refresh', 'rebuild every table from every file (default: load only files new or changed since the last run)')
      .option('--prune', 'remove the records of loaded files the source no longer holds (default: keep them, and say so)')
      .option('--since <day>', 'only event logs named for this day (YYYY-MM-DD) or later: a backfill')
      .option('--until <day>', 'only event logs named for this day (YYYY-MM-DD) or earlier');
  }
  if (writes) cmd.option('--dry-run', 'print every statement the command would send, in order, without connecting');
  if (writes) cmd.option('--retries <n>', 'start again this many times after a transient fault (connection reset, throttling), with backoff (default 2)');
  return addOutputOptions(cmd);
}

/**
 * Runs the CLI and returns the exit code (0 ok, 1 failed, 2 bad usage or configuration).
 *
 * @example
 *   const code = await main(['node', 'sparkify', 'counts', '--json'], { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 */
export async function main(argv: string[], io: CliIO, deps: { cluster?: ClusterCliDeps } = {}): Promise<number> {
  let exitCode = 0;
  let lastFlags: OutputFlags = {};
  // Known before parsing, so that a usage error is a JSON envelope too (options end at `--`).
  const end = argv.indexOf('--');
  const jsonWanted = (end === -1 ? argv : argv.slice(0, end)).slice(2).includes('--json');
  const program = new Command('sparkify')
    .description("Build Sparkify's song-play star schema (songplays, users, songs, artists, time) from raw JSON logs and song files.")
    .version(await version(), '-V, --version')
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // With --json a usage error is the envelope on stdout, and stderr stays empty.
      writeErr: (s) => void (jsonWanted || io.stderr.write(s)),
    });
  addGlobalOptions(program);

  const action =
    (fn: (flags: CommonFlags, config: Config, out: CommandOutput) => Promise<void>) =>
    async (_options: unknown, cmd: Command): Promise<void> => {
      const flags = cmd.optsWithGlobals<CommonFlags>();
      lastFlags = flags;
      const out = new CommandOutput(io, flags, commandName(cmd));
      running = out;
      try {
        const { config, issues, warnings } = loadConfig({ flags, env: io.env, cwd: io.cwd });
        for (const w of warnings) out.warn(w);
        if (!config) throw new ConfigError(issues);
        out.warehouse = describeTarget(config.warehouse);
        await fn(flags, config, out);
      } catch (err) {
        exitCode = out.fail(err);
        // Stopped by a signal: the shell's convention, 128 + its number.
        if (stoppedBy) exitCode = 128 + (stoppedBy === 'SIGINT' ? 2 : 15);
      } finally {
        out.close();
        running = undefined;
      }
    };

  /**
   * Ctrl-C (SIGINT) or SIGTERM stop a run cleanly: the running statement is
   * cancelled, the run's copies dropped, the lock released, nothing changed.
   * A second signal ends the process at once.
   */
  let stoppedBy: NodeJS.Signals | undefined;
  /** The output of the command running now, for the signal's notice. */
  let running: CommandOutput | undefined;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    stoppedBy = signal;
    const notice = `${signal}: stopping; no table will be changed (again to quit at once)`;
    if (running) running.line(notice);
    else io.stderr.write(`\n${notice}\n`);
    controller.abort(signal);
  };
  const stoppable = async (run: (signal: AbortSignal) => Promise<void>) => {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await run(controller.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };

  /**
   * run and etl: load, transform, publish (run also replaces the tables it builds, all at once, only if the
   * whole run succeeds); with --dry-run the statements instead; with --check the checks after.
   */
  const load = (command: 'run' | 'etl') =>
    action(async (flags, config, out) => {
      const chosen = loadFlags(flags as LoadFlags);
      if (flags.dryRun) return printDryRun(out, await dryRun(config.warehouse, command, { ...etlOptions(config, undefined), ...chosen }));
      await stoppable((signal) =>
        withWarehouse(out, config, async (wh) => {
          const report = await etl(wh, { ...etlOptions(config, progressPrinter(out)), ...chosen, replaceTables: command === 'run', signal });
          exitCode = await reportAndCheck(out, wh, report, flags as CheckFlags);
        }),
      );
    });

  addCheckOptions(addCommonOptions(program.command('run'), {}))
    .description('the whole job: build every table from the sources (create-tables and etl in one step); later runs load only new and changed files')
    .addHelpText('after', helpExamples([
      'sparkify run                       # the bundled sample into ./sparkify.duckdb',
      'sparkify run -w postgres://postgres@127.0.0.1:5432/postgres --schema sparkify',
      'sparkify run -w redshift           # [CLUSTER] of dwh.cfg; songs and logs from [S3]',
      'sparkify run --dry-run             # every statement it would send, without connecting',
      'sparkify run --json                # one JSON envelope on stdout: result.counts, result.stages',
    ]))
    .action(load('run'));

  addCommonOptions(program.command('create-tables'), { sources: false, writes: true })
    .description('drop (if present) and create the staging tables, the star schema, etl_rejects and the ledger (etl_files, etl_runs): the next etl loads everything')
    .addHelpText('after', helpExamples([
      'sparkify create-tables -w postgres://postgres@127.0.0.1:5432/postgres',
      'sparkify create-tables --dry-run -w redshift',
    ]))
    .action(action(async (flags, config, out) => {
      if (flags.dryRun) return printDryRun(out, await dryRun(config.warehouse, 'create-tables'));
      await stoppable((signal) =>
        withWarehouse(out, config, async (wh) => {
          const info = await createTables(wh, { onEvent: progressPrinter(out), signal, retries: config.load.retries });
          out.succeed({ tables: Object.keys(info.tables ?? {}), seconds: info.seconds });
        }),
      );
    }));

  addCheckOptions(addCommonOptions(program.command('etl')))
    .description('load staging from the sources, then transform it into the star schema; only files new or changed since the last run')
    .addHelpText('after', helpExamples([
      'sparkify etl                                      # a daily run: only the new day is read',
      'sparkify etl --since 2018-11-10 --until 2018-11-12 # backfill three days',
      'sparkify etl --full-refresh                       # rebuild everything from every file',
      'sparkify etl --logs data/more_log_data            # into tables create-tables made',
      'sparkify etl --max-rejects 0 -v                   # fail and change nothing on the first bad record',
    ]))
    .action(load('etl'));

  addCommonOptions(program.command('counts'), { sources: false })
    .description('row count of every table')
    .addHelpText('after', helpExamples([
      'sparkify counts',
      'sparkify --json counts -w redshift   # global options go before or after the command',
    ]))
    .action(action(async (_flags, config, out) => {
      await withWarehouse(
        out,
        config,
        async (wh) => {
          const counts = await countRows(wh);
          if (out.json) out.succeed({ counts });
          else io.stdout.write(`${countsTable(counts)}\n`);
        },
        { readOnly: true },
      );
    }));

  addStatusCommand(program, { addCommonOptions, action, withWarehouse });

  addCommonOptions(program.command('doctor'), { sources: true, writes: false })
    .description("check what sparkify relies on in the warehouse (tables, rollback, text, weeks, milliseconds; on Redshift, COPY's load errors, with --logs s3://…); exit 1 if a check fails")
    .addHelpText('after', helpExamples([
      'sparkify doctor',
      'sparkify doctor -w redshift --logs s3://udacity-dend/log_data',
    ]))
    .action(action(async (_flags, config, out) => {
      await stoppable((signal) =>
        withWarehouse(out, config, async (wh) => {
          const report = await doctor(wh, { logs: config.logs, sourceOptions: sourceOptions(config), signal });
          exitCode = printDoctor(out, report);
        }),
      );
    }));

  addAnalyticsCommands(program, io, { addCommonOptions, action, withWarehouse, sourceOptions, setExitCode: (code: number) => (exitCode = code) });

  addConfigCommand(addCommonOptions(program.command('config'), { writes: false }), io, (code) => (exitCode = code));

  addClusterCommands(program, io, (code) => (exitCode = code), deps.cluster);
  addGenerateCommand(program, io, (code) => (exitCode = code));

  // A global option given to a command it does not apply to is a usage error, not silently ignored.
  program.hook('preAction', (_program, command) => {
    if (command === program) return;
    for (const option of program.options) {
      const key = option.attributeName();
      if (program.getOptionValueSource(key) !== 'cli' || command.options.some((o) => o.attributeName() === key)) continue;
      command.error(`error: option '${option.long}' does not apply to \`sparkify ${commandName(command)}\``, { code: 'sparkify.optionNotApplicable', exitCode: 2 });
    }
  });

  // `sparkify` alone shows the help; options without a command (`sparkify -v`) or an unknown command are usage errors.
  program.allowExcessArguments().action((_options: unknown, cmd: Command) => {
    const [first] = cmd.args;
    const commands = program.commands.map((c) => c.name()).filter((n) => n !== 'help');
    if (first !== undefined) cmd.error(`error: unknown command '${first}' (the commands: ${commands.join(', ')})`, { code: 'commander.unknownCommand', exitCode: 2 });
    if (argv.length <= 2) {
      io.stdout.write(program.helpInformation());
      return;
    }
    const verbose = argv.slice(2).some((a) => a === '-v' || /^-[a-zA-Z]*v/.test(a));
    const why = verbose ? ': -v is --verbose, for a command (`sparkify run -v`); the version is -V or --version' : '';
    cmd.error(`error: no command given${why}`, { code: 'sparkify.noCommand', exitCode: 2 });
  });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 2.
      if (err.exitCode === 0) return 0;
      if (jsonWanted) {
        const name = commandNameIn(program, argv.slice(2));
        // A group without its command (`sparkify cluster`) ends in commander's help, whose "message" is a placeholder.
        const message = err.code === 'commander.help' ? `no command given: \`sparkify ${name}\` needs one of its commands` : err.message.replace(/^error: /, '');
        const help = name === 'sparkify' ? 'sparkify --help' : `sparkify ${name} --help`;
        new CommandOutput(io, { json: true }, name).fail(new SparkifyError('USAGE_INVALID', message, { hint: `\`${help}\` lists the commands and options.` }));
      }
      return 2;
    }
    return new CommandOutput(io, lastFlags, commandNameIn(program, argv.slice(2))).fail(err);
  }
  return exitCode;
}

/** The load flags given, and only those (a flag left out keeps the library's default). */
function loadFlags(flags: LoadFlags): LoadFlags {
  return definedOnly({ fullRefresh: flags.fullRefresh, prune: flags.prune, since: flags.since, until: flags.until });
}

function etlOptions(config: Config, onEvent: ReturnType<typeof progressPrinter> | undefined): EtlOptions {
  return {
    songs: config.songs,
    logs: config.logs,
    sourceOptions: sourceOptions(config),
    maxRejects: config.load.maxRejects,
    matchedOnly: config.load.matchedOnly,
    retries: config.load.retries,
    onEvent,
  };
}

/** Where S3 is and how to sign: the AWS chain, then dwh.cfg's [AWS] keys when it finds nothing. */
function sourceOptions(config: Config): SourceOptions {
  return definedOnly({ s3Endpoint: config.aws.s3Endpoint, s3Region: config.aws.region, credentials: credentialsWithFallback(config.aws.keys) });
}

/** Opens the configured warehouse for `fn`, and closes it. `readOnly`: the command only reads, and creates nothing. */
async function withWarehouse(out: CommandOutput, config: Config, fn: (wh: Warehouse) => Promise<void>, open = { readOnly: false }): Promise<void> {
  // Which warehouse, and why when no flag named it (the default, or the cluster of a course dwh.cfg).
  const why = (out.flags as CommonFlags).warehouse ? '' : ` — ${config.warehouseChosen}`;
  if (!out.flags.quiet) out.line(`sparkify: ${describeTarget(config.warehouse)}${why}`);
  const wh = await openWarehouse(config.warehouse, { credentials: credentialsWithFallback(config.aws.keys), readOnly: open.readOnly });
  try {
    await fn(wh);
  } finally {
    await wh.close();
  }
}

/** The command an argument list names (for errors met before commander dispatched it): `cluster status`, or `sparkify`. */
function commandNameIn(program: Command, args: string[]): string {
  const names: string[] = [];
  let cmd: Command = program;
  for (const a of args) {
    const sub = cmd.commands.find((c) => c.name() === a);
    if (!sub) continue;
    names.push(a);
    cmd = sub;
  }
  return names.join(' ') || 'sparkify';
}

async function rejectSample(wh: Warehouse, report: EtlReport): Promise<RejectSample[]> {
  if (report.rejected === 0) return [];
  return wh.query<RejectSample & Record<string, string | number | null>>(
    'SELECT target_table, source, line, reason FROM etl_rejects ORDER BY target_table, source, line LIMIT 10',
  );
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

// Run when executed as the `sparkify` binary (not when imported by tests).
const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  // `sparkify counts --json | head -1`: a reader that stops early is not an error of ours.
  const onWriteError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  };
  process.stdout.on('error', onWriteError);
  process.stderr.on('error', onWriteError);
  const code = await main(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
  process.exitCode = code;
}

/** A load's report, and with --check the checks after it: exit 1 (CHECK_FAILED) when an error-severity one fails. */
async function reportAndCheck(out: CommandOutput, wh: Warehouse, report: EtlReport, flags: CheckFlags & { check?: boolean }): Promise<number> {
  const rejects = await rejectSample(wh, report);
  if (!flags.check) return printReport(out, report, rejects);
  const results = await runChecks(wh, await checkOptions(flags));
  const failed = results.filter((r) => r.severity === 'error' && r.status !== 'pass');
  if (out.json) return printReport(out, report, rejects, { results, ...(checksFailed(results) ? { failed: checksError(failed, results.length) } : {}) });
  printReport(out, report, rejects);
  out.io.stdout.write('\n');
  return printChecks(out, results);
}
