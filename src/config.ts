import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseIni } from 'ini';
import { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { DEFAULT_DUCKDB_FILE, redactUrl, resolveWarehouse } from './config-warehouse.js';

export { DEFAULT_DUCKDB_FILE, redactUrl };

/**
 * One validated configuration from three layers, later ones winning:
 * `dwh.cfg` (the course's INI layout plus our `[WAREHOUSE]` section), the
 * environment, then command-line flags. `loadConfig` never throws for bad
 * values: it returns every problem at once, and the CLI decides how to show them.
 */

/** Where the bundled real sample lives (inside the installed package). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLE_DIR = path.join(PACKAGE_ROOT, 'data', 'sparkify-sample');

export interface PostgresConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** `require` / `verify-full` turn TLS on; `disable` off. Default: off for PostgreSQL, on for Redshift. */
  sslmode?: 'disable' | 'require' | 'verify-full';
}

export type WarehouseTarget =
  | { kind: 'duckdb'; path: string }
  | { kind: 'postgres'; connection: PostgresConnection; schema: string }
  | {
      kind: 'redshift';
      /** `pg` speaks the wire protocol to HOST:5439; `data-api` uses the Redshift Data API. */
      transport: 'pg' | 'data-api';
      connection?: PostgresConnection;
      dataApi?: { clusterIdentifier?: string; workgroupName?: string; database: string; dbUser?: string; secretArn?: string };
      schema: string;
      region?: string;
      /** The role Redshift assumes to read S3 in COPY (`[IAM_ROLE] ARN`); the cluster's default role when absent. */
      iamRoleArn?: string;
    };

export interface Config {
  warehouse: WarehouseTarget;
  songs: string;
  logs: string;
  /** Redshift COPY's JSONPaths file for the event log (`[S3] LOG_JSONPATH`). */
  logJsonPath?: string;
  /** `[IAM_ROLE] ARN`: the role Redshift assumes to read S3. */
  iamRoleArn?: string;
  aws: { region?: string; s3Endpoint?: string; profile?: string };
  load: {
    /** Fail the load when more records than this are rejected; undefined = never. */
    maxRejects?: number;
    /** Keep only plays matched to a song (the course's behaviour). */
    matchedOnly: boolean;
  };
  /** The raw `dwh.cfg` sections, for the cluster commands. */
  file: { path?: string; sections: Record<string, Record<string, string>> };
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
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadConfigResult {
  config?: Config;
  issues: ConfigIssue[];
}

/** A value with where it came from, for error messages. */
export interface Sourced {
  value: string;
  where: string;
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
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const issues: ConfigIssue[] = [];

