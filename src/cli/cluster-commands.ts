import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ClusterClients, ClusterEvent, ClusterRunOptions, ClusterSettings } from '../cluster/index.js';
import { credentialsWithFallback } from '../aws/credentials.js';
import { awsKeysFromFile } from '../config/config.js';
import { readConfigLayers, resolveRegion } from '../config/layers.js';
import { ConfigError, plural, SparkifyError } from '../errors.js';
import { addOutputOptions, helpExamples } from './options.js';
import { CommandOutput, commandName, secs, type CliIO, type OutputFlags } from './output.js';

interface ClusterFlags extends OutputFlags {
  config?: string;
  region?: string;
  serverless?: boolean;
  myIp?: string;
  openToWorld?: boolean;
  skipIngress?: boolean;
  yes?: boolean;
  finalSnapshot?: boolean | string;
  keepRole?: boolean;
}

/** How the cluster commands reach AWS; tests replace the clients with SDK mocks. */
export interface ClusterCliDeps {
  clients?: (region?: string) => ClusterClients;
  discoverIp?: () => Promise<string>;
  /** The clock and sleep of the waits (tests pass a fake clock). */
  runOptions?: Pick<ClusterRunOptions, 'sleep' | 'now'>;
}

/**
 * The AWS control-plane clients that only the cluster commands use. They are
 * optionalDependencies: `npm install --omit=optional` leaves them out, and a
 * DuckDB or PostgreSQL user never loads them.
 */
export const CLUSTER_PACKAGES = ['@aws-sdk/client-ec2', '@aws-sdk/client-iam', '@aws-sdk/client-redshift', '@aws-sdk/client-redshift-serverless'] as const;

/**
 * The typed error for a failed load of the cluster code because one of
 * CLUSTER_PACKAGES is not installed (Node's ERR_MODULE_NOT_FOUND, "Cannot find
 * package '@aws-sdk/client-ec2' imported from …"); undefined for anything else.
 *
 * @example
 *   missingDependency(err)?.code; // 'DEPENDENCY_MISSING'
 */
export function missingDependency(err: unknown): SparkifyError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' || typeof message !== 'string') return undefined;
  // The package's name, or a path inside it (`…/node_modules/@aws-sdk/client-iam/dist-es/index.js`).
  const what = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (!what) return undefined;
  const pkg = CLUSTER_PACKAGES.find((p) => what === p || what.startsWith(`${p}/`) || what.includes(`node_modules/${p}/`));
  if (!pkg) return undefined;
  return new SparkifyError('DEPENDENCY_MISSING', `The cluster commands need ${pkg}, which is not installed (an optional dependency of sparkify-dwh, left out by --omit=optional).`, {
    hint:
      `Install the cluster clients next to sparkify-dwh: npm install ${CLUSTER_PACKAGES.join(' ')} ` +
      '(with -g for a global install), or reinstall sparkify-dwh without --omit=optional.',
    cause: err,
  });
}

/** The cluster code, loaded on use; a missing optional AWS client becomes DEPENDENCY_MISSING. */
export async function loadCluster(): Promise<typeof import('../cluster/index.js')> {
  try {
    return await import('../cluster/index.js');
  } catch (err) {
    throw missingDependency(err) ?? err;
  }
}

/**
 * `sparkify cluster create | status | delete`, for a provisioned cluster or
 * (with --serverless, or `[CLUSTER] CLUSTER_TYPE=serverless`) a Serverless workgroup.
 */
