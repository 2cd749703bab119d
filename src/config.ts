import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseIni } from 'ini';
import { z } from 'zod';
import type { ConfigIssue } from './errors.js';

/**
 * One validated configuration from three layers, later ones winning:
 * `dwh.cfg` (the course's INI layout plus our `[WAREHOUSE]` section), the
 * environment, then command-line flags. `loadConfig` never throws for bad
 * values: it returns every problem at once, and the CLI decides how to show them.
 */

/** Where the bundled real sample lives (inside the installed package). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLE_DIR = path.join(PACKAGE_ROOT, 'data', 'sparkify-sample');
export const DEFAULT_DUCKDB_FILE = 'sparkify.duckdb';

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
interface Sourced {
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
  const resolved = resolveWarehouse(target, { fromFile, fromEnv, pick, issues, cwd, schema, region: region?.value });
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

interface ResolveContext {
  fromFile(section: string, key: string): Sourced | undefined;
  fromEnv(name: string): Sourced | undefined;
  pick(...c: (Sourced | undefined)[]): Sourced | undefined;
  issues: ConfigIssue[];
  cwd: string;
  schema: string;
  region?: string;
}

function resolveWarehouse(target: Sourced | undefined, ctx: ResolveContext): WarehouseTarget | undefined {
  const value = target?.value ?? 'duckdb';
  const where = target?.where ?? 'warehouse';
  if (/^postgres(ql)?:\/\//i.test(value)) {
    const connection = parsePostgresUrl(value, where, ctx.issues);
    return connection && { kind: 'postgres', connection, schema: ctx.schema };
  }
  if (/^redshift(\+data-api)?:\/\//i.test(value) || value === 'redshift' || value === 'redshift-data-api') {
    return resolveRedshift(value, where, ctx);
  }
  if (value === 'postgres' || value === 'postgresql') {
    const url = ctx.fromEnv('DATABASE_URL');
    if (url) {
      const connection = parsePostgresUrl(url.value, url.where, ctx.issues);
      return connection && { kind: 'postgres', connection, schema: ctx.schema };
    }
    const connection = connectionFromParts(ctx, 5432, false);
    return connection && { kind: 'postgres', connection, schema: ctx.schema };
  }
  if (value === 'duckdb') return { kind: 'duckdb', path: path.resolve(ctx.cwd, DEFAULT_DUCKDB_FILE) };
  if (/^duckdb:/i.test(value)) {
    const p = value.replace(/^duckdb:(\/\/)?/i, '');
    return { kind: 'duckdb', path: p === ':memory:' ? p : path.resolve(ctx.cwd, p || DEFAULT_DUCKDB_FILE) };
  }
  if (value === ':memory:') return { kind: 'duckdb', path: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    ctx.issues.push({
      where,
      message: `"${redactUrl(value)}" is not a warehouse sparkify knows: use a DuckDB file path, postgres://user@host:5432/db, or redshift`,
    });
    return undefined;
  }
  return { kind: 'duckdb', path: path.resolve(ctx.cwd, value) };
}

/** PostgreSQL/Redshift connection from PG* variables and dwh.cfg [CLUSTER] (variables win). */
function connectionFromParts(ctx: ResolveContext, defaultPort: number, redshift: boolean): PostgresConnection | undefined {
  const { pick, fromEnv, fromFile, issues } = ctx;
  const host = pick(fromEnv('PGHOST'), fromFile('CLUSTER', 'HOST'));
  const port = pick(fromEnv('PGPORT'), fromFile('CLUSTER', 'DB_PORT'));
  const database = pick(fromEnv('PGDATABASE'), fromFile('CLUSTER', 'DB_NAME'));
  const user = pick(fromEnv('PGUSER'), fromFile('CLUSTER', 'DB_USER'));
  const password = pick(fromEnv('PGPASSWORD'), fromFile('CLUSTER', 'DB_PASSWORD'));
  const sslmode = pick(fromEnv('PGSSLMODE'), fromFile('CLUSTER', 'SSLMODE'));
  let ok = true;
  if (!host) {
    issues.push({
      where: 'dwh.cfg [CLUSTER] HOST',
      message: redshift
        ? 'is empty: set it to the cluster endpoint (`sparkify cluster create` writes it), or set PGHOST'
        : 'is empty: set it (or PGHOST, or DATABASE_URL, or pass --warehouse postgres://user@host:5432/db)',
    });
    ok = false;
  }
  const portNumber = parsePort(port, defaultPort, issues);
  if (portNumber === undefined) ok = false;
  const mode = parseSslMode(sslmode, issues);
  if (!ok) return undefined;
  return {
    host: host!.value,
    port: portNumber!,
    database: database?.value ?? (redshift ? 'dev' : 'postgres'),
    user: user?.value ?? (redshift ? 'awsuser' : 'postgres'),
    password: password?.value,
    sslmode: mode ?? (redshift ? 'require' : undefined),
  };
}

