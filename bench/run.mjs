#!/usr/bin/env node
/**
 * npm run bench [-- --events 1000000 --songs 10000 --warehouses duckdb,postgres]
 *
 * Speed as ratios measured in one run, on this machine, never as a timed test:
 * sparkify's etl against hand-written SQL doing the same job on the same engine.
 *
 * Data: the real sample's events, repeated with shifted sessions and days until
 * --events are reached (one file per day, like the course's logs), and the 71
 * real songs plus --songs synthetic one-object song files. Generated once into
 * bench/data/ (ignored by git) and reused.
 *
 * Baselines:
 *   duckdb    read_json with explicit columns (no rejects, no line numbers, lossy
 *             casts) into the staging tables, then the same transforms.
 *   postgres  raw lines COPY'd into a text table, parsed by the server
 *             (line::json->>'field') into staging, then the same transforms.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    songs: { type: 'string', default: '10000' },
    warehouses: { type: 'string', default: 'duckdb,postgres' },
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const EVENTS = Number(args.events);
const SONGS = Number(args.songs);

const lib = await import(path.join(root, 'dist/index.js'));
const { transforms } = await import(path.join(root, 'dist/schema/transforms.js'));
const { STAR_TABLES } = await import(path.join(root, 'dist/schema/tables.js'));

// ---------------------------------------------------------------- data
const dataDir = path.join(root, 'bench', 'data', `e${EVENTS}-s${SONGS}`);
const logsDir = path.join(dataDir, 'log_data');
const songsDir = path.join(dataDir, 'song_data');

function generate() {
  if (existsSync(path.join(dataDir, '.done'))) return;
  rmSync(dataDir, { recursive: true, force: true });
  const sampleLogs = path.join(root, 'data/sparkify-sample/log_data/2018/11');
  const lines = readdirSync(sampleLogs).sort().flatMap((f) => readFileSync(path.join(sampleLogs, f), 'utf8').split('\n').filter(Boolean));
  const events = lines.map((l) => JSON.parse(l));
  mkdirSync(logsDir, { recursive: true });
  const perDay = Math.ceil(EVENTS / Math.max(1, Math.round(EVENTS / 33_000)));
  let written = 0;
  let day = 0;
  while (written < EVENTS) {
    const out = [];
    for (let i = 0; i < perDay && written < EVENTS; i++, written++) {
      const round = Math.floor(written / events.length);
      const e = { ...events[written % events.length] };
      e.ts += round * 86_400_000 * 30;
      e.sessionId += round * 100_000;
      out.push(JSON.stringify(e));
    }
    const d = new Date(Date.UTC(2018, 10, 1) + day * 86_400_000).toISOString().slice(0, 10);
    mkdirSync(path.join(logsDir, d.slice(0, 4), d.slice(5, 7)), { recursive: true });
    writeFileSync(path.join(logsDir, d.slice(0, 4), d.slice(5, 7), `${d}-${day}-events.json`), out.join('\n'));
    day++;
  }
  const sampleSongs = path.join(root, 'data/sparkify-sample/song_data');
  const songs = [];
  const walk = (d) => readdirSync(d).forEach((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : songs.push(path.join(d, n))));
  walk(sampleSongs);
  const real = songs.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  for (let i = 0; i < real.length + SONGS; i++) {
    const s = i < real.length ? real[i] : { ...real[i % real.length], song_id: `SOBENCH${String(i).padStart(11, '0')}`, title: `${real[i % real.length].title} ${i}` };
    const id = s.song_id;
    const dir = path.join(songsDir, id[2], id[3], id[4]);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `TR${id.slice(2)}.json`), JSON.stringify(s));
  }
  writeFileSync(path.join(dataDir, '.done'), '');
}

// ---------------------------------------------------------------- timing
const results = [];
async function time(name, fn) {
  const t = performance.now();
  const detail = await fn();
  const s = (performance.now() - t) / 1000;
  results.push({ name, seconds: s, detail });
  process.stderr.write(`  ${name.padEnd(44)} ${s.toFixed(2).padStart(7)} s ${detail ?? ''}\n`);
  return s;
}

const starSql = (dialect) => transforms(dialect).map((t) => t.sql);

/** create-tables + etl through the library; returns the stage timings as a line. */
async function sparkifyRun(target) {
  const wh = await lib.openWarehouse(target);
  try {
    await lib.createTables(wh);
    const r = await lib.etl(wh, { songs: songsDir, logs: logsDir });
    return r.stages.map((s) => `${s.stage.replace('load ', '')} ${s.seconds.toFixed(2)}s`).join(', ');
  } finally {
    await wh.close();
  }
}

