import type { SqlDialect } from './dialect.js';
import { storedColumns, type Table, type TableName } from './tables.js';

/**
 * The DDL of every table in one dialect, and of the build-and-swap that makes a
 * run atomic: a run fills `_sparkify_next_<table>` copies while the tables
 * stay as they were, then publishes them all in one short transaction (drop the
 * old table, rename the new one in). A run that fails or is killed leaves only
 * copies, which the next run drops.
 */

const NEXT_PREFIX = '_sparkify_next_';

/** The name of the copy a run builds of `table`. */
export function nextName(name: TableName | string): string {
  return `${NEXT_PREFIX}${name}`;
}

/** `DROP TABLE IF EXISTS` for one table (or its copy). */
export function dropTableSql(name: string): string {
  return `DROP TABLE IF EXISTS ${name}`;
}

/**
 * `CREATE TABLE` for one table in one dialect, named `name` (default its own).
 * Without `primaryKey` the key is left out, to be added after the load.
 *
 * @example
 *   createTableSql(songplays, postgresDialect); // CREATE TABLE songplays ( …, CONSTRAINT songplays_pkey PRIMARY KEY (songplay_id) )
 */
export function createTableSql(table: Table, d: SqlDialect, options: { name?: string; primaryKey?: boolean; temporary?: boolean } = {}): string {
  const name = options.name ?? table.name;
  const cols = storedColumns(table).map((c) => `  ${d.columnName(c.name)} ${d.typeName(c.type, c)}${c.notNull ? ' NOT NULL' : ''}`);
  if ((options.primaryKey ?? true) && d.primaryKeys !== 'none' && table.primaryKey) cols.push(`  ${primaryKeyClause(table, d, name)}`);
  const attrs = d.tableAttributes(table);
  return `CREATE ${options.temporary ? 'TEMPORARY ' : ''}TABLE ${name} (\n${cols.join(',\n')}\n)${attrs ? `\n${attrs}` : ''}`;
}

function primaryKeyClause(table: Table, d: SqlDialect, name: string): string {
  return `CONSTRAINT ${name}_pkey PRIMARY KEY (${(table.primaryKey ?? []).map((n) => d.columnName(n)).join(', ')})`;
}

/** Statements run on a finished copy before it is published: an index-backed key is built now, outside the swap. */
export function beforePublishSql(table: Table, d: SqlDialect): string[] {
  if (d.primaryKeys !== 'index' || !table.primaryKey) return [];
  return [`ALTER TABLE ${nextName(table.name)} ADD ${primaryKeyClause(table, d, nextName(table.name))}`];
}

/**
 * The swap of one table, run with every other table's in one transaction: the
 * old table goes, the copy takes its name, and its key takes the usual name.
 */
export function publishSql(table: Table, d: SqlDialect): string[] {
  const statements = [dropTableSql(table.name), `ALTER TABLE ${nextName(table.name)} RENAME TO ${table.name}`];
  if (table.primaryKey && d.primaryKeys === 'index') {
    statements.push(`ALTER TABLE ${table.name} RENAME CONSTRAINT ${nextName(table.name)}_pkey TO ${table.name}_pkey`);
  } else if (table.primaryKey && d.primaryKeys === 'informational') {
    statements.push(`ALTER TABLE ${table.name} ADD ${primaryKeyClause(table, d, table.name)}`);
  }
  return statements;
}
