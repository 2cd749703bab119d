import { normaliseBigint } from '../values.js';
import type { SqlValue } from '../warehouse.js';

/**
 * How result values are parsed, so that PostgreSQL returns what DuckDB returns
 * (see `SqlValue`): integers as numbers (bigint beyond 2^53), floats as
 * numbers, timestamps as `YYYY-MM-DD HH:MM:SS.mmm` in UTC, everything else as
 * its text. Given per client (`types` option), so the global `pg.types` of
 * the host program is never touched.
 */

const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  float4: 700,
  float8: 701,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
} as const;

type Parser = (text: string) => SqlValue;

const asText: Parser = (s) => s;
const asInteger: Parser = (s) => normaliseBigint(BigInt(s));
const asFloat: Parser = (s) => Number.parseFloat(s); // also 'NaN', 'Infinity', '-Infinity'
const asNumeric: Parser = (s) => (/^-?\d+$/.test(s) ? normaliseBigint(BigInt(s)) : s === 'NaN' ? Number.NaN : Number(s));
const asBool: Parser = (s) => s === 't' || s === 'true';

/** `2018-11-01 21:01:46.796123` (timestamp) → `2018-11-01 21:01:46.796`. */
export function parseTimestamp(s: string): string {
  const m = /^(\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(s);
  if (!m) return s; // infinity, BC dates: as the server wrote them
  return `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}`;
}

/**
 * `2018-11-01 21:01:46.796+00` (timestamptz) → `2018-11-01 21:01:46.796`, in
 * UTC. The session time zone is UTC, so the offset is +00; another offset is
 * applied in UTC arithmetic, never through the local time zone.
 */
export function parseTimestamptz(s: string): string {
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(s);
  if (!m) return s;
  const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * (m[8] === '-' ? -1 : 1);
  if (offset === 0) return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}.${frac}`;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(frac)) - offset * 1000;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

const PARSERS: Record<number, Parser> = {
  [OID.bool]: asBool,
  [OID.int2]: asInteger,
  [OID.int4]: asInteger,
  [OID.int8]: asInteger,
  [OID.oid]: asInteger,
  [OID.float4]: asFloat,
  [OID.float8]: asFloat,
  [OID.numeric]: asNumeric,
  [OID.timestamp]: parseTimestamp,
  [OID.timestamptz]: parseTimestamptz,
};

/** The `types` option of a `pg` Client: text results only (no binary format is ever asked for). */
export const pgTypes = {
  getTypeParser(oid: number): Parser {
    return PARSERS[oid] ?? asText;
  },
};
