/**
 * A build of src/ for tests that spawn Node on the library, kept apart from
 * dist/ (which other tests and `npm run build` write) so builds never race.
 * Rebuilt only when a source file is newer than the last build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const TEST_DIST = path.join(ROOT, 'node_modules', '.cache', 'sparkify-test-dist');
const STAMP = path.join(TEST_DIST, '.built');

/** The newest modification time of a .ts file below `dir`. */
export function newestSource(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) max = Math.max(max, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return max;
}

/** Builds when stale; returns the folder holding index.js. */
export function ensureTestDist(required: readonly string[] = ['index.js']): string {
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSource(path.join(ROOT, 'src'))) return TEST_DIST;
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', TEST_DIST, '--declaration', 'false', '--sourceMap', 'false'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  // Type errors elsewhere in src/ (work in progress) still emit JavaScript; what matters is that ours is there and fresh.
  const missing = required.filter((f) => !existsSync(path.join(TEST_DIST, f)) || statSync(path.join(TEST_DIST, f)).mtimeMs < started - 1000);
  if (missing.length > 0) throw new Error(`building ${TEST_DIST} failed (${missing.join(', ')} missing):\n${r.stdout}${r.stderr}`);
  writeFileSync(STAMP, new Date(started).toISOString());
  return TEST_DIST;
}
