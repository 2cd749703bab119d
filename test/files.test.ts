/**
 * Exact file accounting, on every warehouse that runs here: every listed file
 * is read exactly once whatever characters its name holds, the report counts
 * the files and bytes really read, and a file that vanishes or changes during
 * the run fails it, naming the file, with no table changed.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createTables } from '../src/pipeline/create-tables.js';
import { etl } from '../src/pipeline/etl.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';
import { testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sparkify-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const day = (d: string) => readFileSync(path.join(SAMPLE_LOGS, `2018/11/2018-11-${d}-events.json`));
const lines = (b: Buffer) => b.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;

/** Names a glob reader would misread, beside the names they would match. */
const NAMES = ['ab.json', 'a[b].json', 'a*.json', 'a?.json', '{a,b}.json', 'a\\b.json', "it's.json", 'with space.json', 'ünï cödé.json', 'a**.json'];

/** A folder of log files named NAMES, each a different day, sized to be read in place and spooled. */
function globLogs(): { dir: string; events: number; bytes: number } {
  const dir = path.join(tmp, 'logs[1]');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  // A folder whose name the bracket pattern matches, with other data: never to be read.
  mkdirSync(path.join(tmp, 'logs1'), { recursive: true });
  writeFileSync(path.join(tmp, 'logs1', 'ab.json'), day('30'));
  let events = 0;
  let bytes = 0;
  NAMES.forEach((name, i) => {
    const one = day(String(i + 1).padStart(2, '0'));
    // Ten days in one file for every other name, so some files are large enough to be read in place.
    const content = Buffer.concat(Array.from({ length: i % 2 === 0 ? 10 : 1 }, (_, k) => (k === 0 ? one : Buffer.concat([Buffer.from('\n'), one]))));
    writeFileSync(path.join(dir, i % 3 === 0 ? 'sub' : '', name), content);
    events += lines(content);
    bytes += content.length;
  });
  return { dir, events, bytes };
}

for (const kind of testWarehouses()) {
  describe(`${kind.name}: exact file accounting`, () => {
    let ctx: OpenedTestWarehouse;
    let glob: ReturnType<typeof globLogs>;
    beforeAll(async () => {
      ctx = await kind.open();
      glob = globLogs();
    });
    afterAll(() => ctx?.cleanup());

    it('reads every file once, whatever its name holds, and counts what it read', async () => {
      await createTables(ctx.warehouse);
      const report = await etl(ctx.warehouse, { songs: SAMPLE_SONGS, logs: glob.dir });
      expect(report.stages[1]).toMatchObject({ files: NAMES.length, bytes: glob.bytes, rows: glob.events, rejected: 0 });
      expect(report.counts.staging_events).toBe(glob.events);
    });

    it('fails a run whose file vanishes after the listing, naming it, and changes no table', async () => {
      const dir = path.join(tmp, `vanish-${kind.name}`);
      cpSync(SAMPLE_LOGS, dir, { recursive: true });
      const before = await countRows(ctx.warehouse);
      const gone = path.join(dir, '2018/11/2018-11-17-events.json');
      const err = await etl(ctx.warehouse, {
        songs: SAMPLE_SONGS,
        logs: dir,
        onEvent: (e) => e.type === 'stage-start' && e.stage === 'load staging_events' && rmSync(gone),
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SOURCE_READ_FAILED', stage: 'load staging_events' });
      expect((err as Error).message).toContain(gone);
      expect(await countRows(ctx.warehouse)).toEqual(before);
    });

    it('fails a run whose file grows while it is read, naming it, and changes no table', async () => {
      const dir = path.join(tmp, `grow-${kind.name}`);
      cpSync(SAMPLE_LOGS, dir, { recursive: true });
      const before = await countRows(ctx.warehouse);
      const grows = path.join(dir, '2018/11/2018-11-05-events.json');
      const listed = statSync(grows).size;
      const err = await etl(ctx.warehouse, {
        songs: SAMPLE_SONGS,
        logs: dir,
        onEvent: (e) => e.type === 'stage-start' && e.stage === 'load staging_events' && appendFileSync(grows, `\n${day('06').toString().split('\n')[0]}`),
      }).catch((e: unknown) => e);
      expect(statSync(grows).size).toBeGreaterThan(listed);
      expect(err).toMatchObject({ code: 'SOURCE_READ_FAILED', stage: 'load staging_events' });
      expect((err as Error).message).toMatch(new RegExp(`${grows.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed while the run read it`));
      expect(await countRows(ctx.warehouse)).toEqual(before);
    });
  });
}
