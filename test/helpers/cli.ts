/** Running the built `sparkify` binary in a process of its own, as a user does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { CLI } from './paths.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `sparkify <args>` without blocking this process (which may be serving
 * s3rver to the child), with a clean environment plus `env`; `watch` gets the
 * child as it starts (to send it a signal, or to act on the server meanwhile).
 */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}, watch?: (child: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    watch?.(child);
  });
}

/**
 * Runs `sparkify <args>` through the CLI's main function, in this process
 * (fast, and with `deps` standing in for AWS), with `env` as its whole environment.
 */
export async function runMain(args: string[], options: { env?: Record<string, string>; cwd: string; deps?: Parameters<typeof main>[2] }): Promise<CliRun & { code: number }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(['node', 'sparkify', ...args], { stdout, stderr, env: options.env ?? {}, cwd: options.cwd }, options.deps);
  return { code, stdout: out, stderr: err };
}