// ---------------------------------------------------------------- duckdb
async function benchDuckDB() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const dir = path.join(root, 'bench', 'data', 'db');
  mkdirSync(dir, { recursive: true });
  const file = (n) => {
    const p = path.join(dir, n);
    rmSync(p, { force: true });
    rmSync(`${p}.wal`, { force: true });
    return p;
  };

  const ours = await time('duckdb: sparkify etl', () => sparkifyRun({ kind: 'duckdb', path: file('sparkify.duckdb') }));

  const base = await time('duckdb: hand-written SQL (read_json)', async () => {
    const wh = await lib.openWarehouse({ kind: 'duckdb', path: file('baseline.duckdb') });
    await lib.createTables(wh);
    await wh.close();
    const db = await DuckDBInstance.create(path.join(dir, 'baseline.duckdb'));
    const c = await db.connect();
    const cols = (t) => `{${t.columns.map((c) => `'${c.name}': '${c.type === 'text' ? 'VARCHAR' : c.type === 'double' ? 'DOUBLE' : c.type === 'bigint' ? 'BIGINT' : 'INTEGER'}'`).join(', ')}}`;
    const { stagingEvents, stagingSongs } = await import(path.join(root, 'dist/schema/tables.js'));
    const evCols = cols({ columns: stagingEvents.columns.map((c) => (c.name === 'userId' ? { ...c, type: 'text' } : c)) });
    await c.run(`INSERT INTO staging_songs SELECT * FROM read_json('${songsDir}/**/*.json', format = 'newline_delimited', columns = ${cols(stagingSongs)})`);
    await c.run(`INSERT INTO staging_events SELECT * REPLACE (TRY_CAST(NULLIF(userId, '') AS INTEGER) AS userId)
      FROM read_json('${logsDir}/**/*.json', format = 'newline_delimited', columns = ${evCols})`);
    const { duckdbDialect } = await import(path.join(root, 'dist/warehouses/duckdb/duckdb-warehouse.js'));
    for (const sql of starSql(duckdbDialect)) await c.run(sql);
    c.closeSync();
    db.closeSync();
  });
  return { ours, base };
}

// ---------------------------------------------------------------- postgres
async function benchPostgres() {
  const pg = (await import('pg')).default;
  const { from: copyFrom } = await import('pg-copy-streams');
  const url = new URL(args.postgres);
  const connection = { host: url.hostname, port: Number(url.port || 5432), database: url.pathname.slice(1) || 'postgres', user: url.username || 'postgres' };
  const schema = `sparkify_bench_${process.pid}`;
  const admin = new pg.Client(connection);
  await admin.connect();
  try {
    const ours = await time('postgres: sparkify etl (COPY FROM STDIN)', () => sparkifyRun({ kind: 'postgres', connection, schema }));
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);

    const base = await time('postgres: hand-written SQL (server parses JSON)', async () => {
      const wh = await lib.openWarehouse({ kind: 'postgres', connection, schema });
      await lib.createTables(wh);
      const dialect = wh.dialect;
      await wh.close();
      const c = new pg.Client(connection);
      await c.connect();
      try {
        await c.query(`SET search_path = ${schema}`);
        const copyLines = async (table, files, sep) => {
          for (let i = 0; i < files.length; i += 1000) {
            // Lines as CSV with an impossible quote/delimiter, so the server keeps them as they are.
            const stream = c.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`));
            await new Promise((resolve, reject) => {
              stream.on('finish', resolve).on('error', reject);
              stream.end(Buffer.concat(files.slice(i, i + 1000).flatMap((f) => [readFileSync(f), Buffer.from(sep)])));
            });
          }
        };
        const list = (dir) => {
          const files = [];
          const walk = (d) => readdirSync(d).forEach((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : files.push(path.join(d, n))));
          walk(dir);
          return files;
        };
        await c.query('CREATE TEMP TABLE raw_events (line text); CREATE TEMP TABLE raw_songs (line text)');
        await copyLines('raw_events', list(logsDir), '\n');
        await copyLines('raw_songs', list(songsDir), '\n');
        const { stagingEvents, stagingSongs } = await import(path.join(root, 'dist/schema/tables.js'));
        const pgType = (t) => (t === 'text' ? 'text' : t === 'double' ? 'double precision' : t === 'bigint' ? 'bigint' : 'integer');
        const exprs = (table) =>
          table.columns.map((col) => (col.name === 'userId' ? `NULLIF(j->>'userId', '')::integer` : `(j->>'${col.name}')::${pgType(col.type)}`)).join(', ');
        await c.query(`INSERT INTO staging_events SELECT ${exprs(stagingEvents)} FROM (SELECT line::json AS j FROM raw_events WHERE line <> '') x`);
        await c.query(`INSERT INTO staging_songs SELECT ${exprs(stagingSongs)} FROM (SELECT line::json AS j FROM raw_songs WHERE line <> '') x`);
        for (const sql of starSql(dialect)) await c.query(sql);
      } finally {
        await c.end();
      }
    });
    return { ours, base };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

// ---------------------------------------------------------------- main
process.stderr.write(`sparkify bench: ${EVENTS.toLocaleString('en-US')} events, ${(SONGS + 71).toLocaleString('en-US')} song files\n`);
await time('generate data (first run only)', async () => generate());
const bytes = readdirSync(logsDir, { recursive: true }).reduce((n, f) => {
  const p = path.join(logsDir, f);
  return statSync(p).isFile() ? n + statSync(p).size : n;
}, 0);
process.stderr.write(`  ${(bytes / 1024 / 1024).toFixed(0)} MB of event logs\n\n`);

const summary = [];
for (const w of args.warehouses.split(',')) {
  const r = w === 'duckdb' ? await benchDuckDB() : w === 'postgres' ? await benchPostgres() : undefined;
  if (!r) throw new Error(`unknown warehouse ${w}`);
  summary.push({ warehouse: w, sparkify_s: +r.ours.toFixed(2), baseline_s: +r.base.toFixed(2), ratio: +(r.ours / r.base).toFixed(2), events_per_s: Math.round(EVENTS / r.ours) });
}
process.stdout.write(`\n${JSON.stringify({ events: EVENTS, songs: SONGS + 71, log_bytes: bytes, results: summary }, null, 2)}\n`);
