import type { SqlDialect } from './dialect.js';

/**
 * Repairing text that was mis-encoded before it reached the logs, where the
 * repair is certain: UTF-8 read as Latin-1 and encoded again (once or more:
 * the sample's `BjÃ\u0083Â¶rk` is Björk encoded three times), and U+0019 where
 * a right single quote (U+2019) lost its high byte. Staging keeps the raw text;
 * only the star schema's titles and artist names are repaired, through a small
 * table of the distinct values that need it, so the same SQL runs everywhere.
 */

/** Text that may need repair: what a warehouse is asked for, as a SQL condition on `col`. */
export function repairCandidateSql(col: string): string {
  return `(${col} LIKE '%Ã%' OR ${col} LIKE '%Â%' OR ${col} LIKE '%' || CHR(25) || '%')`;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The repaired text, or undefined when nothing is certain: a layer of UTF-8
 * read as Latin-1 is undone only when every character fits in one byte and
 * the bytes are valid UTF-8 that says something else; repeated while it holds.
 *
 * @example
 *   repairText('BjÃ\u0083Â¶rk'); // 'Björk'
 *   repairText('Don\u0019t Stop'); // 'Don’t Stop'
 *   repairText('Café'); // undefined (valid as it is)
 */
export function repairText(text: string): string | undefined {
  let s = text;
  for (let layers = 0; layers < 4; layers++) {
    if (!/[\u0080-\u00ff]/.test(s) || /[^\u0000-\u00ff]/.test(s)) break;
    let decoded: string;
    try {
      decoded = decoder.decode(Buffer.from(s, 'latin1'));
    } catch {
      break;
    }
    if (decoded === s) break;
    s = decoded;
  }
  s = s.replace(/\u0019/g, '\u2019');
  return s === text ? undefined : s;
}

/** The run's table of repairs: each distinct mis-encoded title or artist, and its repair. */
export const REPAIRS_TABLE = '_sparkify_text_repairs';

/** The distinct titles and artists of plays that may need repair, from the run's staging events. */
export function repairCandidatesSql(stagingEvents: string): string {
  return `SELECT DISTINCT v FROM (
  SELECT song AS v FROM ${stagingEvents} WHERE page = 'NextSong' AND ${repairCandidateSql('song')}
  UNION ALL
  SELECT artist AS v FROM ${stagingEvents} WHERE page = 'NextSong' AND ${repairCandidateSql('artist')}
) c`;
}

/** `CREATE TEMP TABLE` for the repairs, its text as wide as staging's titles (1,024 bytes). */
export function createRepairsSql(d: SqlDialect): string {
  const text = d.typeName('text', { name: 'original', type: 'text', maxBytes: 1024 });
  return `CREATE TEMP TABLE ${REPAIRS_TABLE} (original ${text}, repaired ${text})`;
}

/** INSERTs of the repairs, each at most about `maxBytes` of SQL (the Data API takes 100 KB a statement). */
export function insertRepairsSql(repairs: readonly [original: string, repaired: string][], d: SqlDialect, maxBytes = 50_000): string[] {
  const out: string[] = [];
  let values: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (values.length > 0) out.push(`INSERT INTO ${REPAIRS_TABLE} (original, repaired) VALUES ${values.join(', ')}`);
    values = [];
    bytes = 0;
  };
  for (const [from, to] of repairs) {
    const v = `(${d.quoteString(from)}, ${d.quoteString(to)})`;
    const size = Buffer.byteLength(v, 'utf8') + 2;
    if (bytes + size > maxBytes) flush();
    values.push(v);
    bytes += size;
  }
  flush();
  return out;
}