export function addClusterCommands(program: Command, io: CliIO, setExit: (code: number) => void, deps: ClusterCliDeps = {}): void {
  const cluster = program
    .command('cluster')
    .description('manage the Redshift cluster (or Serverless workgroup): create, status, delete')
    .addHelpText(
      'after',
      `
Settings come from dwh.cfg: [CLUSTER] DB_NAME DB_USER DB_PASSWORD DB_PORT, and optionally IDENTIFIER,
NODE_TYPE, NUM_NODES, CLUSTER_TYPE (serverless), NAMESPACE, WORKGROUP, BASE_CAPACITY; [IAM_ROLE] NAME;
[AWS] REGION. AWS credentials come from the standard chain (environment, profile, SSO, instance role),
then, as a last resort, [AWS] KEY and SECRET of dwh.cfg.
create writes HOST and [IAM_ROLE] ARN back into dwh.cfg.`,
    );

  const common = (cmd: Command, config = 'dwh.cfg to read (default: ./dwh.cfg)') =>
    addOutputOptions(
      cmd
        .option('-c, --config <file>', config)
        .option('--region <region>', 'AWS region (default: the AWS chain, then [AWS] REGION)')
        .option('--serverless', 'Redshift Serverless (namespace + workgroup) instead of a provisioned cluster'),
    );

  const run =
    (
      body: (flags: ClusterFlags, ctx: { settings: ClusterSettings; clients: ClusterClients; configFile?: string; signal: AbortSignal; out: CommandOutput }) => Promise<void>,
      requirePassword = false,
    ) =>
    async (_options: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ClusterFlags>();
      const out = new CommandOutput(io, flags, commandName(cmd));
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      let clients: ClusterClients | undefined;
      let destroyClusterClients: ((c: ClusterClients) => void) | undefined;
      try {
        // Loaded on use, so other commands never pay for the AWS SDK (or need it installed).
        const cluster = await loadCluster();
        const { clusterSettingsFromConfig, createClusterClients } = cluster;
        destroyClusterClients = cluster.destroyClusterClients;
        const layers = readConfigLayers({ config: flags.config, env: io.env, cwd: io.cwd });
        for (const w of layers.warnings) out.warn(w);
        if (layers.issues.length > 0) throw new ConfigError(layers.issues);
        const { settings, issues } = clusterSettingsFromConfig({
          sections: layers.sections,
          serverless: flags.serverless,
          region: resolveRegion(layers, flags.region),
          requirePassword,
          fileName: layers.fileName,
          origin: layers.origin,
        });
        if (!settings) throw new ConfigError(issues);
        // dwh.cfg's [AWS] KEY/SECRET (the course's), only when AWS's own chain finds no credentials.
        const credentials = credentialsWithFallback(awsKeysFromFile(layers));
        clients = (deps.clients ?? ((r) => createClusterClients({ region: r, credentials })))(settings.region);
        await body(flags, { settings, clients, configFile: layers.file, signal: controller.signal, out });
      } catch (err) {
        setExit(out.fail(err));
      } finally {
        process.off('SIGINT', onSigint);
        if (clients && !deps.clients) destroyClusterClients?.(clients);
      }
    };

  const progress = (flags: ClusterFlags, out: CommandOutput) => {
    let lastWait = '';
    return (e: ClusterEvent) => {
      if (flags.quiet || flags.json) return;
      // While waiting, print when the state changes (every poll with --verbose).
      if (e.status === 'waiting') {
        const key = `${e.step}:${e.state ?? ''}`;
        if (key === lastWait && !flags.verbose) return;
        lastWait = key;
      }
      const c = out.colors;
      const mark = e.status === 'done' ? c.green('✓') : e.status === 'skipped' ? '·' : e.status === 'warning' ? c.yellow('⚠') : c.cyan('…');
      out.line(`${mark} ${e.step.padEnd(9)} ${e.message}`);
    };
  };

  common(cluster.command('create'), 'dwh.cfg to read, and to update with [CLUSTER] HOST and [IAM_ROLE] ARN (default: ./dwh.cfg)')
    .description('create (or resume creating) the S3 read role, the cluster or workgroup, and network access from your address')
    .addHelpText(
      'after',
      helpExamples([
        'sparkify cluster create                          # then: sparkify run -w redshift',
        'sparkify cluster create --serverless --region us-west-2',
        'sparkify cluster create --skip-ingress           # for the Data API only: no inbound rule',
      ]),
    )
    .option('--my-ip <address>', 'your public IP address for the inbound rule (default: discovered via checkip.amazonaws.com)')
    .option('--open-to-world', 'allow connections from anywhere (0.0.0.0/0): only for throw-away demos')
    .option('--skip-ingress', 'add no inbound rule (e.g. when you only use the Redshift Data API)')
    .action(
      run(async (flags, { settings, clients, configFile, signal, out }) => {
        const { createCluster, discoverPublicIp } = await import('../cluster/index.js');
        const result = await createCluster({
          settings,
          clients,
          callerIp: flags.myIp,
          discoverIp: flags.myIp ? undefined : (deps.discoverIp ?? (() => discoverPublicIp(signal))),
          openToWorld: flags.openToWorld,
          skipIngress: flags.skipIngress,
          configFile,
          signal,
          onProgress: progress(flags, out),
          ...deps.runOptions,
        });
        if (flags.json) out.succeed(result);
        else if (!flags.quiet) {
          io.stdout.write(`\n${result.kind === 'serverless' ? 'Workgroup' : 'Cluster'} ${result.name} is available at ${result.endpoint.host}:${result.endpoint.port} (database ${result.database}, user ${result.user}).\n`);
          io.stdout.write(`IAM role: ${result.roleArn}\n`);
          io.stdout.write(configFile ? `Updated ${configFile}: [CLUSTER] HOST and [IAM_ROLE] ARN.\n` : 'No dwh.cfg to update: put HOST and [IAM_ROLE] ARN into yours.\n');
          io.stdout.write(`Done in ${secs(result.seconds)}. Next: sparkify run --warehouse redshift\n`);
        }
      }, true),
    );

  common(cluster.command('status'))
    .description('where the cluster (or workgroup), its IAM role and the inbound rules sparkify added stand; changes nothing')
    .addHelpText(
      'after',
      helpExamples([
        'sparkify cluster status',
        'sparkify cluster status --json                   # result.phase: absent, creating, available, …',
      ]),
    )
    .action(
      run(async (flags, { settings, clients, out }) => {
        const { clusterStatus } = await import('../cluster/index.js');
        const s = await clusterStatus({ settings, clients });
        if (flags.json) {
          out.succeed(s);
          return;
        }
        const lines = [
          `${s.kind === 'serverless' ? 'workgroup' : 'cluster'}  ${s.name}: ${s.phase}${s.state && s.state !== s.phase ? ` (${s.state})` : ''}`,
          s.endpoint ? `endpoint   ${s.endpoint.host}:${s.endpoint.port}` : undefined,
          s.namespace ? `namespace  ${s.namespace.name}: ${s.namespace.state}` : undefined,
          `role       ${s.role.exists ? `${s.role.arn}${s.role.attached ? '' : ' (not attached to the cluster)'}` : 'absent'}`,
          s.ingress.length > 0 ? `inbound    ${s.ingress.map((r) => `${r.cidr} → ${r.securityGroupId}`).join(', ')}` : undefined,
        ];
        io.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
      }),
    );

  common(cluster.command('delete'))
    .description('delete the cluster (or workgroup and namespace), the inbound rules and the role sparkify created')
    .addHelpText(
      'after',
      helpExamples([
        'sparkify cluster delete                          # asks for the name on a terminal',
        'sparkify cluster delete --yes --final-snapshot   # no question (CI); keep a snapshot',
      ]),
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--final-snapshot [name]', 'keep a final snapshot (provisioned clusters)')
    .option('--keep-role', 'leave the IAM role in place')
    .action(
      run(async (flags, { settings, clients, signal, out }) => {
        const name = settings.kind === 'serverless' ? settings.workgroup : settings.identifier;
        let confirm = flags.yes === true;
        if (!confirm) confirm = await ask(io, `Delete ${settings.kind === 'serverless' ? 'workgroup' : 'cluster'} ${name} and all its data? Type its name to confirm: `, name);
        if (!confirm) {
          throw new SparkifyError('ABORTED', `Nothing was deleted: ${name} was not confirmed.`, {
            hint: 'Type the name when asked, or pass --yes (needed when there is no terminal, as in CI).',
          });
        }
        const { deleteCluster } = await import('../cluster/index.js');
        const result = await deleteCluster({
          settings,
          clients,
          confirm,
          finalSnapshot: flags.finalSnapshot,
          keepRole: flags.keepRole,
          signal,
          onProgress: progress(flags, out),
          ...deps.runOptions,
        });
        if (flags.json) out.succeed(result);
        else if (!flags.quiet) {
          io.stdout.write(
            `\n${result.deployment === 'absent' ? `${name} was already gone` : `${name} deleted`}${result.finalSnapshot ? ` (final snapshot ${result.finalSnapshot})` : ''}; ` +
              `${plural(result.ingressRevoked, 'inbound rule')} revoked; role ${result.role}. Done in ${secs(result.seconds)}.\n`,
          );
        }
      }),
    );
}

/** Asks on a terminal; without one (CI, pipes) the answer is no. */
async function ask(io: CliIO, question: string, expected: string): Promise<boolean> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return false;
  const rl = createInterface({ input: stdin, output: io.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}
