/**
 * Repairing mis-encoded text where the repair is certain (schema/repair.ts),
 * property-tested: UTF-8 read as Latin-1 any number of times (up to four)
 * comes back whole; text that is already right is never touched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insertRepairsSql, repairText } from '../src/schema/repair.js';
import { redshiftDialect } from '../src/warehouses/redshift/redshift-dialect.js';

/** What the logs do to text: its UTF-8 bytes read back as Latin-1. */
const misread = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('repairing mis-encoded text', () => {
  it("undoes the sample's cases: Björk three times over, accents, the apostrophe that lost its high byte", () => {
    expect(repairText('BjÃ\u0083Â¶rk')).toBe('Björk');
    expect(repairText('ReprÃ\u0083Â©sente')).toBe('Représente');
    expect(repairText('Don\u0019t Stop')).toBe('Don\u2019t Stop');
  });

  it('leaves text that is right as it is, and what it cannot be sure of', () => {
    for (const s of ['Café', 'Sigur Rós', 'Ã', 'Ã alone', 'Mötley Crüe', '東京', "You're The One", '']) expect(repairText(s), s).toBeUndefined();
    // A pair that is valid UTF-8 read as Latin-1 is taken for it: 'Â£' is how a pound sign arrives mis-read.
    expect(repairText('Â£5 note')).toBe('£5 note');
  });

  it('brings back any text read as Latin-1 one to four times (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), (s, times) => {
        fc.pre(/[^\u0000-\u007f]/.test(s) && !/[\u0000-\u001f\u0080-\u00ff]/.test(s));
        let bad = s;
        for (let i = 0; i < times; i++) bad = misread(bad);
        expect(repairText(bad)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the repairs in statements of bounded size, quoted for the warehouse', () => {
    const repairs = Array.from({ length: 400 }, (_, i) => [`Caf\u00c3\u00a9 ${i} it's`, `Café ${i} it's`] as [string, string]);
    const statements = insertRepairsSql(repairs, redshiftDialect, 5_000);
    expect(statements.length).toBeGreaterThan(1);
    for (const s of statements) expect(Buffer.byteLength(s)).toBeLessThan(5_200);
    expect(statements.join(' ').match(/\('/g)).toHaveLength(400);
    expect(statements[0]).toContain("'Café 0 it''s'");
  });
});
