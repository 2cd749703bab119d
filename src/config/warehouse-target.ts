import path from 'node:path';
import type { ConfigIssue } from '../errors.js';
import { DEFAULT_DUCKDB_FILE, DEFAULT_MEMORY_LIMIT, type DuckDBTarget } from '../warehouses/duckdb/duckdb-target.js';
import type { WarehouseTarget } from '../warehouses/open-warehouse.js';
import { dataApiName, type DataApiConnection, type RedshiftCopyOptions, type RedshiftDataApiTarget } from '../warehouses/redshift/redshift-target.js';
import { connectionFromParts, parsePostgresUrl } from './connection.js';
import { definedOnly, type ConfigLayers, type Sourced } from './layers.js';
import { redactUrl } from './redact.js';

/**
 * `--warehouse` (or SPARKIFY_WAREHOUSE, or `[WAREHOUSE] TARGET`) → one
 * WarehouseTarget: a DuckDB file, PostgreSQL, or Redshift over the wire
 * protocol or the Data API, filling connections from PG* variables and
 * `[CLUSTER]`. Problems are added to `ctx.issues`, never thrown.
 */

export interface ResolveContext {
  layers: ConfigLayers;
  issues: ConfigIssue[];
  schema: string;
  region?: string;
  /** Redshift's COPY options, for a Redshift target. */
  copy: RedshiftCopyOptions;
}

/**
 * Resolves the target a user named (DuckDB's default file when none).
 *
 * @example
 *   resolveWarehouse({ value: 'postgres://ann@db/music', where: '--warehouse' }, ctx); // { kind: 'postgres', … }
 */
export function resolveWarehouse(target: Sourced | undefined, ctx: ResolveContext): WarehouseTarget | undefined {
  const value = target?.value ?? 'duckdb';
  const where = target?.where ?? 'warehouse';
  const { layers, issues, schema, copy } = ctx;
  if (/^postgres(ql)?:\/\//i.test(value)) {
    const connection = parsePostgresUrl(value, where, issues);
    return connection && { kind: 'postgres', connection, schema };
  }
  if (value === 'postgres' || value === 'postgresql') {
    const url = layers.fromEnv('DATABASE_URL');
    const connection = url ? parsePostgresUrl(url.value, url.where, issues) : connectionFromParts(layers, issues, false);
    return connection && { kind: 'postgres', connection, schema };
  }
  if (value.startsWith('redshift+data-api://') || value === 'redshift-data-api') return resolveDataApi(value, where, ctx);
  if (value.startsWith('redshift://')) {
    const connection = parsePostgresUrl(value.replace(/^redshift:/, 'postgres:'), where, issues, 5439);
    return connection && { kind: 'redshift', connection: { ...connection, sslmode: connection.sslmode ?? 'require' }, schema, copy };
  }
  if (value === 'redshift') {
    const connection = connectionFromParts(layers, issues, true);
    return connection && { kind: 'redshift', connection, schema, copy };
  }
  if (value === 'duckdb') return duckdb(path.resolve(layers.cwd, DEFAULT_DUCKDB_FILE), ctx);
  if (/^duckdb:/i.test(value)) {
    const p = value.replace(/^duckdb:(\/\/)?/i, '');
    return duckdb(p === ':memory:' ? p : path.resolve(layers.cwd, p || DEFAULT_DUCKDB_FILE), ctx);
  }
  if (value === ':memory:') return duckdb(value, ctx);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    issues.push({
      where,
      message: `"${redactUrl(value)}" is not a warehouse sparkify knows: use a DuckDB file path, postgres://user@host:5432/db, or redshift`,
    });
    return undefined;
  }
  return duckdb(path.resolve(layers.cwd, value), ctx);
}

/** A DuckDB target with its memory settings: [DUCKDB] MEMORY_LIMIT / TEMP_DIRECTORY, or SPARKIFY_DUCKDB_*. */
function duckdb(file: string, ctx: ResolveContext): DuckDBTarget {
  const { pick, fromEnv, fromFile } = ctx.layers;
  const memoryLimit = pick(fromEnv('SPARKIFY_DUCKDB_MEMORY_LIMIT'), fromFile('DUCKDB', 'MEMORY_LIMIT'));
  if (memoryLimit && !/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)$/i.test(memoryLimit.value.trim())) {
    ctx.issues.push({ where: memoryLimit.where, message: `"${memoryLimit.value}" is not an amount of memory (e.g. 2GB, 512MB, 4GiB)` });
  }
  const temp = pick(fromEnv('SPARKIFY_DUCKDB_TEMP_DIRECTORY'), fromFile('DUCKDB', 'TEMP_DIRECTORY'));
  ctx.layers.note('duckdb memory limit', memoryLimit?.value.trim() ?? DEFAULT_MEMORY_LIMIT, memoryLimit);
  ctx.layers.note('duckdb temp directory', temp?.value, temp);
  return definedOnly({ kind: 'duckdb', path: file, memoryLimit: memoryLimit?.value.trim(), tempDirectory: temp && path.resolve(ctx.layers.cwd, temp.value) });
}

/** `redshift+data-api://<cluster-id or workgroup>/<database>?workgroup=1&secret=arn&user=awsuser`, or `[CLUSTER]`. */
function resolveDataApi(value: string, where: string, ctx: ResolveContext): RedshiftDataApiTarget | undefined {
  const { fromFile } = ctx.layers;
  let clusterIdentifier: string | undefined;
  let workgroupName: string | undefined;
  let database = fromFile('CLUSTER', 'DB_NAME')?.value ?? 'dev';
  let dbUser = fromFile('CLUSTER', 'DB_USER')?.value;
  let secretArn = fromFile('CLUSTER', 'SECRET_ARN')?.value;
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
    clusterIdentifier = fromFile('CLUSTER', 'IDENTIFIER')?.value;
    workgroupName = fromFile('CLUSTER', 'WORKGROUP')?.value;
  }
  const file = ctx.layers.fileName;
  let dataApi: DataApiConnection;
  if (workgroupName) dataApi = { workgroupName, database, dbUser, secretArn };
  else if (!clusterIdentifier) {
    ctx.issues.push({ where: `${file} [CLUSTER] IDENTIFIER / WORKGROUP`, message: 'the Data API needs a cluster identifier or a Serverless workgroup name' });
    return undefined;
  } else {
    // Neither a database user nor a secret: the Data API maps the caller's IAM identity to a database user
    // (redshift:GetClusterCredentialsWithIAM).
    dataApi = { clusterIdentifier, database, dbUser, secretArn };
  }
  const from = { value, where: value.startsWith('redshift+data-api://') ? where : `${file} [CLUSTER]` };
  ctx.layers.note('data api', `${dataApiName(dataApi)}/${database}`, from);
  ctx.layers.note('data api auth', secretArn ? 'Secrets Manager secret' : workgroupName !== undefined || !dbUser ? 'your IAM identity' : `database user ${dbUser}`, from);
  return { kind: 'redshift-data-api', dataApi: definedOnly(dataApi), schema: ctx.schema, region: ctx.region, copy: ctx.copy };
}
