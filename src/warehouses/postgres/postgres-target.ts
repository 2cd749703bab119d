/** Where a PostgreSQL server (or Redshift over its wire protocol) listens, and who connects. */
export interface PostgresConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** `require` / `verify-full` turn TLS on; `disable` off. Default: off for PostgreSQL, on for Redshift. */
  sslmode?: 'disable' | 'require' | 'verify-full';
}

/** PostgreSQL: a connection, and the schema holding every table (created when missing). */
export interface PostgresTarget {
  kind: 'postgres';
  connection: PostgresConnection;
  schema: string;
}

/**
 * `PostgreSQL postgres@127.0.0.1:5432/test (schema public)`: the one description
 * of a wire-protocol target, safe to print (never the password).
 */
export function describeConnection(product: string, c: Pick<PostgresConnection, 'user' | 'host' | 'port' | 'database'>, schema: string): string {
  return `${product} ${c.user}@${c.host}:${c.port}/${c.database} (schema ${schema})`;
}
