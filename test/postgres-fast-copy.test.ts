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
import { damagedRecordOf, recordOf } from './helpers/arbitraries.js';
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
      const damaged = damagedRecordOf(table);
      fc.assert(fc.property(damaged, (text) => void agrees(table, text)), { numRuns: 3000 });
    });
  }
});
