import { Option, type Command } from 'commander';

/**
 * The options every command shares, in either position: `sparkify --json counts`
 * and `sparkify counts --json` mean the same. They are options of the program,
 * which commander reads anywhere on the line (before `--`); each command also
 * lists those that apply to it, so that its --help is complete, and a global
 * option given to a command it does not apply to is refused (main.ts). The
 * command reads them with `optsWithGlobals()`.
 *
 * `-v` is --verbose everywhere; the version is `-V` / `--version`.
 */

const GLOBAL = 'Global options (before or after the command):';

/** --json, --quiet and --verbose (-q and -v together are a usage error), --config, --warehouse, --schema, on the program. */
export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option('--json', 'one JSON envelope on stdout, success or failure (nothing on stderr)').helpGroup(GLOBAL))
    .addOption(new Option('-q, --quiet', 'print nothing but errors').conflicts('verbose').helpGroup(GLOBAL))
    .addOption(new Option('-v, --verbose', 'more detail, and the cause of errors').conflicts('quiet').helpGroup(GLOBAL))
    .addOption(new Option('-c, --config <file>', 'dwh.cfg to read (default: ./dwh.cfg when present)').helpGroup(GLOBAL))
    .addOption(new Option('-w, --warehouse <target>', 'a DuckDB file, postgres://…, or redshift (the commands that use a warehouse)').helpGroup(GLOBAL))
    .addOption(new Option('--schema <name>', 'PostgreSQL/Redshift schema (the commands that use a warehouse)').helpGroup(GLOBAL));
}

/** --json, --quiet, --verbose in a command's own help (the program reads them). */
export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'one JSON envelope on stdout, success or failure (nothing on stderr)')
    .option('-q, --quiet', 'print nothing but errors')
    .option('-v, --verbose', 'more detail, and the cause of errors');
}

/**
 * The examples at the end of a command's --help.
 *
 * @example
 *   cmd.addHelpText('after', helpExamples(['sparkify counts', 'sparkify --json counts   # global options before or after the command']));
 */
export function helpExamples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}
