import { INT32_MAX, INT32_MIN, INTEGER_TEXT, NUMBER_TEXT, numberText } from '../../schema/coerce.js';
import type { Column, Table } from '../../schema/tables.js';
import { isNumberChar, plainStringEnd, readString, skipValue, skipWs } from './postgres-json-scan.js';

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

export function fastTable(table: Table): FastTable {
  return {
    columns: table.columns,
    index: new Map(table.columns.map((c, i) => [c.name, i])),
    required: table.columns.flatMap((c, i) => (c.required ? [i] : [])),
  };
}

const INT_TOKEN = /^-?(0|[1-9][0-9]{0,8})$/;
const BIGINT_TOKEN = /^-?(0|[1-9][0-9]{0,14})$/;

/**
 * The record as a COPY text line (newline included), or `undefined` when the
 * full rules must decide. `tail` goes before the newline: further fields,
 * already in COPY text with their leading tab (the row's file_id).
 *
 * @example
 *   fastCopyLine(fastTable(stagingSongs), '{"song_id":"SO1","artist_id":"AR1","year":0}'); // '\\N\tAR1\t…\t0\n'
 */
export function fastCopyLine(t: FastTable, text: string, tail = ''): string | undefined {
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
  return line + tail + '\n';
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
      if (!NUMBER_TEXT.test(token)) return undefined;
      const v = Number(token);
      const ok = Number.isInteger(v) && (column.type === 'integer' ? v >= INT32_MIN && v <= INT32_MAX : Number.isSafeInteger(v));
      return ok ? String(v + 0) : undefined;
    }
    case 'double': {
      if (!NUMBER_TEXT.test(token)) return undefined;
      const v = Number(token) + 0;
      return Number.isFinite(v) ? String(v) : undefined;
    }
    case 'text': {
      if (!NUMBER_TEXT.test(token)) return undefined;
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
      if (!NUMBER_TEXT.test(value)) return undefined;
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
