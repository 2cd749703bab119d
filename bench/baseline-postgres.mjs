#!/usr/bin/env node
/**
 * The yardstick for PostgreSQL: the job as a good engineer would write it by
 * hand for speed. Node reads every file and turns each JSON line into a COPY
 * text row with a small byte-level converter (no JSON.parse for the common
 * case, no checks: a record it does not expect makes garbage or fails the
 * COPY), streams it with COPY … FROM STDIN, then runs the very same INSERT …
 * SELECTs as sparkify. Tables with their keys, as `create-tables` makes them.
 *
 * Usage: node bench/baseline-postgres.mjs <postgres url> <schema> <song_data> <log_data>
 * Prints one JSON line: { stages: [{ stage, seconds, rows }] }.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const dist = path.resolve(import.meta.dirname, '..', 'dist');
const { ALL_TABLES, STAR_TABLES, stagingEvents, stagingSongs } = await import(path.join(dist, 'schema/tables.js'));
const { createTableSql } = await import(path.join(dist, 'schema/ddl.js'));
const { transforms } = await import(path.join(dist, 'schema/transforms.js'));
const { postgresDialect } = await import(path.join(dist, 'warehouses/postgres/postgres-warehouse.js'));

const [url, schema, songs, logs] = process.argv.slice(2);
const client = new pg.Client(url);
await client.connect();
await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
const stages = [];
const stage = async (name, fn) => {
  const t = performance.now();
  const rows = await fn();
  stages.push({ stage: name, seconds: (performance.now() - t) / 1000, rows });
};
const count = async (table) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

const files = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();

const escape = (s) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]);

/** One JSON object (bytes start..end of buf) as a COPY row of `names`' fields. */
function row(buf, start, end, index, width) {
  const fields = new Array(width).fill('\\N');
  let i = buf.indexOf(123, start) + 1; // {
  while (i > 0 && i < end) {
    while (buf[i] !== 34 && buf[i] !== 125 && i < end) i++; // to the key's quote, or the end
    if (buf[i] !== 34) break;
    const keyEnd = buf.indexOf(34, i + 1);
    const col = index.get(buf.latin1Slice(i + 1, keyEnd));
    i = buf.indexOf(58, keyEnd) + 1; // :
    while (buf[i] === 32) i++;
    let value;
    if (buf[i] === 34) {
      let j = i + 1;
      let escaped = false;
      while (buf[j] !== 34) j += buf[j] === 92 ? ((escaped = true), 2) : 1;
      value = escaped ? escape(JSON.parse(buf.toString('utf8', i, j + 1))) : buf.toString('utf8', i + 1, j);
      if (value === '') value = '\\N';
      i = j + 1;
    } else {
      let j = i;
      while (buf[j] !== 44 && buf[j] !== 125 && j < end) j++;
      value = buf.latin1Slice(i, j).trim();
      if (value === 'null') value = '\\N';
      i = j;
    }
    if (col !== undefined) fields[col] = value;
    if (buf[i] === 44) i++;
  }
  return fields.join('\t');
}

async function load(table, dir) {
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const width = table.columns.length;
  const copy = client.query(copyFrom(`COPY ${table.name} (${table.columns.map((c) => c.name).join(', ')}) FROM STDIN`));
  const done = new Promise((resolve, reject) => copy.on('finish', resolve).on('error', reject));
  for (const file of files(dir)) {
    const buf = readFileSync(file);
    let out = '';
    let from = 0;
    while (from < buf.length) {
      let nl = buf.indexOf(10, from);
      if (nl === -1) nl = buf.length;
      if (nl > from) out += `${row(buf, from, nl, index, width)}\n`;
      from = nl + 1;
    }
    if (!copy.write(out)) await new Promise((r) => copy.once('drain', r));
  }
  copy.end();
  await done;
  return count(table.name);
}

await stage('create-tables', async () => {
  for (const t of ALL_TABLES) await client.query(createTableSql(t, postgresDialect));
  return 0;
});
await stage('load staging_songs', () => load(stagingSongs, songs));
await stage('load staging_events', () => load(stagingEvents, logs));
await stage('transform', async () => {
  for (const t of transforms(postgresDialect)) await client.query(t.sql);
  let rows = 0;
  for (const t of STAR_TABLES) rows += await count(t.name);
  return rows;
});
await client.query(`DROP SCHEMA ${schema} CASCADE`);
await client.end();
process.stdout.write(`${JSON.stringify({ stages })}\n`);
