#!/usr/bin/env node
/**
 * npm run bench -- [--events 1000000] [--songs 100000] [--songs-per-file 1000] [--days 30]
 *                  [--warehouses duckdb,postgres] [--runs 3] [--sample] [--postgres URL] [--record]
 *                  [--scale events:songs[:warehouses[:runs]] …] [--daily]
 *
 * Each --scale is one data set and the warehouses to run on it (joined with +), e.g.
 *   --scale 1000000:100000:duckdb+postgres --scale 10000000:1000000:duckdb:1
 * Without --scale, one scale from --events, --songs, --warehouses and --runs.
 *
 * Speed and memory as ratios measured in one run on this machine, never as a
 * timed test: `sparkify run` (a process of its own, as a user runs it) against
 * the hand-written script doing the same job on the same engine and data
 * (bench/baseline-*.mjs), in alternating runs, medians reported. Per stage:
 * rows, seconds, rows/s; per process: wall time and peak memory.
 *
 * Data comes from `sparkify generate` into bench/data/ (ignored by git) and is
 * reused. --sample also times the bundled real sample, process start included.
 * --record appends the results to bench/RESULTS.md with the machine, date and commit.
 *
 * --daily also times a daily run at each scale and warehouse: the warehouse
 * holds every day but the last (`sparkify run --until <the day before>`, not
 * timed), and `sparkify etl` loads the last day's file (1/days of the data);
 * its time is reported against the full run's, in the same run. On DuckDB
 * (whose preparation is a copy of the file) the daily run is timed at least 3 times.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    songs: { type: 'string', default: '100000' },
    'songs-per-file': { type: 'string', default: '1000' },
    days: { type: 'string', default: '30' },
    warehouses: { type: 'string', default: 'duckdb,postgres' },
    runs: { type: 'string', default: '3' },
    sample: { type: 'boolean', default: false },
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    record: { type: 'boolean', default: false },
    scale: { type: 'string', multiple: true },
    daily: { type: 'boolean', default: false },
  },
});
let RUNS = Number(args.runs);
const cli = path.join(root, 'dist', 'cli', 'main.js');
const work = path.join(root, 'bench', 'data', 'work');
mkdirSync(work, { recursive: true });

/** One process, timed, with its peak memory (bench/peak.mjs writes it on exit). */
function measure(argv, env = {}) {
  const peakFile = path.join(work, `peak-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', path.join(root, 'bench', 'peak.mjs'), ...argv], {
      cwd: root,
      env: { ...process.env, CI: 'true', BENCH_PEAK_FILE: peakFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}:\n${stderr}${stdout}`));
      const peakMB = existsSync(peakFile) ? Number(readFileSync(peakFile, 'utf8')) / 1024 : NaN;
      rmSync(peakFile, { force: true });
      // sparkify prints the JSON envelope ({ ok, result, … }); the hand-written scripts print their report bare.
      const out = JSON.parse(stdout);
      resolve({ seconds, peakMB, report: out.ok === true && out.result ? out.result : out });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Alternates the two commands `RUNS` times (starting with each in turn) and keeps every measurement. */
async function alternate(name, ours, theirs) {
  const results = { ours: [], theirs: [] };
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const who of order) {
      const m = await (who === 'ours' ? ours() : theirs());
      results[who].push(m);
      process.stderr.write(`  ${name} ${who === 'ours' ? 'sparkify' : 'script  '} run ${r + 1}: ${m.seconds.toFixed(2)} s, ${m.peakMB.toFixed(0)} MB\n`);
    }
  }
  return results;
}

/** Median seconds per stage, with rows from the first run. */
function stageMedians(runs) {
  const names = runs[0].report.stages.map((s) => s.stage);
  return names.map((stage) => {
    const xs = runs.map((r) => r.report.stages.find((s) => s.stage === stage));
    return { stage, seconds: median(xs.map((s) => s.seconds)), rows: xs[0].rows };
  });
}

function summarise(warehouse, data, results) {
  const ours = { wall: median(results.ours.map((m) => m.seconds)), peakMB: median(results.ours.map((m) => m.peakMB)), stages: stageMedians(results.ours) };
  const theirs = { wall: median(results.theirs.map((m) => m.seconds)), peakMB: median(results.theirs.map((m) => m.peakMB)), stages: stageMedians(results.theirs) };
  return { warehouse, data, ours, theirs, wallRatio: ours.wall / theirs.wall, peakRatio: ours.peakMB / theirs.peakMB };
}

// ---------------------------------------------------------------- data
const scales = (args.scale ?? [`${args.events}:${args.songs}:${args.warehouses.replaceAll(',', '+')}:${args.runs}`]).map((spec) => {
  const [events, songs, warehouses = args.warehouses.replaceAll(',', '+'), runs = args.runs] = spec.split(':');
  return { events: Number(events), songs: Number(songs), warehouses: warehouses.split('+').filter(Boolean), runs: Number(runs) };
});
const perFile = Number(args['songs-per-file']);
const days = Number(args.days);

