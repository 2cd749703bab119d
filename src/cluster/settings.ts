import { plural, type ConfigIssue } from '../errors.js';

/**
 * What to create: a provisioned cluster or a Serverless namespace + workgroup,
 * the IAM role, and the database it starts with. Built from `dwh.cfg` by
 * `clusterSettingsFromConfig`, which returns every problem at once instead of
 * throwing, like `loadConfig`.
 */

export type ClusterKind = 'provisioned' | 'serverless';

interface CommonSettings {
  /** AWS region; undefined = the standard AWS chain (AWS_REGION, profile). */
  region?: string;
  /** The IAM role Redshift assumes to read S3. */
  roleName: string;
  database: string;
  user: string;
  /** Needed only to create; never written anywhere by sparkify. */
  password?: string;
  port: number;
  /** Reachable from outside the VPC (needed to connect from a laptop). Default true. */
  publiclyAccessible: boolean;
}

export interface ProvisionedSettings extends CommonSettings {
  kind: 'provisioned';
  identifier: string;
  nodeType: string;
  clusterType: 'single-node' | 'multi-node';
  numberOfNodes: number;
}

export interface ServerlessSettings extends CommonSettings {
  kind: 'serverless';
  namespace: string;
  workgroup: string;
  /** Redshift Processing Units, 8 to 1024 in steps of 8. */
  baseCapacity: number;
}

export type ClusterSettings = ProvisionedSettings | ServerlessSettings;

export const DEFAULT_ROLE_NAME = 'sparkify-dwh-redshift-s3-read';
export const DEFAULT_NAME = 'sparkify-dwh';

export interface ClusterSettingsInput {
  /** dwh.cfg's sections (`readConfigLayers(…).sections`): names upper-cased. */
  sections: Record<string, Record<string, string>>;
  /** `--serverless`. Undefined: `[CLUSTER] CLUSTER_TYPE=serverless`, or a WORKGROUP without an IDENTIFIER. */
  serverless?: boolean;
  /** The region and where it came from (`resolveRegion`: flag, AWS_REGION, [AWS] REGION …), when known. */
  region?: { value: string; where: string };
  /** Report a missing DB_PASSWORD (only `create` needs it). */
  requirePassword?: boolean;
  /** For messages; default `dwh.cfg`. */
  fileName?: string;
  /** Where a value was read from (`readConfigLayers(…).origin`), when not `<fileName> [SECTION] KEY` (the course's [DWH] keys). */
  origin?: (section: string, key: string) => string | undefined;
}

export interface ClusterSettingsResult {
  settings?: ClusterSettings;
  issues: ConfigIssue[];
}

/**
 * Builds the cluster settings from dwh.cfg's sections.
 *
 * @example
 *   const layers = readConfigLayers({ env: process.env, cwd: process.cwd() });
 *   const { settings, issues } = clusterSettingsFromConfig({ sections: layers.sections, region: resolveRegion(layers, undefined), serverless: true, requirePassword: true });
 *   if (!settings) throw new ConfigError(issues);
 */
