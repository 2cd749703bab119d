import { numberText } from '../../schema/coerce.js';
import type { Column, Table } from '../../schema/tables.js';

/**
 * The PostgreSQL load's fast path: one pass over a record's text that writes
 * its COPY line directly, with the shared coercion rules, instead of
 * `JSON.parse` and a walk over the parsed object. It only accepts what it has
 * checked completely (the record is one valid JSON object, every field it
 * keeps follows the rules, nothing needs a reason); anything else, from a
 * duplicate key to a number written as `"1e3"`, returns `undefined`, and the
 * caller applies `coerceRecord`, which decides and explains. So the two paths
 * cannot disagree: the fast one only ever says "same as the full rules".
 */

/** A table prepared for the scanner: its columns by JSON key. */
export interface FastTable {
  columns: readonly Column[];
  index: Map<string, number>;
  required: number[];
}

/** Nesting deeper than this inside an ignored field is left to the full rules. */
const MAX_DEPTH = 64;

export function fastTable(table: Table): FastTable {
  return {
    columns: table.columns,
    index: new Map(table.columns.map((c, i) => [c.name, i])),
    required: table.columns.flatMap((c, i) => (c.required ? [i] : [])),
  };
}

const INT_TOKEN = /^-?(0|[1-9][0-9]{0,8})$/;
const BIGINT_TOKEN = /^-?(0|[1-9][0-9]{0,14})$/;
const NUMBER_TOKEN = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const INTEGER_TEXT = /^-?[0-9]+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * The record as a COPY text line (newline included), or `undefined` when the
 * full rules must decide.
 *
 * @example
 *   fastCopyLine(fastTable(stagingSongs), '{"song_id":"SO1","artist_id":"AR1","year":0}'); // '\\N\tAR1\t…\t0\n'
 */
export function fastCopyLine(t: FastTable, text: string): string | undefined {
  const n = text.length;
  const values: (string | undefined)[] = new Array(t.columns.length);
  let others: string[] | undefined; // keys of fields not kept, to see a duplicate among them too
  let i = skipWs(text, 0, n);
  if (text.charCodeAt(i) !== 123 /* { */) return undefined;
  i = skipWs(text, i + 1, n);
  if (text.charCodeAt(i) === 125 /* } */) {
    i++;
  } else {
    for (;;) {
      if (text.charCodeAt(i) !== 34 /* " */) return undefined;
      const keyEnd = plainStringEnd(text, i + 1, n);
      if (keyEnd < 0) return undefined; // escapes in a key, or no end
      const key = text.slice(i + 1, keyEnd);
      const col = t.index.get(key);
      i = skipWs(text, keyEnd + 1, n);
      if (text.charCodeAt(i) !== 58 /* : */) return undefined;
      i = skipWs(text, i + 1, n);
      if (col === undefined) {
        if (others?.includes(key)) return undefined; // a duplicate key: the full rules reject the record
        (others ??= []).push(key);
        i = skipValue(text, i, n);
        if (i < 0) return undefined;
      } else {
        if (values[col] !== undefined) return undefined; // a duplicate key: the full rules reject the record
        const r = fieldValue(t.columns[col]!, text, i, n);
        if (r === undefined) return undefined;
        values[col] = r.copy;
        i = r.end;
      }
      i = skipWs(text, i, n);
      const c = text.charCodeAt(i);
      if (c === 44 /* , */) {
        i = skipWs(text, i + 1, n);
        continue;
      }
      if (c !== 125 /* } */) return undefined;
      i++;
      break;
    }
  }
  if (skipWs(text, i, n) !== n) return undefined;
  for (const r of t.required) if (values[r] === undefined || values[r] === '\\N') return undefined;
  let line = '';
  for (let c = 0; c < values.length; c++) line += (c > 0 ? '\t' : '') + (values[c] ?? '\\N');
  return line + '\n';
}

/** One kept field's COPY text, with where its JSON value ends; undefined when the full rules must decide. */
function fieldValue(column: Column, text: string, i: number, n: number): { copy: string; end: number } | undefined {
  const c = text.charCodeAt(i);
  if (c === 34 /* " */) {
    const s = readString(text, i + 1, n);
    if (s === undefined) return undefined;
    const copy = stringValue(column, s.value, s.escaped);
    return copy === undefined ? undefined : { copy, end: s.end };
  }
  if (c === 110 /* n */) return text.startsWith('null', i) ? { copy: '\\N', end: i + 4 } : undefined;
  if (c === 116 /* t */ || c === 102 /* f */) {
    const word = c === 116 ? 'true' : 'false';
    if (column.type !== 'text' || !text.startsWith(word, i)) return undefined;
    return { copy: word, end: i + word.length };
  }
  if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
    let end = i + 1;
    while (end < n && isNumberChar(text.charCodeAt(end))) end++;
    const copy = numberValue(column, text.slice(i, end));
    return copy === undefined ? undefined : { copy, end };
  }
  return undefined; // an object or an array: the full rules reject it, with the reason
}

/** A JSON number token in a column, by the shared rules. */
function numberValue(column: Column, token: string): string | undefined {
  switch (column.type) {
    case 'integer':
    case 'bigint': {
      if ((column.type === 'integer' ? INT_TOKEN : BIGINT_TOKEN).test(token)) return token === '-0' ? '0' : token;
      if (!NUMBER_TOKEN.test(token)) return undefined;
      const v = Number(token);
      const ok = Number.isInteger(v) && (column.type === 'integer' ? v >= INT32_MIN && v <= INT32_MAX : Number.isSafeInteger(v));
      return ok ? String(v + 0) : undefined;
    }
    case 'double': {
      if (!NUMBER_TOKEN.test(token)) return undefined;
      const v = Number(token) + 0;
      return Number.isFinite(v) ? String(v) : undefined;
    }
    case 'text': {
      if (!NUMBER_TOKEN.test(token)) return undefined;
      const v = Number(token);
      return Number.isFinite(v) ? copyEscape(numberText(v)) : undefined;
    }
    default:
      return undefined;
  }
}