/** Generates a data set once (bench/data is reused between runs); returns its folders and counts. */
function dataSet(events, songs) {
  const dir = path.join(root, 'bench', 'data', `e${events}-s${songs}-p${perFile}-d${days}`);
  if (!existsSync(path.join(dir, 'generate.json'))) {
    process.stderr.write(`generating ${dir} …\n`);
    rmSync(dir, { recursive: true, force: true });
    const argv = [cli, 'generate', '--out', dir, '--events', String(events), '--songs', String(songs), '--songs-per-file', String(perFile), '--days', String(days), '--quiet'];
    execFileSync(process.execPath, argv, { stdio: 'inherit' });
  }
  const manifest = JSON.parse(readFileSync(path.join(dir, 'generate.json'), 'utf8')).counts;
  const n = (x) => x.toLocaleString('en-US');
  const describe = `${n(manifest.events)} events, ${n(manifest.songs)} songs in ${n(manifest.songFiles)} files, ${(manifest.bytes / 2 ** 20).toFixed(0)} MB`;
  return { songs: path.join(dir, 'song_data'), logs: path.join(dir, 'log_data'), manifest, describe };
}

const summaries = [];
const dailies = [];

/** The last day the log files are named for, and the one before it. */
function lastDays(logs) {
  const names = execFileSync('find', [logs, '-name', '*.json'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const days = [...new Set(names.map((n) => /(\d{4}-\d{2}-\d{2})[^/]*$/.exec(n)?.[1]).filter(Boolean))].sort();
  return { last: days.at(-1), before: days.at(-2) };
}

/**
 * A daily run: `prepare` builds the warehouse with every day but the last
 * (untimed), then `sparkify etl` loads the last day; RUNS times, medians kept.
 */
async function daily(name, prepare, etlArgs, env = {}, times = RUNS) {
  const runs = [];
  for (let r = 0; r < times; r++) {
    await prepare();
    // What the preparation wrote is on disk before the run starts, not flushed while it runs.
    execFileSync('sync');
    const m = await measure([cli, 'etl', ...etlArgs, '--json'], env);
    if (m.report.mode !== 'incremental') throw new Error(`the daily run was ${m.report.mode}: ${m.report.modeReason}`);
    runs.push(m);
    process.stderr.write(`  ${name} daily run ${r + 1}: ${m.seconds.toFixed(2)} s, ${m.peakMB.toFixed(0)} MB\n`);
  }
  return { wall: median(runs.map((m) => m.seconds)), peakMB: median(runs.map((m) => m.peakMB)), stages: stageMedians(runs), report: runs[0].report };
}
const duckdbFile = (who) => path.join(work, `${who}.duckdb`);
const sparkifyRun = (warehouse, s, l, env = {}) => () => measure([cli, 'run', '--warehouse', warehouse, '--songs', s, '--logs', l, '--json'], env);

if (args.sample) {
  RUNS = Number(args.runs);
  const sample = path.join(root, 'data', 'sparkify-sample');
  const r = await alternate(
    'sample duckdb',
    () => {
      // A fresh file each time: a second run into the same one would find nothing new.
      rmSync(duckdbFile('sample'), { force: true });
      return sparkifyRun(duckdbFile('sample'), path.join(sample, 'song_data'), path.join(sample, 'log_data'))();
    },
    () => measure([path.join(root, 'bench', 'baseline-duckdb.mjs'), duckdbFile('sample-script'), path.join(sample, 'song_data'), path.join(sample, 'log_data')]),
  );
  summaries.push(summarise('duckdb', 'the real sample (8,056 events, 71 songs)', r));
}
for (const scale of scales) {
  RUNS = scale.runs;
  const { songs, logs, manifest, describe } = dataSet(scale.events, scale.songs);
  process.stderr.write(`sparkify bench: ${describe}; ${RUNS} alternating runs each\n`);
  for (const w of scale.warehouses) {
    if (w === 'duckdb') {
      const r = await alternate(
        'duckdb',
        () => {
          rmSync(duckdbFile('ours'), { force: true });
          return sparkifyRun(duckdbFile('ours'), songs, logs)();
        },
        () => measure([path.join(root, 'bench', 'baseline-duckdb.mjs'), duckdbFile('script'), songs, logs]),
      );
      summaries.push({ ...summarise('duckdb', describe, r), manifest });
      for (const f of ['ours', 'script']) for (const x of ['', '.wal']) rmSync(`${duckdbFile(f)}${x}`, { force: true });
      if (args.daily) {
        const { before } = lastDays(logs);
        const base = duckdbFile('daily-base');
        rmSync(base, { force: true });
        await measure([cli, 'run', '--warehouse', base, '--songs', songs, '--logs', logs, '--until', before, '--json']);
        const d = await daily('duckdb', async () => {
          for (const x of ['', '.wal']) rmSync(`${duckdbFile('daily')}${x}`, { force: true });
          execFileSync('cp', [base, duckdbFile('daily')]);
        }, ['--warehouse', duckdbFile('daily'), '--songs', songs, '--logs', logs], {}, Math.max(RUNS, 3));
        dailies.push({ warehouse: 'duckdb', data: describe, daily: d, full: summaries.at(-1).ours });
        for (const f of ['daily', 'daily-base']) for (const x of ['', '.wal']) rmSync(`${duckdbFile(f)}${x}`, { force: true });
      }
    } else if (w === 'postgres') {
      const schema = `sparkify_bench_${process.pid}`;
      const r = await alternate(
        'postgres',
        // The schema stays between runs: each must rebuild everything, not find nothing new.
        () => measure([cli, 'run', '--warehouse', args.postgres, '--songs', songs, '--logs', logs, '--full-refresh', '--json'], { SPARKIFY_SCHEMA: schema }),
        () => measure([path.join(root, 'bench', 'baseline-postgres.mjs'), args.postgres, `${schema}_script`, songs, logs]),
      );
      summaries.push({ ...summarise('postgres', describe, r), manifest });
      if (args.daily) {
        const { before } = lastDays(logs);
        const env = { SPARKIFY_SCHEMA: schema };
        const d = await daily('postgres', () => measure([cli, 'run', '--warehouse', args.postgres, '--songs', songs, '--logs', logs, '--until', before, '--full-refresh', '--json'], env), ['--warehouse', args.postgres, '--songs', songs, '--logs', logs], env);
        dailies.push({ warehouse: 'postgres', data: describe, daily: d, full: summaries.at(-1).ours });
      }
      execFileSync('psql', [args.postgres, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'ignore' });
    } else throw new Error(`unknown warehouse ${w}`);
  }
}
rmSync(work, { recursive: true, force: true });

// ---------------------------------------------------------------- report
const fmt = (n, d = 2) => n.toFixed(d);
const lines = [];
for (const s of summaries) {
  lines.push(`### ${s.warehouse}: ${s.data}`, '');
  lines.push('| | sparkify | script | ratio |', '|---|---:|---:|---:|');
  lines.push(`| wall time, whole process | ${fmt(s.ours.wall)} s | ${fmt(s.theirs.wall)} s | **${fmt(s.wallRatio)}** |`);
  lines.push(`| peak memory | ${fmt(s.ours.peakMB, 0)} MB | ${fmt(s.theirs.peakMB, 0)} MB | **${fmt(s.peakRatio)}** |`);
  for (const st of s.ours.stages) {
    const t = s.theirs.stages.find((x) => x.stage === st.stage);
    const rate = st.rows > 0 && st.seconds > 0 ? `, ${Math.round(st.rows / st.seconds).toLocaleString('en-US')} rows/s` : '';
    lines.push(`| ${st.stage} (${st.rows.toLocaleString('en-US')} rows${rate}) | ${fmt(st.seconds)} s | ${t ? `${fmt(t.seconds)} s` : '—'} | ${t && t.seconds > 0 ? fmt(st.seconds / t.seconds) : ''} |`);
  }
  lines.push('');
}
for (const d of dailies) {
  const events = d.daily.report.stages.find((s) => s.stage === 'load staging_events');
  lines.push(`### ${d.warehouse}, daily run: ${d.data}`, '');
  lines.push(`The warehouse holds every day but the last; \`sparkify etl\` loads the last day (${events.rows.toLocaleString('en-US')} events from ${events.files} file).`, '');
  lines.push('| | daily run | full run | ratio |', '|---|---:|---:|---:|');
  lines.push(`| wall time, whole process | ${fmt(d.daily.wall)} s | ${fmt(d.full.wall)} s | **${fmt(d.daily.wall / d.full.wall, 3)}** |`);
  lines.push(`| peak memory | ${fmt(d.daily.peakMB, 0)} MB | ${fmt(d.full.peakMB, 0)} MB | ${fmt(d.daily.peakMB / d.full.peakMB)} |`);
  for (const st of d.daily.stages) lines.push(`| ${st.stage} (${st.rows.toLocaleString('en-US')} rows) | ${fmt(st.seconds)} s | | |`);
  lines.push('');
}
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const header = `## ${new Date().toISOString().slice(0, 10)}, commit ${commit}\n\n${machine}; medians of alternating runs (${scales.map((x) => `${x.events.toLocaleString('en-US')} events: ${x.runs}`).join(', ')}).\n`;
process.stdout.write(`\n${header}\n${lines.join('\n')}\n`);
process.stdout.write(`${JSON.stringify({ scales, summaries, dailies })}\n`);
if (args.record) appendFileSync(path.join(root, 'bench', 'RESULTS.md'), `\n${header}\n${lines.join('\n')}\n`);
