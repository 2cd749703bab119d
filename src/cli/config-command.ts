import type { Command } from 'commander';
import { clusterSettingsFromConfig } from '../cluster/settings.js';
import { loadConfig, type ConfigFlags, type LoadConfigOptions } from '../config/config.js';
import { findDwhCfg } from '../config/dwh-cfg.js';
import { readConfigLayers, resolveRegion, type SettingTrace } from '../config/layers.js';
import { SAMPLE_DIR } from '../config/paths.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { describeTarget } from '../warehouses/open-warehouse.js';
import { helpExamples } from './options.js';
import { CommandOutput, printable, type CliIO, type OutputFlags } from './output.js';

/**
 * What `sparkify config` shows: the effective settings, each with where it came
 * from (a flag, the environment, which file and section, or the default), the
 * warehouse they resolve to and why, whether the bundled sample is in use, and
 * the cluster settings `sparkify cluster` would use. Secrets appear only as
 * set/unset. Never throws for a bad configuration: its problems are part of
 * the answer.
 */
export interface ConfigDescription {
  /** Where dwh.cfg was looked for, and the files read (dwh.cfg, dwh-cluster.cfg). */
  configFile: { lookedFor: string; read: string[] };
  /** The warehouse, as every run describes it (no password); undefined when the configuration is invalid. */
  warehouse?: string;
  /** Why that warehouse. */
  warehouseChosen?: string;
  /** Whether songs or logs come from the bundled sample, and where it is. */
  sample: { songs: boolean; logs: boolean; path: string };
  settings: SettingTrace[];
  /** What `sparkify cluster create|status|delete` would use. */
  cluster: SettingTrace[];
  clusterIssues: ConfigIssue[];
  warnings: string[];
  issues: ConfigIssue[];
}

/**
 * @example
 *   const d = describeConfig({ flags: {}, env: process.env, cwd: process.cwd() });
 *   for (const s of d.settings) console.log(s.name, s.value, s.from);
 */
export function describeConfig(options: LoadConfigOptions): ConfigDescription {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const result = loadConfig({ ...options, env, cwd });
  const layers = readConfigLayers({ config: flags.config, env, cwd });
  const region = resolveRegion(layers, flags.region);
  const { settings, issues: clusterIssues } = clusterSettingsFromConfig({ sections: layers.sections, region, fileName: layers.fileName, origin: layers.origin });
  const cluster: SettingTrace[] = [];
  const from = (section: string, key: string) => layers.origin(section, key) ?? 'default';
  if (settings) {
    const add = (name: string, value: string | number | boolean | undefined, section: string, key: string) => cluster.push({ name, value: value ?? null, from: from(section, key) });
    add('kind', settings.kind, 'CLUSTER', 'CLUSTER_TYPE');
    if (settings.kind === 'provisioned') {
      add('identifier', settings.identifier, 'CLUSTER', 'IDENTIFIER');
      add('node type', settings.nodeType, 'CLUSTER', 'NODE_TYPE');
      add('nodes', settings.numberOfNodes, 'CLUSTER', 'NUM_NODES');
    } else {
      add('namespace', settings.namespace, 'CLUSTER', 'NAMESPACE');
      add('workgroup', settings.workgroup, 'CLUSTER', 'WORKGROUP');
      add('base capacity (RPUs)', settings.baseCapacity, 'CLUSTER', 'BASE_CAPACITY');
    }
    add('database', settings.database, 'CLUSTER', 'DB_NAME');
    add('admin user', settings.user, 'CLUSTER', 'DB_USER');
    cluster.push({ name: 'admin password', value: settings.password ? 'set' : 'unset', from: from('CLUSTER', 'DB_PASSWORD') });
    add('port', settings.port, 'CLUSTER', 'DB_PORT');
    add('iam role name', settings.roleName, 'IAM_ROLE', 'NAME');
    cluster.push({ name: 'region', value: settings.region ?? null, from: region?.where ?? 'the AWS chain' });
  }
  const songs = result.trace.find((t) => t.name === 'songs');
  const logs = result.trace.find((t) => t.name === 'logs');
  const isSample = (t: SettingTrace | undefined) => t?.from === 'default: the bundled sample';
  return {
    configFile: { lookedFor: findDwhCfg(flags.config, env, cwd).path, read: result.files },
    warehouse: result.config && describeTarget(result.config.warehouse),
    warehouseChosen: result.config?.warehouseChosen,
    sample: { songs: isSample(songs), logs: isSample(logs), path: SAMPLE_DIR },
    settings: result.trace,
    cluster,
    clusterIssues,
    warnings: result.warnings,
    issues: result.issues,
  };
}

/**
 * `sparkify config`: the table a confused user reads first, or `--json` (the envelope; `result` is
 * the description without its warnings and issues, which are the envelope's `warnings` and
 * `error.issues`). Exit code 2 when the configuration is invalid.
 */
export function addConfigCommand(cmd: Command, io: CliIO, setExitCode: (code: number) => void): void {
  cmd.description('show the effective settings, where each came from, and the warehouse they resolve to');
  cmd.addHelpText('after', helpExamples(['sparkify config', 'sparkify config -c course/dwh.cfg --json   # exit code 2 when the configuration has a problem']));
  cmd.action((_options: unknown, command: Command) => {
    const flags = command.optsWithGlobals<ConfigFlags & OutputFlags>();
    const d = describeConfig({ flags, env: io.env, cwd: io.cwd });
    if (d.issues.length > 0) setExitCode(2);
    if (flags.json) {
      const out = new CommandOutput(io, flags, 'config');
      out.warehouse = d.warehouse;
      out.warnings.push(...d.warnings);
      const { warnings: _warnings, issues, ...result } = d;
      if (issues.length > 0) out.fail(new ConfigError(issues), result);
      else out.succeed(result);
      return;
    }
    const lines: string[] = [];
    const files = d.configFile.read.length > 0 ? d.configFile.read.join(', ') : `none (looked for ${d.configFile.lookedFor})`;
    lines.push(`config files   ${files}`);
    lines.push(`warehouse      ${d.warehouse ?? '(invalid: see the problems below)'}`);
    if (d.warehouseChosen) lines.push(`               ${d.warehouseChosen}`);
    const sample = [d.sample.songs && 'songs', d.sample.logs && 'logs'].filter(Boolean).join(' and ');
    lines.push(`sample         ${sample ? `${sample} from the bundled sample at ${d.sample.path}` : 'not in use'}`);
    lines.push('', 'settings', ...table(d.settings));
    lines.push('', 'cluster (sparkify cluster create | status | delete)', ...(d.cluster.length > 0 ? table(d.cluster) : d.clusterIssues.map((i) => `  ✗ ${i.where}: ${i.message}`)));
    if (d.warnings.length > 0) lines.push('', 'warnings', ...d.warnings.map((w) => `  ⚠ ${w}`));
    if (d.issues.length > 0) lines.push('', 'problems (every command refuses to run until they are fixed)', ...d.issues.map((i) => `  ✗ ${i.where}: ${i.message}`));
    io.stdout.write(`${printable(lines.join('\n'), true)}\n`);
  });
}

function table(rows: readonly SettingTrace[]): string[] {
  const name = Math.max(...rows.map((r) => r.name.length));
  const value = Math.min(60, Math.max(...rows.map((r) => String(r.value ?? '—').length)));
  return rows.map((r) => `  ${r.name.padEnd(name)}  ${String(r.value ?? '—').padEnd(value)}  ${r.from}`);
}
