import { REJECT_RAW_LIMIT, type Column, type ColumnType, type Table } from './tables.js';

/**
 * The rules that turn a JSON value into a staging column's type. They are the
 * same in every warehouse: DuckDB applies them in SQL (`duckdb-staging.ts`),
 * the PostgreSQL loader applies this code, and the behaviour suite checks that
 * both give the same rows and the same rejects.
 *
 * - missing or `null` → NULL (a rejection if the column is required);
 * - text: strings as they are; booleans as `true`/`false`; numbers as in `numberText`;
 *   objects and arrays are rejected, and so are strings holding NUL (U+0000),
 *   which PostgreSQL and Redshift cannot store;
 * - integer/bigint: integral numbers in range (bigint: within ±(2^53 − 1), what
 *   a JSON parser keeps exactly), or strings holding only an optional `-` and digits;
 * - double: numbers, or strings holding a JSON number; -0 is stored as 0;
 * - a number beyond a double's range (`1e400`) is rejected in any column, never stored as infinity;
 * - an empty string in a number column → NULL (Sparkify writes `""` for a logged-out user's id);
 * - a record with a lone UTF-16 surrogate escape (`"\ud800"`) is invalid JSON;
 * - a record with a key twice at its top level is rejected (JSON.parse keeps the last value,
 *   DuckDB the first: neither can be trusted to be what the source meant);
 * - anything else is rejected, naming the field and the value: nothing is rounded or guessed.
 *
 * Known differences left alone: DuckDB's parser also accepts trailing commas
 * and NaN/Infinity, which JSON.parse rejects.
 */

export const INTEGER_TEXT = /^-?[0-9]+$/;
export const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
/** The same patterns as regexp_full_match arguments (DuckDB). */
export const INTEGER_TEXT_SQL = '-?[0-9]+';
export const NUMBER_TEXT_SQL = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

export type Coerced = { ok: true; value: string | number | null } | { ok: false; reason: string };

/** Longest excerpt of an offending value quoted in a reason. */
export const REASON_VALUE_LIMIT = 60;

export function typeLabel(type: ColumnType): string {
  return type === 'double' ? 'number' : type === 'bigint' ? 'integer' : type;
}

export function badValueReason(column: Column, json: string): string {
  return `${column.name}: expected ${typeLabel(column.type)}, got ${cutCodePoints(json, REASON_VALUE_LIMIT)}`;
}

export function nulReason(column: Column): string {
  return `${column.name}: text contains a NUL character (U+0000), which PostgreSQL cannot store`;
}

export function duplicateKeyReason(key: string): string {
  return `duplicate key "${cutCodePoints(key, REASON_VALUE_LIMIT)}"`;
}

/**
 * The first key that occurs twice at the top level of a valid JSON object's
 * text, decoded; undefined when every key is unique. Skips nested values
 * without recursion.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 44 /* , */ && depth === 1) expectKey = true;
  }
  return undefined;
}

/** A JSON number beyond ±1.8e308: JavaScript and DuckDB would both make it infinite, a value nobody wrote. */
export function outOfRangeReason(column: Column): string {
  return `${column.name}: number beyond the range of a double`;
}

export function missingReason(column: Column): string {
  return `${column.name}: required field is missing`;
}

/** Coerces one parsed JSON value to a column's type. */
export function coerceValue(column: Column, value: unknown): Coerced {
  const v = coerceField(column, value);
  return v instanceof Rejected ? { ok: false, reason: v.reason } : { ok: true, value: v };
}

/** A field that cannot be coerced; a class, so the common path allocates nothing per field. */
class Rejected {
  constructor(readonly reason: string) {}
}

function coerceField(column: Column, value: unknown): string | number | null | Rejected {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return new Rejected(outOfRangeReason(column));
  switch (column.type) {
    case 'text':
      if (typeof value === 'string') return value.includes('\0') ? new Rejected(nulReason(column)) : value;
      if (typeof value === 'number') return numberText(value);
      if (typeof value === 'boolean') return String(value);
      break;
    case 'integer':
    case 'bigint': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string') {
        if (value === '') return null;
        if (!INTEGER_TEXT.test(value)) break;
        n = Number(value);
      } else break;
      if (!Number.isInteger(n)) break;
      if (column.type === 'integer' ? n < INT32_MIN || n > INT32_MAX : !Number.isSafeInteger(n)) break;
      return n + 0; // -0 → 0
    }
    case 'double':
      if (typeof value === 'number') return value + 0;
      if (typeof value === 'string') {
        if (value === '') return null;
        if (NUMBER_TEXT.test(value)) {
          const n = Number(value);
          return Number.isFinite(n) ? n + 0 : new Rejected(outOfRangeReason(column));
        }
      }
      break;
    case 'timestamp':
      break;
  }
  return new Rejected(badValueReason(column, shownValue(value)));
}

