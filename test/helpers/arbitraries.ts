/**
 * fast-check arbitraries for raw records: JSON text of a staging table's
 * record, spelled in the ways real files spell it (every spelling the
 * coercion rules allow, values of the wrong type now and then, extra fields,
 * odd whitespace, escaped slashes). Shared by the property tests of the
 * PostgreSQL converter and the generated input of the equivalence suite.
 */
import fc from 'fast-check';
import { stagingEvents, stagingSongs, type Table } from '../../src/schema/tables.js';

const key = fc.oneof(
  fc.constantFrom(...stagingEvents.columns.map((c) => c.name), ...stagingSongs.columns.map((c) => c.name)),
  fc.string({ maxLength: 6 }),
);
const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', '38', '-0', '007', '1e3', '35.1', '2147483648', '9007199254740993', 'abc', '\u0000', '1.0'),
  fc.constantFrom(0, -0, 1e400, 2001.0, 9007199254740993, 1540919166796.0),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 3 })),
})).value;
/** A value for a column: mostly what the column takes, in every spelling the rules allow, sometimes anything. */
const columnValue = (c: Table['columns'][number]) => {
  const usual =
    c.type === 'text'
      ? fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('"Mozilla/5.0"', 'Björk', 'a\tb', 'x\\y'))
      : c.type === 'double'
        ? fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.constant(''))
        : c.type === 'bigint'
          ? fc.oneof(fc.maxSafeInteger(), fc.maxSafeInteger().map(String))
          : fc.oneof(fc.integer(), fc.integer().map(String), fc.constant(''));
  return fc.oneof({ weight: 20, arbitrary: usual }, { weight: 1, arbitrary: scalar }, { weight: 1, arbitrary: value });
};
/** A record of `table` as JSON text, spelled in the ways real files spell it, with extra fields now and then. */
export const recordOf = (table: Table) =>
  fc
    .tuple(
      fc.tuple(...table.columns.map((c) => fc.option(columnValue(c), { nil: undefined, freq: 4 }))),
      fc.array(fc.tuple(key, value), { maxLength: 3 }),
      fc.constantFrom('', ' ', '\n  ', '\t'),
      fc.boolean(),
    )
    .map(([values, extra, ws, escapeSlashes]) => {
      const entries: [string, unknown][] = [...table.columns.flatMap((c, i) => (values[i] === undefined ? [] : [[c.name, values[i]] as [string, unknown]])), ...extra];
      const body = entries.map(([k, v]) => `${JSON.stringify(k)}:${ws}${JSON.stringify(v)}`).join(`,${ws}`);
      const text = `{${ws}${body}${ws}}`;
      return escapeSlashes ? text.replaceAll('/', '\\/') : text;
    });

/**
 * A record with one character replaced (a quote, a brace, a control
 * character, a lone surrogate…): mostly invalid. A comma right before the
 * record's closing brace is not made: DuckDB reads that leniently in the
 * files it reads itself, the one known difference (README.md, "Bad input").
 */
export const damagedRecordOf = (table: Table) =>
  fc
    .tuple(recordOf(table), fc.nat(), fc.constantFrom('', '"', '}', ',', '\\', '\u0001', 'x', '1', '\ud800'))
    .map(([t, at, ch]) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + ch + t.slice(i + 1);
    })
    .filter((t) => !/,[ \t\r\n]*\}[ \t\r\n]*$/.test(t));
