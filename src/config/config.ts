import path from 'node:path';
import type { AwsKeys } from '../aws/credentials.js';
import type { ConfigIssue } from '../errors.js';
import { isHttpEndpoint, isS3Location, normaliseS3Location, parseS3Location } from '../sources/s3-location.js';
import type { WarehouseTarget } from '../warehouses/open-warehouse.js';
import { copyLocationIssues, isRedshiftHost, type RedshiftCopyOptions } from '../warehouses/redshift/redshift-target.js';
import { definedOnly, readConfigLayers, resolveRegion, wholeNumber, type ConfigLayers, type SettingTrace, type Sourced } from './layers.js';
import { SAMPLE_DIR } from './paths.js';
import { redactUrl } from './redact.js';
import { resolveWarehouse } from './warehouse-target.js';

/**
 * One validated configuration from three layers, later ones winning:
 * `dwh.cfg` (the course's INI layout plus our `[WAREHOUSE]` section), the
 * environment, then command-line flags. `loadConfig` never throws for bad
 * values: it returns every problem at once, and the CLI decides how to show
 * them. Everything a run could refuse for its configuration is found here,
 * before any warehouse is opened.
 */

export interface Config {
  warehouse: WarehouseTarget;
  /** Why this warehouse: the setting that named it, or how it was inferred (`dwh.cfg [CLUSTER] HOST is a Redshift endpoint …`). */
  warehouseChosen: string;
  /** Song files: a local folder or `s3://bucket/prefix`. */
  songs: string;
  /** Event log files: a local folder or `s3://bucket/prefix`. */
  logs: string;
  aws: {
    region?: string;
    s3Endpoint?: string;
    /** dwh.cfg [AWS] KEY / SECRET: used only when AWS's own chain finds no credentials (aws/credentials.ts). Never printed. */
    keys?: AwsKeys;
  };
  load: {
    /** Fail the load when more records than this are rejected; undefined = never. */
    maxRejects?: number;
    /** Keep only plays matched to a song (the course's behaviour). */
    matchedOnly: boolean;
    /** How often a run that met a transient fault starts again; undefined = the default (2). */
    retries?: number;
  };
}