/**
 * How a rejected value is shown in its reason, the same in every warehouse
 * (DuckDB's SQL builds the same text, duckdb-staging-sql.ts): a string as
 * JSON (control characters as `\u00XX`, upper-case hex, as DuckDB writes
 * them), a number as `reasonNumber` writes it, `true`/`false`, and an array
 * or object by its kind only (its text is in the reject's raw column).
 */
export function shownValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'number') return reasonNumber(value);
  if (typeof value === 'string') return jsonString(value);
  return String(value);
}

/** A number in a reason: integral values below 1e21 as all their digits, others as `doubleText`. */
export function reasonNumber(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? BigInt(n).toString() : doubleText(n);
}

/** A string as JSON, with `\u00XX` escapes in upper-case hex. */
function jsonString(s: string): string {
  return JSON.stringify(s).replace(/\\\\|\\u00([0-9a-f]{2})/g, (m: string, hex: string | undefined) => (hex ? `\\u00${hex.toUpperCase()}` : m));
}

/**
 * How a number is written into a text column: integers (up to 2^53) as plain
 * digits, anything else as the shortest text that reads back as the same
 * double, in the layout of DuckDB's (and Python's) `repr`: `1.5`, `1e-05`, `1e+16`, `inf`.
 */
export function numberText(n: number): string {
  return Number.isSafeInteger(n) ? String(n + 0) : doubleText(n);
}

/** DuckDB's CAST(DOUBLE AS VARCHAR): shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function doubleText(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  const [mantissa, e] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(e);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}.${digits.slice(exp + 1) || '0'}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0]}${fraction}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

export type CoercedRecord = { ok: true; values: (string | number | null)[] } | { ok: false; reason: string };

/**
 * Parses one raw record and coerces every field of `table`; all problems are
 * reported together.
 */
export function coerceRecord(table: Table, text: string): CoercedRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'invalid JSON' };
  }
  // JSON.parse lets `"\ud800"` through as a broken string; DuckDB, PostgreSQL and UTF-8 do not.
  if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(parsed)) return { ok: false, reason: 'invalid JSON' };
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'not a JSON object' };
  // JSON.parse keeps the last of duplicate keys, DuckDB the first: neither is what the source meant.
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) return { ok: false, reason: duplicateKeyReason(duplicate) };
  const record = parsed as Record<string, unknown>;
  const values: (string | number | null)[] = [];
  let reasons: string[] | undefined;
  for (const column of table.columns) {
    const v = coerceField(column, record[column.name]);
    if (v instanceof Rejected) (reasons ??= []).push(v.reason);
    else if (v === null && column.required) (reasons ??= []).push(missingReason(column));
    else values.push(v);
  }
  return reasons ? { ok: false, reason: reasons.join('; ') } : { ok: true, values };
}

/**
 * A rejected record's text as kept in etl_rejects: its first REJECT_RAW_LIMIT
 * characters (code points), with NUL, which PostgreSQL text cannot hold, as U+FFFD.
 */
export function rejectRawText(text: string): string {
  const cut = cutCodePoints(text, REJECT_RAW_LIMIT);
  return cut.includes('\0') ? cut.replaceAll('\0', '\uFFFD') : cut;
}

/** The first `n` code points of `s` (SQL's `left`, which counts characters, not UTF-16 units). */
export function cutCodePoints(s: string, n: number): string {
  if (s.length <= n) return s;
  let units = 0;
  for (let count = 0; count < n && units < s.length; count++) {
    const c = s.charCodeAt(units);
    units += c >= 0xd800 && c <= 0xdbff && units + 1 < s.length && (s.charCodeAt(units + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return s.slice(0, units);
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether any string or key inside `v` holds a lone surrogate; without recursion, however deep `v` nests. */
function hasLoneSurrogate(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (LONE_SURROGATE.test(x)) return true;
    } else if (x !== null && typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push(y);
      }
    }
  }
  return false;
}
