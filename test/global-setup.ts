/**
 * Runs once before every test file: builds dist/ (the binary and the library
 * that some tests spawn) when src/ is newer, and decides which warehouses can
 * run here. A warehouse that is not reachable is skipped, with the reason
 * printed once; in CI (`CI=true`) an unreachable PostgreSQL fails the run
 * instead, since `.ci/run` starts it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT, TEST_PG_HOST, TEST_PG_PORT } from './helpers/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why each warehouse cannot run here; absent when it can. */
    unavailable: Partial<Record<'duckdb' | 'postgres', string>>;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  build();
  const unavailable: Partial<Record<'duckdb' | 'postgres', string>> = {};
  const pg = await reachable(TEST_PG_HOST, TEST_PG_PORT);
  if (pg !== true) {
    const reason = `PostgreSQL at ${TEST_PG_HOST}:${TEST_PG_PORT} is not reachable (${pg})`;
    if (process.env.CI) throw new Error(`${reason}; CI requires it (.ci/run starts it).`);
    unavailable.postgres = reason;
    process.stderr.write(`\n⚠ ${reason}: its tests are skipped. Start it, or point SPARKIFY_TEST_PG=host:port at one.\n\n`);
  }
  project.provide('unavailable', unavailable);
}

/** One build for every test: `tsc -p tsconfig.build.json` into dist/, when a source file is newer than the binary. */
function build(): void {
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource(path.join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

function newestSource(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) max = Math.max(max, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return max;
}

/** true, or why a TCP connection to host:port failed. */
function reachable(host: string, port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timed out');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