/** Flags the CLI passes; every one optional. */
export interface ConfigFlags {
  config?: string;
  warehouse?: string;
  schema?: string;
  songs?: string;
  logs?: string;
  s3Endpoint?: string;
  region?: string;
  maxRejects?: string | number;
  matchedOnly?: boolean;
  retries?: string | number;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadConfigResult {
  config?: Config;
  issues: ConfigIssue[];
  /** Worth saying, not worth stopping for (a dwh.cfg with a password that others may read). */
  warnings: string[];
  /** Every setting with its effective value and where it came from (secrets as set/unset), for `sparkify config`. */
  trace: SettingTrace[];
  /** The configuration files read (dwh.cfg, dwh-cluster.cfg). */
  files: string[];
}

/**
 * Reads and validates the configuration.
 *
 * @example
 *   const { config, issues } = loadConfig({ flags: { warehouse: 'postgres://postgres@127.0.0.1/test' } });
 *   if (!config) throw new ConfigError(issues);
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadConfigResult {
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const layers = readConfigLayers({ config: flags.config, env: options.env ?? process.env, cwd });
  const { fromFile, fromEnv, fromFlag, pick } = layers;
  const issues: ConfigIssue[] = [...layers.issues];

  // Sources, and where S3 is.
  const s3Endpoint = pick(fromFlag('s3-endpoint', flags.s3Endpoint), fromEnv('SPARKIFY_S3_ENDPOINT'), fromFile('S3', 'ENDPOINT'));
  if (s3Endpoint && !isHttpEndpoint(s3Endpoint.value)) {
    issues.push({ where: s3Endpoint.where, message: `"${redactUrl(s3Endpoint.value)}" is not an http(s) URL (expected e.g. http://127.0.0.1:9000)` });
  }
  const location = (s: Sourced | undefined, fallback: string): string => {
    if (!s) return fallback;
    if (!isS3Location(s.value)) return path.resolve(cwd, s.value);
    if (!parseS3Location(s.value)) issues.push({ where: s.where, message: `"${redactUrl(s.value)}" names no bucket (expected s3://bucket/prefix)` });
    return normaliseS3Location(s.value);
  };
  const songsSrc = pick(fromFlag('songs', flags.songs), fromEnv('SPARKIFY_SONGS'), fromFile('S3', 'SONG_DATA'));
  const logsSrc = pick(fromFlag('logs', flags.logs), fromEnv('SPARKIFY_LOGS'), fromFile('S3', 'LOG_DATA'));
  const songs = location(songsSrc, path.join(SAMPLE_DIR, 'song_data'));
  const logs = location(logsSrc, path.join(SAMPLE_DIR, 'log_data'));
  const regionSrc = resolveRegion(layers, flags.region);
  const region = regionSrc?.value;
  layers.note('songs', songs, songsSrc ?? { value: songs, where: 'default: the bundled sample' });
  layers.note('logs', logs, logsSrc ?? { value: logs, where: 'default: the bundled sample' });
  layers.note('s3 endpoint', s3Endpoint && redactUrl(s3Endpoint.value), s3Endpoint);
  layers.note('region', region, regionSrc ?? { value: '', where: 'default: the AWS chain (a profile’s region), else the bucket’s' });

  // Load options.
  const maxRejectsRaw = pick(fromFlag('max-rejects', flags.maxRejects), fromEnv('SPARKIFY_MAX_REJECTS'), fromFile('WAREHOUSE', 'MAX_REJECTS'));
  let maxRejects: number | undefined;
  if (maxRejectsRaw) {
    maxRejects = wholeNumber(maxRejectsRaw.value, 0, Number.MAX_SAFE_INTEGER);
    if (maxRejects === undefined) issues.push({ where: maxRejectsRaw.where, message: `"${maxRejectsRaw.value}" is not a whole number of rejected records (0 or more)` });
  }
  const retriesRaw = pick(fromFlag('retries', flags.retries), fromEnv('SPARKIFY_RETRIES'), fromFile('WAREHOUSE', 'RETRIES'));
  let retries: number | undefined;
  if (retriesRaw) {
    retries = wholeNumber(retriesRaw.value, 0, 10);
    if (retries === undefined) issues.push({ where: retriesRaw.where, message: `"${retriesRaw.value}" is not a number of retries from 0 to 10` });
  }
  const matchedOnlyRaw = pick(fromEnv('SPARKIFY_MATCHED_ONLY'), fromFile('WAREHOUSE', 'MATCHED_ONLY'));
  let matchedOnly = flags.matchedOnly ?? false;
  if (!flags.matchedOnly && matchedOnlyRaw) {
    const b = parseBool(matchedOnlyRaw.value);
    if (b === undefined) issues.push({ where: matchedOnlyRaw.where, message: `"${matchedOnlyRaw.value}" is not true or false` });
    else matchedOnly = b;
  }
  layers.note('max rejects', maxRejects, maxRejectsRaw);
  layers.note('retries', retries ?? 2, retriesRaw);
  layers.note('matched only', matchedOnly, flags.matchedOnly ? { value: 'true', where: '--matched-only' } : matchedOnlyRaw);

  // The warehouse.
  const schemaSrc = pick(fromFlag('schema', flags.schema), fromEnv('SPARKIFY_SCHEMA'), fromFile('WAREHOUSE', 'SCHEMA'));
  const schema = schemaSrc?.value ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    issues.push({ where: schemaSrc?.where ?? 'schema', message: `"${schema}" is not a plain SQL identifier (letters, digits, _; not starting with a digit)` });
  }
  layers.note('schema', schema, schemaSrc);
  const roleSrc = pick(fromEnv('SPARKIFY_IAM_ROLE_ARN'), fromFile('IAM_ROLE', 'ARN'));
  const jsonPathsSrc = pick(fromEnv('SPARKIFY_LOG_JSONPATH'), fromFile('S3', 'LOG_JSONPATH'));
  const copy = definedOnly<RedshiftCopyOptions>({ iamRoleArn: roleSrc?.value, logJsonPaths: jsonPathsSrc?.value, region });
  layers.note('iam role (COPY)', roleSrc?.value, roleSrc);
  layers.note('log jsonpaths', jsonPathsSrc?.value, jsonPathsSrc);
  const { target, why: warehouseChosen } = chooseTarget(layers, flags.warehouse);
  layers.note('warehouse', target ? redactUrl(target.value) : 'duckdb', target);
  const warehouse = resolveWarehouse(target, { layers, issues, schema, region, copy });
  if (warehouse?.kind === 'redshift' || warehouse?.kind === 'redshift-data-api') {
    const customEndpoint = s3Endpoint?.value;
    issues.push(...copyLocationIssues({ uri: songs, customEndpoint }, 'the song files (--songs, [S3] SONG_DATA)', copy, false));
    issues.push(...copyLocationIssues({ uri: logs, customEndpoint }, 'the event logs (--logs, [S3] LOG_DATA)', copy, true));
  }

  // The course's access keys: the last resort of the credential chain, said once.
  const key = fromFile('AWS', 'KEY');
  const secret = fromFile('AWS', 'SECRET');
  if (key && !secret) issues.push({ where: `${layers.fileName} [AWS] SECRET`, message: `is empty while ${key.where} is set: give both, or neither` });
  if (secret && !key) issues.push({ where: `${layers.fileName} [AWS] KEY`, message: `is empty while ${secret.where} is set: give both, or neither` });
  const keys = awsKeysFromFile(layers);
  layers.note('aws key (last resort)', key?.value, key, { secret: true });
  layers.note('aws secret (last resort)', secret?.value, secret, { secret: true });

  const warnings = [...layers.warnings];
  if (keys) {
    warnings.push(
      `${key!.where} and SECRET are used only when AWS finds no other credentials (environment, AWS_PROFILE, SSO, instance role); ` +
        'access keys in a file are easily shared by mistake: prefer `aws configure` or AWS_PROFILE, then remove them',
    );
  }
  const trace = layers.trace;
  if (issues.length > 0 || !warehouse) return { issues, warnings, trace, files: layers.files };
  return {
    issues,
    warnings,
    trace,
    files: layers.files,
    config: {
      warehouse,
      warehouseChosen,
      songs,
      logs,
      aws: definedOnly({ region, s3Endpoint: s3Endpoint?.value, keys }),
      load: { maxRejects, matchedOnly, retries },
    },
  };
}

function parseBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return undefined;
}


/**
 * The warehouse named by --warehouse, SPARKIFY_WAREHOUSE or [WAREHOUSE]
 * TARGET; else, when dwh.cfg's [CLUSTER] HOST is set (the course's files), that
 * cluster: Redshift when the host is a Redshift endpoint or the port 5439,
 * PostgreSQL otherwise; else the DuckDB file. With the reason, which every run
 * prints.
 */
export function chooseTarget(layers: ConfigLayers, flag: string | undefined): { target?: Sourced; why: string } {
  const { pick, fromFlag, fromEnv, fromFile } = layers;
  const named = pick(fromFlag('warehouse', flag), fromEnv('SPARKIFY_WAREHOUSE'), fromFile('WAREHOUSE', 'TARGET'));
  if (named) return { target: named, why: `named by ${named.where}` };
  const host = fromFile('CLUSTER', 'HOST');
  const none = 'no --warehouse, SPARKIFY_WAREHOUSE or [WAREHOUSE] TARGET';
  if (host) {
    const port = fromFile('CLUSTER', 'DB_PORT');
    const endpoint = isRedshiftHost(host.value.trim());
    const redshift = endpoint || port?.value.trim() === '5439';
    const because = endpoint ? 'a Redshift endpoint' : redshift ? `on port 5439 (${port!.where}), Redshift's` : 'not a Redshift endpoint, so PostgreSQL';
    return { target: { value: redshift ? 'redshift' : 'postgres', where: host.where }, why: `${host.where}, ${because} (${none})` };
  }
  return { why: 'the default (no --warehouse, SPARKIFY_WAREHOUSE, [WAREHOUSE] TARGET or [CLUSTER] HOST)' };
}

/** dwh.cfg's [AWS] KEY and SECRET (the course's), when both are set. */
export function awsKeysFromFile(layers: Pick<ConfigLayers, 'fromFile'>): AwsKeys | undefined {
  const key = layers.fromFile('AWS', 'KEY');
  const secret = layers.fromFile('AWS', 'SECRET');
  return key && secret ? { accessKeyId: key.value.trim(), secretAccessKey: secret.value.trim() } : undefined;
}
