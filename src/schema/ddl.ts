import type { SqlDialect } from './dialect.js';
import type { Table } from './tables.js';

/** `DROP TABLE IF EXISTS` for one table. */
export function dropTableSql(table: Table): string {
  return `DROP TABLE IF EXISTS ${table.name}`;
}

/** `CREATE TABLE` for one table in one dialect. */
export function createTableSql(table: Table, d: SqlDialect): string {
  const cols = table.columns.map((c) => `  ${d.columnName(c.name)} ${d.typeName(c.type, c)}${c.notNull ? ' NOT NULL' : ''}`);
  if (d.declaresPrimaryKeys && table.primaryKey) cols.push(`  ${primaryKeyClause(table, d)}`);
  const attrs = d.tableAttributes(table);
  return `CREATE TABLE ${table.name} (\n${cols.join(',\n')}\n)${attrs ? `\n${attrs}` : ''}`;
}

function primaryKeyClause(table: Table, d: SqlDialect): string {
  return `CONSTRAINT ${table.name}_pkey PRIMARY KEY (${(table.primaryKey ?? []).map((n) => d.columnName(n)).join(', ')})`;
}

/**
 * For dialects that build keys faster after a bulk insert than during it
 * (`rebuildsKeysAfterBulkInsert`): the statements around the insert, or none.
 */
export function primaryKeyRebuildSql(table: Table, d: SqlDialect): { before: string; after: string } | undefined {
  if (!d.declaresPrimaryKeys || !d.rebuildsKeysAfterBulkInsert || !table.primaryKey) return undefined;
  return {
    before: `ALTER TABLE ${table.name} DROP CONSTRAINT IF EXISTS ${table.name}_pkey`,
    after: `ALTER TABLE ${table.name} ADD ${primaryKeyClause(table, d)}`,
  };
}
