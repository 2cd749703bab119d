import { chmod, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseIni } from 'ini';
import { SparkifyError } from '../errors.js';
import { setIniValues, type IniUpdates } from './ini-edit.js';

/**
 * Writing what `cluster create` learned (endpoint, role ARN, names) back into
 * dwh.cfg, so `sparkify run --warehouse redshift` finds the cluster. Only the
 * named keys change; the rest of the file stays byte for byte. Secrets are
 * refused outright: the password stays where the user put it.
 */

const SECRET_KEY = /PASSWORD|SECRET|TOKEN|CREDENTIAL|(^|_)KEY$/i;

export interface DwhCfgUpdate {
  path: string;
  /** `[CLUSTER] HOST` … for each key written; empty when the file already said all of it. */
  changed: string[];
  /** The file did not exist and was created. */
  created: boolean;
}

/**
 * Sets keys in dwh.cfg (creating the file if needed), keeping every other line.
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
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, result.text, { encoding: 'utf8', mode: mode ?? 0o600 });
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (err) {
    throw cfgError(target, err);
  }
  return { path: target, changed: result.changed, created };
}

/**
 * dwh.cfg's sections (names upper-cased, quotes removed), read the way
 * `loadConfig` reads them: for the cluster commands when the rest of the
 * configuration is not valid yet (e.g. [CLUSTER] HOST still empty).
 */
export async function readDwhCfgSections(file: string): Promise<Record<string, Record<string, string>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw cfgError(file, err);
  }
  const sections: Record<string, Record<string, string>> = {};
  for (const [name, body] of Object.entries(parseIni(text) as Record<string, unknown>)) {
    if (!body || typeof body !== 'object') continue;
    const section: Record<string, string> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      const t = String(v ?? '').trim();
      section[k.toUpperCase()] = t.length >= 2 && (t[0] === "'" || t[0] === '"') && t.endsWith(t[0]) ? t.slice(1, -1) : t;
    }
    sections[name.toUpperCase()] = section;
  }
  return sections;
}

function cfgError(file: string, err: unknown): SparkifyError {
  return new SparkifyError('CLUSTER_FAILED', `Could not update ${file}: ${(err as Error).message}`, {
    hint: 'Check that the file and its folder are writable; the cluster itself is ready, re-running `sparkify cluster create` only rewrites the file.',
    cause: err,
  });
}
