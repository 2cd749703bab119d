import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../errors.js';
import { mergeCourseFiles, unknownKeys } from './course-keys.js';
import { dwhCfgExposure, findDwhCfg, readDwhCfg, type DwhCfgSections } from './dwh-cfg.js';

/**
 * The three layers of configuration, later ones winning: `dwh.cfg`, the
 * environment, the command-line flags. Every value is looked up with where it
 * came from, so a problem names its origin (`dwh.cfg [CLUSTER] DB_PORT`,
 * `PGPORT`, `--warehouse`). `loadConfig` and the cluster commands both read
 * their settings through this.
 */

/** A value with where it came from, for error messages. */
export interface Sourced {
  value: string;
  where: string;
}

export interface ConfigLayers {
  /** The dwh.cfg read; undefined when there is none. */
  file?: string;
  /** Every file read: dwh.cfg, and dwh-cluster.cfg beside it when present. */
  files: string[];
  /** Its name, for messages (`dwh.cfg` when there is none). */
  fileName: string;
  sections: DwhCfgSections;
  cwd: string;
  /** Problems reading dwh.cfg itself. */
  issues: ConfigIssue[];
  /** Things worth saying that do not stop a run (a dwh.cfg with a password others may read). */
  warnings: string[];
  /** Where a value of the files came from (`dwh.cfg [DWH] DWH_PORT` for `[CLUSTER] DB_PORT`); undefined when unset. */
  origin(section: string, key: string): string | undefined;
  fromFile(section: string, key: string): Sourced | undefined;
  fromEnv(name: string): Sourced | undefined;
  fromFlag(name: string, value: string | number | undefined): Sourced | undefined;
  /** The first defined candidate: pass them in order of precedence. */
  pick(...candidates: (Sourced | undefined)[]): Sourced | undefined;
  /** Records a setting's effective value and where it came from (`default` when `from` is undefined), for `sparkify config`. */
  note(name: string, value: string | number | boolean | undefined, from: Sourced | undefined, options?: { secret?: boolean }): void;
  /** Every setting noted, in the order it was resolved. */
  readonly trace: SettingTrace[];
}

/** One effective setting: its value (secrets only as `set`/`unset`) and where it came from. */
export interface SettingTrace {
  name: string;
  value: string | number | boolean | null;
  from: string;
}

/**
 * Finds and reads dwh.cfg, and sets up lookups in every layer.
 *
 * @example
 *   const layers = readConfigLayers({ config: flags.config, env: process.env, cwd: process.cwd() });
 *   const region = resolveRegion(layers, flags.region)?.value;
 */
export function readConfigLayers(options: { config?: string; env: NodeJS.ProcessEnv; cwd: string }): ConfigLayers {
  const { env, cwd } = options;
  const issues: ConfigIssue[] = [];
  const location = findDwhCfg(options.config, env, cwd);
  const files: { name: string; path: string; sections: DwhCfgSections }[] = [];
  const warnings: string[] = [];
  let file: string | undefined;
  const read = (p: string) => {
    try {
      const sections = readDwhCfg(p);
      files.push({ name: path.basename(p), path: p, sections });
      const exposed = dwhCfgExposure(p, sections);
      if (exposed) warnings.push(exposed);
      return true;
    } catch (err) {
      issues.push({ where: p, message: `cannot be read as an INI file: ${(err as Error).message}` });
      return false;
    }
  };
  if (location.exists) {
    if (read(location.path)) file = location.path;
  } else if (location.namedBy) {
    issues.push({ where: location.namedBy, message: `file ${location.path} does not exist` });
  }
  // The course's notebook may keep the cluster's settings in a file of their own, beside dwh.cfg.
  const clusterFile = path.join(path.dirname(location.path), CLUSTER_CFG);
  if (existsSync(clusterFile)) read(clusterFile);
  const { sections, origins } = mergeCourseFiles(files);
  const trace: SettingTrace[] = [];
  warnings.push(...unknownKeys(files));
  const fileName = path.basename(location.path);
  return {
    file,
    files: files.map((f) => f.path),
    fileName,
    sections,
    cwd,
    issues,
    warnings,
    origin(section, key) {
      return origins[section]?.[key];
    },
    fromFile(section, key) {
      const v = sections[section]?.[key];
      return v !== undefined && v !== '' ? { value: v, where: origins[section]?.[key] ?? `${fileName} [${section}] ${key}` } : undefined;
    },
    fromEnv(name) {
      const v = env[name];
      return v !== undefined && v !== '' ? { value: v, where: `environment variable ${name}` } : undefined;
    },
    fromFlag(name, v) {
      return v !== undefined && v !== '' ? { value: String(v), where: `--${name}` } : undefined;
    },
    pick(...candidates) {
      return candidates.find((c) => c !== undefined);
    },
    trace,
    note(name, value, from, opts = {}) {
      const shown = opts.secret ? (value === undefined || value === '' ? 'unset' : 'set') : (value ?? null);
      trace.push({ name, value: shown, from: from?.where ?? 'default' });
    },
  };
}

/** The course notebook's separate file of cluster settings (`[DWH]`), read from beside dwh.cfg when present. */
export const CLUSTER_CFG = 'dwh-cluster.cfg';

/** The AWS region, in the one order every command uses: --region, AWS_REGION, AWS_DEFAULT_REGION, [AWS] REGION, [CLUSTER] REGION. */
export function resolveRegion(layers: ConfigLayers, flag: string | undefined): Sourced | undefined {
  const { pick, fromFlag, fromEnv, fromFile } = layers;
  return pick(fromFlag('region', flag), fromEnv('AWS_REGION'), fromEnv('AWS_DEFAULT_REGION'), fromFile('AWS', 'REGION'), fromFile('CLUSTER', 'REGION'));
}

/** An object without its undefined keys, so configs compare (and print as JSON) without keys that say nothing. */
export function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * A whole number written in plain digits (spaces around allowed) within `min`..`max`; undefined otherwise.
 *
 * @example
 *   wholeNumber('5439', 1, 65535); // 5439
 */
export function wholeNumber(text: string, min: number, max: number): number | undefined {
  const t = text.trim();
  if (!/^[0-9]+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= min && n <= max ? n : undefined;
}
