import type { SqlDialect } from '../warehouses/warehouse.js';
import type { Table } from './tables.js';

/** `DROP TABLE IF EXISTS` for one table. */
export function dropTableSql(table: Table): string {
  return `DROP TABLE IF EXISTS ${table.name}`;
}

/** `CREATE TABLE` for one table in one dialect. */
export function createTableSql(table: Table, d: SqlDialect): string {
  const cols = table.columns.map((c) => `  ${d.columnName(c.name)} ${d.typeName(c.type, c)}${c.notNull ? ' NOT NULL' : ''}`);
  if (d.declaresPrimaryKeys && table.primaryKey) cols.push(`  PRIMARY KEY (${table.primaryKey.map((n) => d.columnName(n)).join(', ')})`);
  const attrs = d.tableAttributes(table);
  return `CREATE TABLE ${table.name} (\n${cols.join(',\n')}\n)${attrs ? `\n${attrs}` : ''}`;
}