/** A JSON string's value in a column, by the shared rules. */
function stringValue(column: Column, value: string, escaped: boolean): string | undefined {
  switch (column.type) {
    case 'text':
      if (!escaped) return value; // no backslash, and valid JSON strings hold no raw control character
      return value.includes('\0') ? undefined : copyEscape(value);
    case 'integer':
    case 'bigint': {
      if (value === '') return '\\N';
      if (!INTEGER_TEXT.test(value)) return undefined;
      const v = Number(value);
      const ok = column.type === 'integer' ? v >= INT32_MIN && v <= INT32_MAX : Number.isSafeInteger(v);
      return ok ? String(v + 0) : undefined;
    }
    case 'double': {
      if (value === '') return '\\N';
      if (!NUMBER_TOKEN.test(value)) return undefined;
      const v = Number(value) + 0;
      return Number.isFinite(v) ? String(v) : undefined;
    }
    default:
      return undefined;
  }
}

/** PostgreSQL's COPY text escapes: backslash, tab, newline, carriage return. */
function copyEscape(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}

/** The end (closing quote) of a string starting at `i` with no escape in it; -1 otherwise. */
function plainStringEnd(text: string, i: number, n: number): number {
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i;
    if (c === 92 || c < 32) return -1;
  }
  return -1;
}

/**
 * A JSON string starting after its opening quote: its value, whether it held
 * escapes, and the position after the closing quote. Undefined for anything
 * JSON.parse would refuse or keep broken (raw control characters, bad
 * escapes, lone surrogates).
 */
function readString(text: string, i: number, n: number): { value: string; escaped: boolean; end: number } | undefined {
  const start = i;
  const plain = plainStringEnd(text, i, n);
  if (plain >= 0) return { value: text.slice(start, plain), escaped: false, end: plain + 1 };
  let out = '';
  let from = i;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return { value: out + text.slice(from, i), escaped: true, end: i + 1 };
    if (c < 32) return undefined;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A raw surrogate is only whole as a pair (the decoder never makes lone ones, but be sure).
      if (c > 0xdbff || (text.charCodeAt(i + 1) & 0xfc00) !== 0xdc00) return undefined;
      i++;
      continue;
    }
    if (c !== 92) continue;
    out += text.slice(from, i);
    const e = text.charCodeAt(i + 1);
    i++;
    switch (e) {
      case 34: out += '"'; break;
      case 92: out += '\\'; break;
      case 47: out += '/'; break;
      case 98: out += '\b'; break;
      case 102: out += '\f'; break;
      case 110: out += '\n'; break;
      case 114: out += '\r'; break;
      case 116: out += '\t'; break;
      case 117: {
        const u = hex4(text, i + 1);
        if (u < 0) return undefined;
        i += 4;
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = text.charCodeAt(i + 1) === 92 && text.charCodeAt(i + 2) === 117 ? hex4(text, i + 3) : -1;
          if (lo < 0xdc00 || lo > 0xdfff) return undefined; // a lone high surrogate: invalid JSON by the rules
          out += String.fromCharCode(u, lo);
          i += 6;
        } else if (u >= 0xdc00 && u <= 0xdfff) return undefined;
        else out += String.fromCharCode(u);
        break;
      }
      default:
        return undefined;
    }
    from = i + 1;
  }
  return undefined;
}

function hex4(text: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = text.charCodeAt(i + k);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

function skipWs(text: string, i: number, n: number): number {
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/**
 * Skips one JSON value of a field sparkify does not keep, checking it is valid
 * JSON, without recursion; -1 when it is not (or nests too deep to bother).
 */
function skipValue(text: string, i: number, n: number): number {
  let depth = 0;
  for (;;) {
    i = skipWs(text, i, n);
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) return -1;
      i = skipWs(text, i + 1, n);
      const close = c === 123 ? 125 : 93;
      if (text.charCodeAt(i) === close) {
        i++;
        depth--;
      } else {
        if (c === 123) {
          if (text.charCodeAt(i) !== 34) return -1;
          const s = readString(text, i + 1, n);
          if (!s) return -1;
          i = skipWs(text, s.end, n);
          if (text.charCodeAt(i) !== 58) return -1;
          i++;
        }
        stack[depth] = close;
        continue; // now at a member's value
      }
    } else if (c === 34) {
      const s = readString(text, i + 1, n);
      if (!s) return -1;
      i = s.end;
    } else if (c === 116 || c === 102 || c === 110) {
      const word = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
      if (!text.startsWith(word, i)) return -1;
      i += word.length;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < n && isNumberChar(text.charCodeAt(end))) end++;
      if (!NUMBER_TOKEN.test(text.slice(i, end))) return -1;
      i = end;
    } else return -1;
    // After a value: close containers, or go on to the next member or element.
    for (;;) {
      if (depth === 0) return i;
      i = skipWs(text, i, n);
      const d = text.charCodeAt(i);
      if (d === stack[depth]) {
        i++;
        depth--;
        continue;
      }
      if (d !== 44) return -1;
      i = skipWs(text, i + 1, n);
      if (stack[depth] === 125) {
        if (text.charCodeAt(i) !== 34) return -1;
        const s = readString(text, i + 1, n);
        if (!s) return -1;
        i = skipWs(text, s.end, n);
        if (text.charCodeAt(i) !== 58) return -1;
        i++;
      }
      break;
    }
  }
}

/** The closing character expected at each depth of `skipValue` (one scanner runs at a time). */
const stack: number[] = new Array(MAX_DEPTH + 2);
