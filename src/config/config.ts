import path from 'node:path';
import type { ConfigIssue } from '../errors.js';
import { isHttpEndpoint, isS3Location, normaliseS3Location, parseS3Location } from '../sources/s3-location.js';
import type { WarehouseTarget } from '../warehouses/open-warehouse.js';
import { copyLocationIssues, type RedshiftCopyOptions } from '../warehouses/redshift/redshift-target.js';
import { definedOnly, readConfigLayers, resolveRegion, wholeNumber, type Sourced } from './layers.js';
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
  /** Song files: a local folder or `s3://bucket/prefix`. */
  songs: string;
  /** Event log files: a local folder or `s3://bucket/prefix`. */
  logs: string;
  aws: { region?: string; s3Endpoint?: string };
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
  const songs = location(pick(fromFlag('songs', flags.songs), fromEnv('SPARKIFY_SONGS'), fromFile('S3', 'SONG_DATA')), path.join(SAMPLE_DIR, 'song_data'));
  const logs = location(pick(fromFlag('logs', flags.logs), fromEnv('SPARKIFY_LOGS'), fromFile('S3', 'LOG_DATA')), path.join(SAMPLE_DIR, 'log_data'));
  const region = resolveRegion(layers, flags.region)?.value;

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

  // The warehouse.
  const schemaSrc = pick(fromFlag('schema', flags.schema), fromEnv('SPARKIFY_SCHEMA'), fromFile('WAREHOUSE', 'SCHEMA'));
  const schema = schemaSrc?.value ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    issues.push({ where: schemaSrc?.where ?? 'schema', message: `"${schema}" is not a plain SQL identifier (letters, digits, _; not starting with a digit)` });
  }
  const copy = definedOnly<RedshiftCopyOptions>({
    iamRoleArn: pick(fromEnv('SPARKIFY_IAM_ROLE_ARN'), fromFile('IAM_ROLE', 'ARN'))?.value,
    logJsonPaths: pick(fromEnv('SPARKIFY_LOG_JSONPATH'), fromFile('S3', 'LOG_JSONPATH'))?.value,
    region,
  });
  const target = pick(fromFlag('warehouse', flags.warehouse), fromEnv('SPARKIFY_WAREHOUSE'), fromFile('WAREHOUSE', 'TARGET'));
  const warehouse = resolveWarehouse(target, { layers, issues, schema, region, copy });
  if (warehouse?.kind === 'redshift' || warehouse?.kind === 'redshift-data-api') {
    const customEndpoint = s3Endpoint?.value;
    issues.push(...copyLocationIssues({ uri: songs, customEndpoint }, 'the song files (--songs, [S3] SONG_DATA)', copy, false));
    issues.push(...copyLocationIssues({ uri: logs, customEndpoint }, 'the event logs (--logs, [S3] LOG_DATA)', copy, true));
  }

  const warnings = layers.warnings;
  if (issues.length > 0 || !warehouse) return { issues, warnings };
  return {
    issues,
    warnings,
    config: {
      warehouse,
      songs,
      logs,
      aws: definedOnly({ region, s3Endpoint: s3Endpoint?.value }),
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
