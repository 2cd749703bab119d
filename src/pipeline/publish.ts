import { ALL_TABLES } from '../schema/tables.js';
import { beforePublishSql, createTableSql, dropTableSql, nextName, publishSql } from '../schema/ddl.js';
import { firstLine, messageOf } from '../errors.js';
import type { Warehouse } from '../warehouses/warehouse.js';

/**
 * The copies a run builds (`_sparkify_next_<table>`) and their swap into place.
 * Loads and the transform write only copies, outside any transaction; the
 * tables users query change once, in `publish`'s one transaction. A failed or
 * killed run therefore leaves every table as it was, on every warehouse.
 */

/** Drops copies a failed or killed run left behind. */
export async function dropCopies(wh: Warehouse): Promise<void> {
  for (const t of ALL_TABLES) await wh.execute(dropTableSql(nextName(t.name)));
}

/** Empty copies of every table, without primary keys (added once the data is in). */
export async function createCopies(wh: Warehouse): Promise<void> {
  await dropCopies(wh);
  for (const t of ALL_TABLES) await wh.execute(createTableSql(t, wh.dialect, { name: nextName(t.name), primaryKey: false }));
}

/** Swaps every copy in, in one transaction; keys that need building are built first, outside it. */
export async function publish(wh: Warehouse): Promise<void> {
  for (const t of ALL_TABLES) for (const sql of beforePublishSql(t, wh.dialect)) await wh.execute(sql);
  await wh.transaction(async () => {
    for (const t of ALL_TABLES) for (const sql of publishSql(t, wh.dialect)) await wh.execute(sql);
  });
}

/**
 * `ANALYZE` of every table a run replaced, where the dialect wants it, so the
 * analytics team's first queries are planned on fresh statistics. On Redshift
 * VACUUM is left to its automatic vacuum, which sorts and reclaims in the
 * background. Runs after the swap: a failure here cannot undo the run, so it is
 * returned as a warning, never thrown.
 */
export async function analyzeTables(wh: Warehouse): Promise<string | undefined> {
  if (!wh.dialect.analyzeAfterLoad) return undefined;
  try {
    for (const t of ALL_TABLES) await wh.execute(`ANALYZE ${t.name}`);
    return undefined;
  } catch (err) {
    return `The tables were replaced, but updating their statistics failed (${firstLine(messageOf(err))}); queries may be planned poorly until the warehouse analyzes them itself, or you run ANALYZE.`;
  }
}
