import type { Warehouse } from '../warehouses/warehouse.js';

/**
 * Why plays do not match a song. A play is matched when the catalogue has its
 * title, artist and duration (byte for byte, as the transform matches). The
 * others, each in the first reason that fits: the catalogue has the title and
 * artist with another duration; it has the artist, not the title; the event's
 * text is mis-encoded (double-encoded UTF-8 such as `BjÃ¶rk`, or U+0019 where
 * an apostrophe belongs), which no catalogue entry can match; or the catalogue
 * has neither. Plain SQL on every warehouse (no correlated subquery, which
 * Redshift refuses in a select list).
 */

export type MatchReason = 'matched' | 'other duration' | 'artist only' | 'mis-encoded' | 'not in catalogue';

export const MATCH_REASONS: readonly MatchReason[] = ['matched', 'other duration', 'artist only', 'mis-encoded', 'not in catalogue'];

/** One row per NextSong event: `why` it is, or is not, matched. */
export const PLAY_MATCH_SQL = `
SELECT CASE WHEN x.title IS NOT NULL THEN 'matched'
            WHEN t.title IS NOT NULL THEN 'other duration'
            WHEN a.artist_name IS NOT NULL THEN 'artist only'
            WHEN p.song LIKE '%Ã%' OR p.song LIKE '%Â%' OR p.artist LIKE '%Ã%' OR p.artist LIKE '%Â%'
              OR p.song LIKE '%' || CHR(25) || '%' OR p.artist LIKE '%' || CHR(25) || '%' THEN 'mis-encoded'
            ELSE 'not in catalogue' END AS why
FROM (SELECT song, artist, length FROM staging_events WHERE page = 'NextSong') p
LEFT JOIN (SELECT DISTINCT title, LENGTH(title) AS lt, artist_name, LENGTH(artist_name) AS la, duration FROM staging_songs) x
  ON x.title = p.song AND x.lt = LENGTH(p.song) AND x.artist_name = p.artist AND x.la = LENGTH(p.artist) AND x.duration = p.length
LEFT JOIN (SELECT DISTINCT title, LENGTH(title) AS lt, artist_name, LENGTH(artist_name) AS la FROM staging_songs) t
  ON x.title IS NULL AND t.title = p.song AND t.lt = LENGTH(p.song) AND t.artist_name = p.artist AND t.la = LENGTH(p.artist)
LEFT JOIN (SELECT DISTINCT artist_name, LENGTH(artist_name) AS la FROM staging_songs) a
  ON x.title IS NULL AND t.title IS NULL AND a.artist_name = p.artist AND a.la = LENGTH(p.artist)`;

/** Plays per reason, every reason present (0 when none). */
export const MATCH_BREAKDOWN_SQL = `SELECT ${MATCH_REASONS.map((r) => `SUM(CASE WHEN why = '${r}' THEN 1 ELSE 0 END) AS "${r}"`).join(', ')}
FROM (${PLAY_MATCH_SQL}) m`;

/**
 * @example
 *   await matchBreakdown(wh); // { matched: 1, 'other duration': 0, 'artist only': 12, 'mis-encoded': 40, 'not in catalogue': 6767 }
 */
export async function matchBreakdown(wh: Warehouse): Promise<Record<MatchReason, number>> {
  const [row] = await wh.query(MATCH_BREAKDOWN_SQL);
  return Object.fromEntries(MATCH_REASONS.map((r) => [r, Number(row?.[r] ?? 0)])) as Record<MatchReason, number>;
}