function resolveRedshift(value: string, where: string, ctx: ResolveContext): WarehouseTarget | undefined {
  const dataApi = value.startsWith('redshift+data-api://') || value === 'redshift-data-api';
  if (!dataApi) {
    if (value.startsWith('redshift://')) {
      const connection = parsePostgresUrl(value.replace(/^redshift:/, 'postgres:'), where, ctx.issues, 5439);
      return connection && { kind: 'redshift', transport: 'pg', connection: { ...connection, sslmode: connection.sslmode ?? 'require' }, schema: ctx.schema, region: ctx.region };
    }
    const connection = connectionFromParts(ctx, 5439, true);
    return connection && { kind: 'redshift', transport: 'pg', connection, schema: ctx.schema, region: ctx.region };
  }
  // redshift+data-api://<cluster-id or workgroup>/<database>?workgroup=1&secret=arn&user=awsuser
  let clusterIdentifier: string | undefined;
  let workgroupName: string | undefined;
  let database = ctx.fromFile('CLUSTER', 'DB_NAME')?.value ?? 'dev';
  let dbUser = ctx.fromFile('CLUSTER', 'DB_USER')?.value;
  let secretArn = ctx.fromFile('CLUSTER', 'SECRET_ARN')?.value;
  if (value.startsWith('redshift+data-api://')) {
    try {
      const url = new URL(value.replace(/^redshift\+data-api:/, 'http:'));
      const name = decodeURIComponent(url.hostname);
      if (url.searchParams.has('workgroup')) workgroupName = name;
      else clusterIdentifier = name;
      database = decodeURIComponent(url.pathname.replace(/^\//, '')) || database;
      dbUser = url.searchParams.get('user') ?? dbUser;
      secretArn = url.searchParams.get('secret') ?? secretArn;
    } catch {
      ctx.issues.push({ where, message: 'is not a valid redshift+data-api://<cluster-or-workgroup>/<database> URL' });
      return undefined;
    }
  } else {
    clusterIdentifier = ctx.fromFile('CLUSTER', 'IDENTIFIER')?.value;
    workgroupName = ctx.fromFile('CLUSTER', 'WORKGROUP')?.value;
  }
  if (!clusterIdentifier && !workgroupName) {
    ctx.issues.push({ where: 'dwh.cfg [CLUSTER] IDENTIFIER / WORKGROUP', message: 'the Data API needs a cluster identifier or a Serverless workgroup name' });
    return undefined;
  }
  if (clusterIdentifier && !dbUser && !secretArn) {
    ctx.issues.push({ where: 'dwh.cfg [CLUSTER] DB_USER / SECRET_ARN', message: 'the Data API on a provisioned cluster needs a database user (temporary credentials) or a Secrets Manager ARN' });
    return undefined;
  }
  return {
    kind: 'redshift',
    transport: 'data-api',
    dataApi: { clusterIdentifier, workgroupName, database, dbUser, secretArn },
    schema: ctx.schema,
    region: ctx.region,
  };
}

function parsePostgresUrl(value: string, where: string, issues: ConfigIssue[], defaultPort = 5432): PostgresConnection | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    issues.push({ where, message: `"${redactUrl(value)}" is not a valid URL (expected postgres://user:password@host:5432/database)` });
    return undefined;
  }
  const port = url.port ? Number(url.port) : defaultPort;
  const sslmode = url.searchParams.get('sslmode') ?? undefined;
  const mode = parseSslMode(sslmode ? { value: sslmode, where } : undefined, issues);
  if (!url.hostname) {
    issues.push({ where, message: `"${redactUrl(value)}" has no host` });
    return undefined;
  }
  return {
    host: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')),
    port,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    user: decodeURIComponent(url.username) || 'postgres',
    password: url.password ? decodeURIComponent(url.password) : undefined,
    sslmode: mode,
  };
}

function parsePort(port: Sourced | undefined, fallback: number, issues: ConfigIssue[]): number | undefined {
  if (!port) return fallback;
  const r = z.coerce.number().int().min(1).max(65535).safeParse(port.value);
  if (r.success) return r.data;
  issues.push({ where: port.where, message: `"${port.value}" is not a port number (1-65535)` });
  return undefined;
}

function parseSslMode(s: Sourced | undefined, issues: ConfigIssue[]): PostgresConnection['sslmode'] {
  if (!s) return undefined;
  const v = s.value.toLowerCase();
  if (v === 'disable' || v === 'require' || v === 'verify-full') return v;
  if (v === 'prefer' || v === 'allow') return 'disable';
  if (v === 'verify-ca') return 'verify-full';
  issues.push({ where: s.where, message: `"${s.value}" is not an sslmode (disable, require or verify-full)` });
  return undefined;
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

/** A URL with its password replaced, safe to print. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
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