  // 1. dwh.cfg: --config, else SPARKIFY_CONFIG, else ./dwh.cfg when present.
  const explicit = flags.config ?? env.SPARKIFY_CONFIG;
  const cfgPath = explicit ? path.resolve(cwd, explicit) : existsSync(path.join(cwd, 'dwh.cfg')) ? path.join(cwd, 'dwh.cfg') : undefined;
  const sections: Record<string, Record<string, string>> = {};
  if (cfgPath) {
    if (!existsSync(cfgPath)) {
      issues.push({ where: flags.config ? '--config' : 'SPARKIFY_CONFIG', message: `file ${cfgPath} does not exist` });
    } else {
      try {
        const parsed = parseIni(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
        for (const [name, body] of Object.entries(parsed)) {
          if (body && typeof body === 'object') {
            const section: Record<string, string> = {};
            for (const [k, v] of Object.entries(body as Record<string, unknown>)) section[k.toUpperCase()] = unquote(String(v ?? ''));
            sections[name.toUpperCase()] = section;
          }
        }
      } catch (err) {
        issues.push({ where: cfgPath, message: `cannot be read as an INI file: ${(err as Error).message}` });
      }
    }
  }
  const fileName = cfgPath ? path.basename(cfgPath) : 'dwh.cfg';
  const fromFile = (section: string, key: string): Sourced | undefined => {
    const v = sections[section]?.[key];
    return v !== undefined && v !== '' ? { value: v, where: `${fileName} [${section}] ${key}` } : undefined;
  };
  const fromEnv = (name: string): Sourced | undefined => {
    const v = env[name];
    return v !== undefined && v !== '' ? { value: v, where: `environment variable ${name}` } : undefined;
  };
  const fromFlag = (name: string, v: string | number | undefined): Sourced | undefined =>
    v !== undefined && v !== '' ? { value: String(v), where: `--${name}` } : undefined;
  const pick = (...candidates: (Sourced | undefined)[]): Sourced | undefined => candidates.find((c) => c !== undefined);

  // 2. Sources.
  const songs = pick(fromFlag('songs', flags.songs), fromEnv('SPARKIFY_SONGS'), fromFile('S3', 'SONG_DATA'));
  const logs = pick(fromFlag('logs', flags.logs), fromEnv('SPARKIFY_LOGS'), fromFile('S3', 'LOG_DATA'));
  const logJsonPath = pick(fromEnv('SPARKIFY_LOG_JSONPATH'), fromFile('S3', 'LOG_JSONPATH'));
  const resolveLocation = (s: Sourced | undefined, fallback: string): string => {
    if (!s) return fallback;
    return /^s3a?:\/\//.test(s.value) ? s.value.replace(/^s3a:/, 's3:').replace(/\/+$/, '') : path.resolve(cwd, s.value);
  };

  // 3. AWS.
  const region = pick(fromFlag('region', flags.region), fromEnv('AWS_REGION'), fromEnv('AWS_DEFAULT_REGION'), fromFile('AWS', 'REGION'), fromFile('CLUSTER', 'REGION'));
  const s3Endpoint = pick(fromFlag('s3-endpoint', flags.s3Endpoint), fromEnv('SPARKIFY_S3_ENDPOINT'), fromFile('S3', 'ENDPOINT'));
  if (s3Endpoint && !isUrl(s3Endpoint.value)) issues.push({ where: s3Endpoint.where, message: `"${s3Endpoint.value}" is not a URL (expected e.g. http://127.0.0.1:9000)` });

  // 4. Load options.
  const maxRejectsRaw = pick(fromFlag('max-rejects', flags.maxRejects), fromEnv('SPARKIFY_MAX_REJECTS'), fromFile('WAREHOUSE', 'MAX_REJECTS'));
  let maxRejects: number | undefined;
  if (maxRejectsRaw) {
    const r = z.coerce.number().int().min(0).safeParse(maxRejectsRaw.value);
    if (r.success) maxRejects = r.data;
    else issues.push({ where: maxRejectsRaw.where, message: `"${maxRejectsRaw.value}" is not a whole number of rejected records (0 or more)` });
  }
  const matchedOnlyRaw = pick(fromEnv('SPARKIFY_MATCHED_ONLY'), fromFile('WAREHOUSE', 'MATCHED_ONLY'));
  let matchedOnly = flags.matchedOnly ?? false;
  if (!flags.matchedOnly && matchedOnlyRaw) {
    const b = parseBool(matchedOnlyRaw.value);
    if (b === undefined) issues.push({ where: matchedOnlyRaw.where, message: `"${matchedOnlyRaw.value}" is not true or false` });
    else matchedOnly = b;
  }

  // 5. The warehouse.
  const schemaSrc = pick(fromFlag('schema', flags.schema), fromEnv('SPARKIFY_SCHEMA'), fromFile('WAREHOUSE', 'SCHEMA'));
  const schema = schemaSrc?.value ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    issues.push({ where: schemaSrc?.where ?? 'schema', message: `"${schema}" is not a plain SQL identifier (letters, digits, _; not starting with a digit)` });
  }
  const target = pick(fromFlag('warehouse', flags.warehouse), fromEnv('SPARKIFY_WAREHOUSE'), fromFile('WAREHOUSE', 'TARGET'));
  const iamRoleArn = fromEnv('SPARKIFY_IAM_ROLE_ARN')?.value ?? fromFile('IAM_ROLE', 'ARN')?.value;
  const resolved = resolveWarehouse(target, { fileName, fromFile, fromEnv, pick, issues, cwd, schema, region: region?.value });
  // COPY needs the role; only add the key when there is one, so targets compare as before.
  const warehouse = resolved?.kind === 'redshift' && iamRoleArn ? { ...resolved, iamRoleArn } : resolved;

  if (issues.length > 0) return { issues };
  return {
    issues,
    config: {
      warehouse: warehouse!,
      songs: resolveLocation(songs, path.join(SAMPLE_DIR, 'song_data')),
      logs: resolveLocation(logs, path.join(SAMPLE_DIR, 'log_data')),
      logJsonPath: logJsonPath?.value,
      iamRoleArn,
      aws: { region: region?.value, s3Endpoint: s3Endpoint?.value, profile: env.AWS_PROFILE || undefined },
      load: { maxRejects, matchedOnly },
      file: { path: cfgPath && existsSync(cfgPath) ? cfgPath : undefined, sections },
    },
  };
}

function parseBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return undefined;
}

function isUrl(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

/** INI values in course files are often quoted: `ARN='arn:aws:iam::…'`. */
function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) ? t.slice(1, -1) : t;
}

/** A one-line description of a warehouse target, safe to print. */
export function describeTarget(target: WarehouseTarget): string {
  switch (target.kind) {
    case 'duckdb':
      return `DuckDB ${target.path}`;
    case 'postgres':
      return `PostgreSQL ${target.connection.user}@${target.connection.host}:${target.connection.port}/${target.connection.database} (schema ${target.schema})`;
    case 'redshift':
      return target.transport === 'pg'
        ? `Redshift ${target.connection!.user}@${target.connection!.host}:${target.connection!.port}/${target.connection!.database} (schema ${target.schema})`
        : `Redshift Data API ${target.dataApi!.workgroupName ? `workgroup ${target.dataApi!.workgroupName}` : `cluster ${target.dataApi!.clusterIdentifier}`}/${target.dataApi!.database} (schema ${target.schema})`;
  }
}
