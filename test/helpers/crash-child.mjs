/**
 * Runs one etl in a process of its own, so that a test can SIGKILL it midway.
 * Usage: node crash-child.mjs <dist dir> <warehouse target as JSON> <songs> <logs> [etl options as JSON]
 * Prints one JSON line per pipeline event (and `{"type":"done"}` at the end).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, target, songs, logs, options = '{}'] = process.argv.slice(2);
const { openWarehouse, etl } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const wh = await openWarehouse(JSON.parse(target));
try {
  await etl(wh, {
    ...JSON.parse(options),
    songs,
    logs,
    onEvent(e) {
      if (e.type === 'stage-start') say({ type: e.type, stage: e.stage });
      else if (e.type === 'progress') say({ type: e.type, stage: e.stage, records: e.records, rss: process.memoryUsage().rss });
    },
  });
  say({ type: 'done' });
} finally {
  await wh.close();
}
