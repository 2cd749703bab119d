import path from 'node:path';
import { z } from 'zod';
import type { PostgresConnection, Sourced, WarehouseTarget } from './config.js';
import type { ConfigIssue } from './errors.js';

/**
 * `--warehouse` (or SPARKIFY_WAREHOUSE, or `[WAREHOUSE] TARGET`) → one
 * WarehouseTarget: a DuckDB file, PostgreSQL, or Redshift over the wire
 * protocol or the Data API, filling connections from PG* variables and
 * `[CLUSTER]`. Problems are added to `ctx.issues`, never thrown.
 */

export const DEFAULT_DUCKDB_FILE = 'sparkify.duckdb';

/** A URL with its password replaced, safe to print. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

export interface ResolveContext {
  /** The config file's name, for messages (`dwh.cfg` when there is none). */
  fileName: string;
  fromFile(section: string, key: string): Sourced | undefined;
  fromEnv(name: string): Sourced | undefined;
  pick(...c: (Sourced | undefined)[]): Sourced | undefined;
  issues: ConfigIssue[];
  cwd: string;
  schema: string;
  region?: string;
}

export function resolveWarehouse(target: Sourced | undefined, ctx: ResolveContext): WarehouseTarget | undefined {
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
      where: `${ctx.fileName} [CLUSTER] HOST`,
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
    ctx.issues.push({ where: `${ctx.fileName} [CLUSTER] IDENTIFIER / WORKGROUP`, message: 'the Data API needs a cluster identifier or a Serverless workgroup name' });
    return undefined;
  }
  if (clusterIdentifier && !dbUser && !secretArn) {
    ctx.issues.push({ where: `${ctx.fileName} [CLUSTER] DB_USER / SECRET_ARN`, message: 'the Data API on a provisioned cluster needs a database user (temporary credentials) or a Secrets Manager ARN' });
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

