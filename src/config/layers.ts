import path from 'node:path';
import type { ConfigIssue } from '../errors.js';
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
  /** Its name, for messages (`dwh.cfg` when there is none). */
  fileName: string;
  sections: DwhCfgSections;
  cwd: string;
  /** Problems reading dwh.cfg itself. */
  issues: ConfigIssue[];
  /** Things worth saying that do not stop a run (a dwh.cfg with a password others may read). */
  warnings: string[];
  fromFile(section: string, key: string): Sourced | undefined;
  fromEnv(name: string): Sourced | undefined;
  fromFlag(name: string, value: string | number | undefined): Sourced | undefined;
  /** The first defined candidate: pass them in order of precedence. */
  pick(...candidates: (Sourced | undefined)[]): Sourced | undefined;
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
  let sections: DwhCfgSections = {};
  let file: string | undefined;
  const warnings: string[] = [];
  if (location.exists) {
    try {
      sections = readDwhCfg(location.path);
      file = location.path;
      const exposed = dwhCfgExposure(location.path, sections);
      if (exposed) warnings.push(exposed);
    } catch (err) {
      issues.push({ where: location.path, message: `cannot be read as an INI file: ${(err as Error).message}` });
    }
  } else if (location.namedBy) {
    issues.push({ where: location.namedBy, message: `file ${location.path} does not exist` });
  }
  const fileName = path.basename(location.path);
  return {
    file,
    fileName,
    sections,
    cwd,
    issues,
    warnings,
    fromFile(section, key) {
      const v = sections[section]?.[key];
      return v !== undefined && v !== '' ? { value: v, where: `${fileName} [${section}] ${key}` } : undefined;
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
  };
}

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
