#!/usr/bin/env node
/**
 * The yardstick for DuckDB: the job as a good engineer would write it by hand
 * on the same engine. DuckDB's own read_json with explicit columns loads the
 * staging tables (no rejects, no line numbers, lossy casts: 1999.5 rounds into
 * an INTEGER, a bad line fails the whole run), then the very same INSERT …
 * SELECTs as sparkify build the star schema. DuckDB's default settings.
 *
 * Usage: node bench/baseline-duckdb.mjs <db file> <song_data> <log_data>
 * Prints one JSON line: { stages: [{ stage, seconds, rows }] }.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const dist = path.resolve(import.meta.dirname, '..', 'dist');
const { ALL_TABLES, STAR_TABLES, stagingEvents, stagingSongs } = await import(path.join(dist, 'schema/tables.js'));
const { createTableSql } = await import(path.join(dist, 'schema/ddl.js'));
const { transforms } = await import(path.join(dist, 'schema/transforms.js'));
const { duckdbDialect } = await import(path.join(dist, 'warehouses/duckdb/duckdb-warehouse.js'));

const [file, songs, logs] = process.argv.slice(2);
rmSync(file, { force: true });
rmSync(`${file}.wal`, { force: true });
const db = await DuckDBInstance.create(file);
const c = await db.connect();
const stages = [];
const stage = async (name, fn) => {
  const t = performance.now();
  const rows = await fn();
  stages.push({ stage: name, seconds: (performance.now() - t) / 1000, rows });
};
const count = async (table) => Number((await c.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0][0]);

const typeOf = (col) => ({ text: 'VARCHAR', integer: 'INTEGER', bigint: 'BIGINT', double: 'DOUBLE' })[col.type];
// userId is a JSON string ("" when logged out): read as text, cast after.
const columns = (table) => `{${table.columns.map((col) => `'${col.name}': '${col.name === 'userId' ? 'VARCHAR' : typeOf(col)}'`).join(', ')}}`;
// The fields only: this script does not record which file a row came from (file_id stays NULL), which sparkify does.
const names = (table) => table.columns.map((col) => col.name).join(', ');
const glob = (dir) => `'${dir.replace(/'/g, "''")}/**/*.json'`;

await stage('create-tables', async () => {
  for (const t of ALL_TABLES) await c.run(createTableSql(t, duckdbDialect));
  return 0;
});
await stage('load staging_songs', async () => {
  await c.run(`INSERT INTO staging_songs (${names(stagingSongs)}) SELECT * FROM read_json(${glob(songs)}, format = 'newline_delimited', columns = ${columns(stagingSongs)})`);
  return count('staging_songs');
});
await stage('load staging_events', async () => {
  await c.run(`INSERT INTO staging_events (${names(stagingEvents)}) SELECT * REPLACE (CAST(NULLIF(userId, '') AS INTEGER) AS userId)
    FROM read_json(${glob(logs)}, format = 'newline_delimited', columns = ${columns(stagingEvents)})`);
  return count('staging_events');
});
await stage('transform', async () => {
  for (const t of transforms(duckdbDialect)) await c.run(t.sql);
  let rows = 0;
  for (const t of STAR_TABLES) rows += await count(t.name);
  return rows;
});
c.closeSync();
db.closeSync();
process.stdout.write(`${JSON.stringify({ stages })}\n`);