export function clusterSettingsFromConfig(input: ClusterSettingsInput): ClusterSettingsResult {
  const file = input.fileName ?? 'dwh.cfg';
  const issues: ConfigIssue[] = [];
  const where = (section: string, key: string) => input.origin?.(section, key) ?? `${file} [${section}] ${key}`;
  const get = (section: string, key: string): { value: string; where: string } | undefined => {
    const v = input.sections[section]?.[key]?.trim();
    return v ? { value: v, where: where(section, key) } : undefined;
  };
  const text = (section: string, key: string, fallback: string) => get(section, key) ?? { value: fallback, where: where(section, key) };
  const check = (v: { value: string; where: string }, ok: boolean, message: string): string => {
    if (!ok) issues.push({ where: v.where, message });
    return v.value;
  };
  const integer = (section: string, key: string, fallback: number, min: number, max: number, what: string): number => {
    const v = get(section, key);
    if (!v) return fallback;
    const n = Number(v.value);
    if (!/^\d+$/.test(v.value) || n < min || n > max) {
      issues.push({ where: v.where, message: `"${v.value}" is not ${what} (a whole number from ${min} to ${max})` });
      return fallback;
    }
    return n;
  };

  const clusterTypeRaw = get('CLUSTER', 'CLUSTER_TYPE');
  const clusterType = clusterTypeRaw?.value.toLowerCase();
  if (clusterType && !['single-node', 'multi-node', 'serverless'].includes(clusterType)) {
    issues.push({ where: clusterTypeRaw!.where, message: `"${clusterTypeRaw!.value}" is not single-node, multi-node or serverless` });
  }
  const serverless =
    input.serverless ?? (clusterType === 'serverless' || (!clusterType && !get('CLUSTER', 'IDENTIFIER') && !!get('CLUSTER', 'WORKGROUP')));

  const database = text('CLUSTER', 'DB_NAME', 'dev');
  check(database, /^[a-z][a-z0-9_]{0,63}$/.test(database.value), `"${database.value}" is not a Redshift database name (1-64 lowercase letters, digits or _, starting with a letter)`);
  const user = text('CLUSTER', 'DB_USER', 'awsuser');
  check(
    user,
    /^[A-Za-z][A-Za-z0-9_]{0,127}$/.test(user.value) && user.value.toLowerCase() !== 'public',
    `"${user.value}" is not a Redshift admin user name (1-128 letters, digits or _, starting with a letter, not PUBLIC)`,
  );
  const password = get('CLUSTER', 'DB_PASSWORD');
  if (password) {
    // Never echo the password: say only which rule it breaks.
    const problem = passwordProblem(password.value);
    if (problem) issues.push({ where: password.where, message: `does not meet Redshift's password rules: ${problem}` });
  } else if (input.requirePassword) {
    issues.push({ where: `${file} [CLUSTER] DB_PASSWORD (or [DWH] DWH_DB_PASSWORD)`, message: 'is empty: creating a cluster needs an admin password (8-64 characters with an uppercase letter, a lowercase letter and a digit)' });
  }
  const port = integer('CLUSTER', 'DB_PORT', 5439, 1150, 65535, 'a Redshift port');
  // CreateCluster and CreateWorkgroup: ra3 clusters and Serverless take 5431-5455 or 8191-8215; dc2 clusters 1150-65535.
  const portRangesApply = serverless || !/^dc2\./i.test(get('CLUSTER', 'NODE_TYPE')?.value ?? 'ra3.large');
  if (portRangesApply && !((port >= 5431 && port <= 5455) || (port >= 8191 && port <= 8215))) {
    issues.push({
      where: where('CLUSTER', 'DB_PORT'),
      message: `${port} is not a port ${serverless ? 'Redshift Serverless' : 'an ra3 cluster'} accepts: choose one from 5431 to 5455 or from 8191 to 8215 (5439 is the default)`,
    });
  }
  const roleName = text('IAM_ROLE', 'NAME', DEFAULT_ROLE_NAME);
  check(roleName, /^[\w+=,.@-]{1,64}$/.test(roleName.value), `"${roleName.value}" is not an IAM role name (1-64 letters, digits or +=,.@_-)`);
  const region = input.region ?? get('AWS', 'REGION');
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region.value)) {
    issues.push({ where: region.where, message: `"${region.value}" is not an AWS region (e.g. us-west-2)` });
  }
  const common: CommonSettings = {
    region: region?.value,
    roleName: roleName.value,
    database: database.value,
    user: user.value,
    password: password?.value,
    port,
    publiclyAccessible: true,
  };

  let settings: ClusterSettings;
  if (serverless) {
    const namespace = text('CLUSTER', 'NAMESPACE', DEFAULT_NAME);
    const workgroup = text('CLUSTER', 'WORKGROUP', DEFAULT_NAME);
    for (const v of [namespace, workgroup]) check(v, /^[a-z0-9-]{3,64}$/.test(v.value), `"${v.value}" is not a Serverless name (3-64 lowercase letters, digits or -)`);
    const baseCapacity = integer('CLUSTER', 'BASE_CAPACITY', 8, 8, 1024, 'a base capacity in RPUs');
    if (baseCapacity % 8 !== 0) issues.push({ where: `${file} [CLUSTER] BASE_CAPACITY`, message: `${baseCapacity} is not a multiple of 8 RPUs` });
    settings = { ...common, kind: 'serverless', namespace: namespace.value, workgroup: workgroup.value, baseCapacity };
  } else {
    const identifier = text('CLUSTER', 'IDENTIFIER', DEFAULT_NAME);
    check(
      identifier,
      /^[a-z](?:[a-z0-9]|-(?!-)){0,62}$/.test(identifier.value) && !identifier.value.endsWith('-'),
      `"${identifier.value}" is not a cluster identifier (1-63 lowercase letters, digits or single hyphens, starting with a letter)`,
    );
    const nodeType = text('CLUSTER', 'NODE_TYPE', 'ra3.large');
    check(nodeType, /^[a-z0-9]+\.[a-z0-9]+$/.test(nodeType.value), `"${nodeType.value}" is not a node type (e.g. ra3.large, ra3.xlplus)`);
    const nodes = integer('CLUSTER', 'NUM_NODES', clusterType === 'single-node' ? 1 : 2, 1, 128, 'a number of nodes');
    const type = (clusterType === 'single-node' || clusterType === 'multi-node' ? clusterType : nodes === 1 ? 'single-node' : 'multi-node');
    if (type === 'multi-node' && nodes < 2) issues.push({ where: `${file} [CLUSTER] NUM_NODES`, message: 'a multi-node cluster needs at least 2 nodes (or set CLUSTER_TYPE=single-node)' });
    if (type === 'single-node' && nodes !== 1) issues.push({ where: `${file} [CLUSTER] NUM_NODES`, message: `a single-node cluster has 1 node, not ${nodes} (or set CLUSTER_TYPE=multi-node)` });
    settings = { ...common, kind: 'provisioned', identifier: identifier.value, nodeType: nodeType.value, clusterType: type, numberOfNodes: nodes };
  }
  return issues.length > 0 ? { issues } : { settings, issues };
}

/** Which of Redshift's admin-password rules `p` breaks, without repeating it. */
export function passwordProblem(p: string): string | undefined {
  if (p.length < 8 || p.length > 64) return `it has ${plural(p.length, 'character')}; it needs 8 to 64`;
  if (!/[A-Z]/.test(p)) return 'it needs an uppercase letter';
  if (!/[a-z]/.test(p)) return 'it needs a lowercase letter';
  if (!/[0-9]/.test(p)) return 'it needs a digit';
  if (/[^\x21-\x7e]/.test(p)) return 'it may contain only printable ASCII characters, no spaces';
  if (/['"\\/@]/.test(p)) return `it may not contain ' " \\ / or @`;
  return undefined;
}
