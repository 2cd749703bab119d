import type { DwhCfgSections } from './dwh-cfg.js';

/**
 * What sparkify reads of dwh.cfg, as data: every section and key, and the
 * course's own spellings of them. The course's infrastructure-as-code notebook
 * keeps the cluster's settings in `[DWH]` (`DWH_CLUSTER_IDENTIFIER`,
 * `DWH_DB_PASSWORD`, …), in dwh.cfg or a separate dwh-cluster.cfg; they stand
 * for our `[CLUSTER]` and `[IAM_ROLE]` keys, which win where both are set.
 * Anything else in the file is most likely a typo, and is said with the
 * closest known name.
 */

/** Every key sparkify reads, by section. */
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  CLUSTER: [
    'HOST', 'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_PORT', 'SSLMODE', 'REGION', 'IDENTIFIER', 'WORKGROUP', 'NAMESPACE',
    'SECRET_ARN', 'CLUSTER_TYPE', 'NODE_TYPE', 'NUM_NODES', 'BASE_CAPACITY',
  ],
  IAM_ROLE: ['ARN', 'NAME'],
  S3: ['LOG_DATA', 'LOG_JSONPATH', 'SONG_DATA', 'ENDPOINT'],
  AWS: ['KEY', 'SECRET', 'REGION'],
  DWH: [
    'DWH_CLUSTER_TYPE', 'DWH_NUM_NODES', 'DWH_NODE_TYPE', 'DWH_CLUSTER_IDENTIFIER', 'DWH_DB', 'DWH_DB_USER', 'DWH_DB_PASSWORD',
    'DWH_PORT', 'DWH_IAM_ROLE_NAME', 'DWH_REGION',
  ],
  WAREHOUSE: ['TARGET', 'SCHEMA', 'MAX_REJECTS', 'RETRIES', 'MATCHED_ONLY'],
  DUCKDB: ['MEMORY_LIMIT', 'TEMP_DIRECTORY'],
};

/** The course's `[DWH]` keys and the keys they stand for. */
export const COURSE_ALIASES: Record<string, readonly [section: string, key: string]> = {
  DWH_CLUSTER_TYPE: ['CLUSTER', 'CLUSTER_TYPE'],
  DWH_NUM_NODES: ['CLUSTER', 'NUM_NODES'],
  DWH_NODE_TYPE: ['CLUSTER', 'NODE_TYPE'],
  DWH_CLUSTER_IDENTIFIER: ['CLUSTER', 'IDENTIFIER'],
  DWH_DB: ['CLUSTER', 'DB_NAME'],
  DWH_DB_USER: ['CLUSTER', 'DB_USER'],
  DWH_DB_PASSWORD: ['CLUSTER', 'DB_PASSWORD'],
  DWH_PORT: ['CLUSTER', 'DB_PORT'],
  DWH_IAM_ROLE_NAME: ['IAM_ROLE', 'NAME'],
  DWH_REGION: ['AWS', 'REGION'],
};

/** Sections with, for each value, the file, section and key it was read from (`dwh.cfg [DWH] DWH_PORT`). */
export interface MergedSections {
  sections: DwhCfgSections;
  origins: Record<string, Record<string, string>>;
}

/**
 * dwh.cfg, then a separate cluster file (filling what dwh.cfg leaves out), then
 * the course's `[DWH]` keys (filling what `[CLUSTER]`/`[IAM_ROLE]` leave out).
 * AWS keeps cluster identifiers in lower case (the course's `dwhCluster` is
 * `dwhcluster`), so a `DWH_CLUSTER_IDENTIFIER` is lowered.
 */
export function mergeCourseFiles(files: readonly { name: string; sections: DwhCfgSections }[]): MergedSections {
  const sections: DwhCfgSections = {};
  const origins: Record<string, Record<string, string>> = {};
  const set = (section: string, key: string, value: string, origin: string) => {
    const s = (sections[section] ??= {});
    if (s[key] !== undefined && s[key] !== '') return;
    s[key] = value;
    (origins[section] ??= {})[key] = origin;
  };
  for (const file of files) {
    for (const [section, keys] of Object.entries(file.sections)) {
      sections[section] ??= {};
      for (const [key, value] of Object.entries(keys)) set(section, key, value, `${file.name} [${section}] ${key}`);
    }
  }
  for (const [alias, [section, key]] of Object.entries(COURSE_ALIASES)) {
    const value = sections.DWH?.[alias];
    if (value === undefined || value === '') continue;
    set(section, key, key === 'IDENTIFIER' ? value.toLowerCase() : value, origins.DWH![alias]!);
  }
  return { sections, origins };
}

/**
 * A warning for each section or key sparkify does not read, with the closest
 * name it does read when there is one (`TARGTE` → `TARGET`).
 *
 * @example
 *   unknownKeys([{ name: 'dwh.cfg', sections: { WAREHOUSE: { TARGTE: 'x' } } }]);
 *   // ['dwh.cfg [WAREHOUSE] TARGTE is not a setting sparkify reads; did you mean TARGET?']
 */
export function unknownKeys(files: readonly { name: string; sections: DwhCfgSections }[]): string[] {
  const warnings: string[] = [];
  for (const file of files) {
    for (const [section, keys] of Object.entries(file.sections)) {
      const known = KNOWN_KEYS[section];
      if (!known) {
        const near = closest(section, Object.keys(KNOWN_KEYS));
        warnings.push(`${file.name} [${section}] is not a section sparkify reads${near ? `; did you mean [${near}]?` : ` (it reads ${Object.keys(KNOWN_KEYS).map((s) => `[${s}]`).join(', ')})`}`);
        continue;
      }
      for (const key of Object.keys(keys)) {
        if (known.includes(key)) continue;
        const near = closest(key, known) ?? elsewhere(key, section);
        warnings.push(`${file.name} [${section}] ${key} is not a setting sparkify reads${near ? `; did you mean ${near}?` : ''}`);
      }
    }
  }
  return warnings;
}

/** The same key in another section (`[S3] REGION` → `[AWS] REGION`). */
function elsewhere(key: string, section: string): string | undefined {
  // [AWS] first: REGION belongs there, though [CLUSTER] takes one too.
  const sections = Object.entries(KNOWN_KEYS).sort(([a], [b]) => Number(b === 'AWS') - Number(a === 'AWS'));
  const other = sections.find(([s, keys]) => s !== section && keys.includes(key));
  return other ? `[${other[0]}] ${key}` : undefined;
}

/** The candidate nearest to `word` by edit distance, when near enough to be a typo of it. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(word, c);
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(1, Math.floor(best.c.length / 3)) ? best.c : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
