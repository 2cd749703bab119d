import path from 'node:path';
import type { ConfigIssue } from '../errors.js';
import type { PostgresConnection } from '../warehouses/postgres/postgres-target.js';
import { wholeNumber, type ConfigLayers, type Sourced } from './layers.js';
import { redactUrl } from './redact.js';

/**
 * Wire-protocol connections (PostgreSQL, and Redshift over port 5439) from a
 * URL, or from PG* variables and `[CLUSTER]` of dwh.cfg. Problems are added
 * to `issues`, never thrown.
 */

/**
 * Parses `postgres://user:password@host:port/database?sslmode=…`.
 *
 * @example
 *   parsePostgresUrl('postgres://ann@db.example/music', '--warehouse', issues); // { host: 'db.example', port: 5432, … }
 */
export function parsePostgresUrl(value: string, where: string, issues: ConfigIssue[], defaultPort = 5432): PostgresConnection | undefined {
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

/** A connection from PG* variables and dwh.cfg [CLUSTER] (variables win); Redshift's defaults when `redshift`. */
export function connectionFromParts(layers: ConfigLayers, issues: ConfigIssue[], redshift: boolean): PostgresConnection | undefined {
  const { pick, fromEnv, fromFile } = layers;
  const host = pick(fromEnv('PGHOST'), fromFile('CLUSTER', 'HOST'));
  const port = pick(fromEnv('PGPORT'), fromFile('CLUSTER', 'DB_PORT'));
  const database = pick(fromEnv('PGDATABASE'), fromFile('CLUSTER', 'DB_NAME'));
  const user = pick(fromEnv('PGUSER'), fromFile('CLUSTER', 'DB_USER'));
  const password = pick(fromEnv('PGPASSWORD'), fromFile('CLUSTER', 'DB_PASSWORD'));
  const sslmode = pick(fromEnv('PGSSLMODE'), fromFile('CLUSTER', 'SSLMODE'));
  let ok = true;
  if (!host) {
    // No dwh.cfg at all says so, and where it was looked for (a missing --config / SPARKIFY_CONFIG file is an issue of its own).
    const named = layers.issues.find((i) => i.where === '--config' || i.where === 'SPARKIFY_CONFIG');
    const missing = named ? `the file named by ${named.where} does not exist` : `no config file was found (looked for ${path.resolve(layers.cwd, layers.fileName)})`;
    const elsewhere = named ? '' : 'run where your dwh.cfg is, name it with --config <file> (or SPARKIFY_CONFIG), ';
    issues.push({
      where: `${layers.fileName} [CLUSTER] HOST`,
      message: !layers.file
        ? `is not set: ${missing}; ${elsewhere}${redshift ? 'or set PGHOST to the cluster endpoint' : 'or set PGHOST or DATABASE_URL, or pass --warehouse postgres://user@host:5432/db'}`
        : redshift
          ? 'is empty: set it to the cluster endpoint (`sparkify cluster create` writes it), or set PGHOST'
          : 'is empty: set it (or PGHOST, or DATABASE_URL, or pass --warehouse postgres://user@host:5432/db)',
    });
    ok = false;
  }
  const portNumber = parsePort(port, redshift ? 5439 : 5432, issues);
  if (portNumber === undefined) ok = false;
  const mode = parseSslMode(sslmode, issues);
  layers.note('host', host?.value, host);
  layers.note('port', portNumber, port);
  layers.note('database', database?.value ?? (redshift ? 'dev' : 'postgres'), database);
  layers.note('user', user?.value ?? (redshift ? 'awsuser' : 'postgres'), user);
  layers.note('password', password?.value, password, { secret: true });
  layers.note('sslmode', mode ?? (redshift ? 'require' : undefined), sslmode);
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

function parsePort(port: Sourced | undefined, fallback: number, issues: ConfigIssue[]): number | undefined {
  if (!port) return fallback;
  const n = wholeNumber(port.value, 1, 65535);
  if (n !== undefined) return n;
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
