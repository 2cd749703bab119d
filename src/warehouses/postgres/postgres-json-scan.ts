import { NUMBER_TEXT } from '../../schema/coerce.js';

/**
 * Byte-level JSON scanning for the PostgreSQL converter (postgres-fast-copy.ts):
 * strings, whitespace, numbers and whole values it does not keep, each checked
 * to be valid JSON without recursion. Anything it is not sure of returns a
 * failure, and the caller leaves the record to the full rules.
 */

/** Nesting deeper than this inside an ignored field is left to the full rules. */
const MAX_DEPTH = 64;

/** The end (closing quote) of a string starting at `i` with no escape in it; -1 otherwise. */
export function plainStringEnd(text: string, i: number, n: number): number {
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
export function readString(text: string, i: number, n: number): { value: string; escaped: boolean; end: number } | undefined {
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

export function hex4(text: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = text.charCodeAt(i + k);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

export function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

export function skipWs(text: string, i: number, n: number): number {
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
export function skipValue(text: string, i: number, n: number): number {
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
          i = skipMemberName(text, i, n);
          if (i < 0) return -1;
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
      if (!NUMBER_TEXT.test(text.slice(i, end))) return -1;
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
        i = skipMemberName(text, i, n);
        if (i < 0) return -1;
      }
      break;
    }
  }
}

/** Skips an object member's name and its colon, from the name's opening quote; -1 when they are not valid JSON. */
function skipMemberName(text: string, i: number, n: number): number {
  if (text.charCodeAt(i) !== 34) return -1;
  const s = readString(text, i + 1, n);
  if (!s) return -1;
  i = skipWs(text, s.end, n);
  return text.charCodeAt(i) === 58 ? i + 1 : -1;
}

/** The closing character expected at each depth of `skipValue` (one scanner runs at a time). */
const stack: number[] = new Array(MAX_DEPTH + 2);
