import { existsSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseIni } from 'ini';
import { SparkifyError } from '../errors.js';
import { setIniValues, type IniUpdates } from './ini-edit.js';

/**
 * The one reader and writer of `dwh.cfg`, the course's INI file: the run and
 * the cluster commands find and read it here, and `cluster create` writes what
 * it learned back through here.
 */

/** section → key → value; names upper-cased, surrounding quotes removed. */
export type DwhCfgSections = Record<string, Record<string, string>>;

/** Where dwh.cfg is: `--config`, else SPARKIFY_CONFIG, else `./dwh.cfg`; and whether it was named explicitly. */
export interface DwhCfgLocation {
  path: string;
  /** `--config` or `SPARKIFY_CONFIG` when named, for messages; undefined for the default. */
  namedBy?: string;
  exists: boolean;
}

/**
 * Finds dwh.cfg the way every command does.
 *
 * @example
 *   findDwhCfg({ config: undefined }, process.env, process.cwd()); // { path: '/here/dwh.cfg', exists: false }
 */
export function findDwhCfg(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): DwhCfgLocation {
  const namedBy = flag ? '--config' : env.SPARKIFY_CONFIG ? 'SPARKIFY_CONFIG' : undefined;
  const file = path.resolve(cwd, flag ?? env.SPARKIFY_CONFIG ?? 'dwh.cfg');
  return { path: file, namedBy, exists: existsSync(file) };
}

/**
 * dwh.cfg's sections. Course files often quote values (`ARN='arn:aws:iam::…'`); the quotes are removed.
 *
 * @example
 *   readDwhCfg('dwh.cfg').CLUSTER?.HOST;
 */
export function readDwhCfg(file: string): DwhCfgSections {
  const sections: DwhCfgSections = {};
  for (const [name, body] of Object.entries(parseIni(readFileSync(file, 'utf8')) as Record<string, unknown>)) {
    if (!body || typeof body !== 'object') continue;
    const section: Record<string, string> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) section[k.toUpperCase()] = unquote(String(v ?? ''));
    sections[name.toUpperCase()] = section;
  }
  return sections;
}

/**
 * A warning when dwh.cfg holds a password (or an AWS secret) and other users of
 * this machine may read it; undefined otherwise (and on systems without modes).
 */
export function dwhCfgExposure(file: string, sections: DwhCfgSections): string | undefined {
  const secrets = Object.entries(sections).flatMap(([name, keys]) =>
    Object.entries(keys).filter(([k, v]) => v !== '' && /PASSWORD|SECRET/.test(k)).map(([k]) => `[${name}] ${k}`),
  );
  if (secrets.length === 0 || process.platform === 'win32') return undefined;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `${file} holds ${secrets.join(', ')} and can be read by ${mode & 0o007 ? 'every user of this machine' : 'its group'} (mode ${mode.toString(8).padStart(3, '0')}): chmod 600 ${file}`;
}

function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) ? t.slice(1, -1) : t;
}

const SECRET_KEY = /PASSWORD|SECRET|TOKEN|CREDENTIAL|(^|_)KEY$/i;

export interface DwhCfgUpdate {
  path: string;
  /** `[CLUSTER] HOST` … for each key written; empty when the file already said all of it. */
  changed: string[];
  /** The file did not exist and was created. */
  created: boolean;
}

/**
 * Sets keys in dwh.cfg (creating the file if needed), keeping every other
 * line byte for byte. Secrets are refused outright: the password stays where
 * the user put it.
 *
 * @example
 *   await updateDwhCfg('dwh.cfg', { CLUSTER: { HOST: 'x.abc.us-west-2.redshift.amazonaws.com' }, IAM_ROLE: { ARN: roleArn } });
 */
export async function updateDwhCfg(file: string, updates: IniUpdates): Promise<DwhCfgUpdate> {
  for (const [section, keys] of Object.entries(updates)) {
    for (const key of Object.keys(keys)) {
      if (SECRET_KEY.test(key)) throw new SparkifyError('INTERNAL', `Refusing to write [${section}] ${key} to ${file}: sparkify never writes secrets.`);
    }
  }
  const target = await realpath(file).catch(() => path.resolve(file));
  let text = '';
  let mode: number | undefined;
  let created = false;
  try {
    text = await readFile(target, 'utf8');
    mode = (await stat(target)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cfgError(target, err);
    created = true;
  }
  const result = setIniValues(text, updates);
  if (result.changed.length === 0) return { path: target, changed: [], created: false };
  // Write next to the file and rename, so a crash never leaves half a dwh.cfg (it holds the password).
  // The temp file is created exclusively ('wx': never an existing file, never through a planted link),
  // readable by its owner only while it holds the password, then given the file's own mode.
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, result.text, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw cfgError(target, err);
  }
  return { path: target, changed: result.changed, created };
}

function cfgError(file: string, err: unknown): SparkifyError {
  return new SparkifyError('CLUSTER_FAILED', `Could not update ${file}: ${(err as Error).message}`, {
    hint: 'Check that the file and its folder are writable; the cluster itself is ready, re-running `sparkify cluster create` only rewrites the file.',
    cause: err,
  });
}
