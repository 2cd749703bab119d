/**
 * JSON text the way the course's files were written. Song files come from
 * Python's json.dumps (ASCII only, `", "` and `": "` separators, floats always
 * with a fraction); event logs from a writer that also escapes `/` as `\/`.
 * Loaders that are strict about these details are what the generator exists
 * to exercise, so the spelling matters, not just the parsed value.
 */

const HEX = '0123456789abcdef';
// Anything outside printable ASCII, plus the two characters JSON always escapes.
const ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/g;
const ESCAPE_WITH_SLASH = /["\\/\u0000-\u001f\u007f-\uffff]/g;
const NEEDS_ESCAPE = new RegExp(ESCAPE.source);
const NEEDS_ESCAPE_WITH_SLASH = new RegExp(ESCAPE_WITH_SLASH.source);
const SHORT: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\', '/': '\\/' };

function escapeChar(ch: string): string {
  const c = ch.charCodeAt(0);
  // Astral characters are two UTF-16 code units, escaped one by one exactly as
  // Python writes surrogate pairs.
  return SHORT[ch] ?? `\\u${HEX[(c >>> 12) & 15]}${HEX[(c >>> 8) & 15]}${HEX[(c >>> 4) & 15]}${HEX[c & 15]}`;
}

/**
 * A JSON string literal with every non-ASCII code unit as `\uXXXX` (Python's
 * ensure_ascii); with `escapeSlash`, `/` becomes `\/` as in the event logs.
 *
 * @example
 *   pyString('Björk', false); // "Bj\u00f6rk" (with the quotes)
 *   pyString('AC/DC', true); // "AC\/DC"
 */
export function pyString(s: string, escapeSlash: boolean): string {
  if (!(escapeSlash ? NEEDS_ESCAPE_WITH_SLASH : NEEDS_ESCAPE).test(s)) return `"${s}"`;
  const escaped = s.replace(escapeSlash ? ESCAPE_WITH_SLASH : ESCAPE, escapeChar);
  // The result is ASCII but V8 keeps the source's two-byte representation, and
  // one such string makes every 64 KiB chunk it lands in two-byte and several
  // times slower to write: the latin1 round trip stores it one byte per char.
  return `"${Buffer.from(escaped, 'latin1').toString('latin1')}"`;
}

/**
 * A double as Python's repr writes it: the shortest text that reads back as the
 * same double (as JavaScript does), but integral values keep a `.0`.
 *
 * @example
 *   pyFloat(1540919166796); // '1540919166796.0'
 *   pyFloat(246.30812); // '246.30812'
 */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  const s = String(x);
  // Above 1e16 Python switches to exponent notation; no generated value gets there.
  return Number.isInteger(x) && Math.abs(x) < 1e16 ? `${s}.0` : s;
}

/**
 * `units / 100000` as {@link pyFloat} writes it, straight from the integer
 * (durations are kept in 1e-5 s units). Formatting a double is the slow part
 * of writing a log line; for values with at most 5 decimals the shortest
 * round-trip text is exactly the decimal with trailing zeros dropped.
 *
 * @example
 *   pyFloatUnits(24630812); // '246.30812'
 *   pyFloatUnits(24631000); // '246.31'
 */
export function pyFloatUnits(units: number): string {
  if (!Number.isSafeInteger(units) || units < 0) throw new RangeError(`not a count of 1e-5 units: ${units}`);
  const whole = Math.floor(units / 100_000);
  let fraction = units - whole * 100_000;
  if (fraction === 0) return `${whole}.0`;
  let digits = 5;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  return `${whole}.${String(fraction).padStart(digits, '0')}`;
}

/**
 * Text that went through "UTF-8 bytes read as Latin-1" twice, as the course's
 * logs did (`Björk` became `BjÃ\u0083Â¶rk`). ASCII text is unchanged.
 *
 * @example
 *   mojibake('Café'); // 'CafÃ\u0083Â©'
 */
export function mojibake(s: string): string {
  const once = Buffer.from(s, 'utf8').toString('latin1');
  return Buffer.from(once, 'utf8').toString('latin1');
}

/**
 * True when the text has a character outside ASCII.
 *
 * @example
 *   isNonAscii('Café'); // true
 */
export function isNonAscii(s: string): boolean {
  return /[^\u0000-\u007f]/.test(s);
}
