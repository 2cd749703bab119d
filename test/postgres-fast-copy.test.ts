/**
 * The PostgreSQL load's one-pass converter says either "defer to the full
 * rules" or exactly what the full rules (coerceRecord, then the COPY line)
 * say: checked on the real sample, on hand-picked edge records, and on
 * generated records (property-based, fast-check), for both staging tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coerceRecord } from '../src/schema/coerce.js';
import { stagingEvents, stagingSongs, type Table } from '../src/schema/tables.js';
import { copyLine } from '../src/warehouses/postgres/postgres-copy.js';
import { fastCopyLine, fastTable } from '../src/warehouses/postgres/postgres-fast-copy.js';
import { SAMPLE_LOGS, SAMPLE_SONGS } from './helpers/oracle.js';

/** What the full rules make of a record: its COPY line, or undefined when it is rejected. */
function full(table: Table, text: string): string | undefined {
  const c = coerceRecord(table, text);
  return c.ok ? copyLine(c.values) : undefined;
}

/** The converter agrees with the full rules, or defers; returns whether it took the record itself. */
function agrees(table: Table, text: string): boolean {
  const fast = fastCopyLine(fastTable(table), text);
  if (fast !== undefined) expect(fast, text).toBe(full(table, text));
  return fast !== undefined;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('postgres: the one-pass converter agrees with the full rules', () => {
  it('takes every record of the real sample itself, with the same line', () => {
    let taken = 0;
    let total = 0;
    for (const f of files(SAMPLE_LOGS)) {
      for (const line of readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '')) {
        total++;
        if (agrees(stagingEvents, line)) taken++;
      }
    }
    for (const f of files(SAMPLE_SONGS)) {
      total++;
      if (agrees(stagingSongs, readFileSync(f, 'utf8'))) taken++;
    }
    expect(total).toBe(8056 + 71);
    expect(taken).toBe(total);
  });

  it.each([
    '{"ts": 1, "userId": "", "sessionId": "38", "itemInSession": 2001.0, "length": "35.1", "registration": 1540919166796.0}',
    '{"ts": -0, "length": -0.0, "registration": 1e-400, "status": 1e3}',
    '{"ts": 1, "artist": 1999, "song": 1.5, "auth": true, "level": false, "page": null}',
    '{"ts": 1, "artist": "a\\u0000b"}',
    '{"ts": 1, "artist": "\\ud800"}',
    '{"ts": 1, "artist": "\\ud83d\\ude00 \\"quoted\\" \\\\ \\/ \\t \\n \\r \\b \\f"}',
    '{"ts": 1, "ts": 2}',
    '{"ts": 1, "userId": "1e3"}',
    '{"ts": 1, "userId": "2147483648"}',
    '{"ts": 1, "userId": 2147483648}',
    '{"ts": 9007199254740993}',
    '{"ts": 01}',
    '{"ts": 1, "length": 1e400}',
    '{"ts": 1, "length": "1e400"}',
    '{"ts": 1, "extra": {"a": [1, {"b": [true, null, "x\\"y"]}], "c": -1.5e-3}}',
    '{"ts": 1, "extra": [1,]}',
    '{"ts": 1,}',
    '{"ts": 1} x',
    '[{"ts": 1}]',
    '{"ts": 1, "artist": {"nested": 1}}',
    '{"ts": 1, "user\\u0049d": "5"}',
    '{}',
    ' \t{ "ts" : 1 }\r',
    '{"ts": 1, "song": "tab\there"}',
    `{"ts": 1, "extra": ${'['.repeat(100)}${']'.repeat(100)}}`,
  ])('%s', (text) => {
    agrees(stagingEvents, text);
  });

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
  const recordOf = (table: Table) =>
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

  for (const table of [stagingEvents, stagingSongs]) {
    const record = recordOf(table);
    it(`${table.name}: generated records`, () => {
      let taken = 0;
      fc.assert(
        fc.property(record, (text) => {
          if (agrees(table, text)) taken++;
        }),
        { numRuns: 3000 },
      );
      // The generator makes records the converter takes itself too, not only ones it defers.
      expect(taken).toBeGreaterThan(300);
    });
    it(`${table.name}: generated records with their text damaged`, () => {
      const damaged = fc.tuple(record, fc.nat(), fc.constantFrom('', '"', '}', ',', '\\', '\u0001', 'x', '1', '\ud800')).map(([t, at, ch]) => {
        const i = at % (t.length + 1);
        return t.slice(0, i) + ch + t.slice(i + 1);
      });
      fc.assert(fc.property(damaged, (text) => void agrees(table, text)), { numRuns: 3000 });
    });
  }
});
