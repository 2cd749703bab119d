/**
 * Property-based tests (fast-check) of the record splitter (records.ts,
 * json-records.ts): whatever the bytes and wherever the chunks of a stream
 * break (inside a UTF-8 character, between CR and LF, inside the byte order
 * mark), it never throws, loses nothing and numbers lines right. The
 * coercion rules' own properties, and PostgreSQL's converter against them,
 * are in postgres-fast-copy.test.ts; DuckDB against PostgreSQL on generated
 * records is in equivalence.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRecords, type RecordFormat } from '../src/sources/records.js';
import type { Source, SourceFile } from '../src/sources/source.js';

/** A source of files held in memory, streamed in the chunks given (the cut points are byte offsets). */
function memorySource(files: { bytes: Buffer; cuts: number[] }[]): { source: Source; list: SourceFile[] } {
  const list = files.map((f, i) => ({ key: `f${i}.json`, uri: `mem://f${i}.json`, size: f.bytes.length }));
  const source: Source = {
    kind: 'local',
    uri: 'mem://',
    list: async () => list,
    read: async (f) => files[list.indexOf(f)]!.bytes,
    async *stream(f) {
      const { bytes, cuts } = files[list.indexOf(f)]!;
      let from = 0;
      for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
        yield bytes.subarray(from, cut);
        from = cut;
      }
      yield bytes.subarray(from);
    },
    localPath: () => undefined,
    close: async () => undefined,
  };
  return { source, list };
}

async function split(files: { bytes: Buffer; cuts: number[] }[], format: RecordFormat, batchSize = 3) {
  const { source, list } = memorySource(files);
  const out: { file: number; line: number; text: string }[] = [];
  let bytes = 0;
  for await (const b of readRecords(source, list, format, { wholeFileLimit: 0, batchSize })) {
    bytes += b.bytes;
    b.text.forEach((text, i) => out.push({ file: b.file[i]!, line: b.line[i]!, text }));
  }
  return { records: out, bytes };
}

/** Text as it reads back from its UTF-8 bytes (lone surrogates become U+FFFD). */
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
const isBlank = (s: string) => /^[ \t\r]*$/.test(s);

const lineText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '\t', '\r', '{"a":1}', '{"s":"\u00e9\u{1F600}"}', 'x\ry', ' {"b": [1, 2]} '),
).map((s) => s.replaceAll('\n', ''));
const cuts = fc.array(fc.nat(), { maxLength: 8 });

describe('splitting event logs (ndjson) into records', () => {
  it('yields every non-blank line, with its number, wherever the chunks break and whatever the line ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ lines: fc.array(lineText, { maxLength: 8 }), crlf: fc.boolean(), bom: fc.boolean(), finalNewline: fc.boolean(), cuts }), { minLength: 1, maxLength: 3 }),
        async (specs) => {
          const files = specs.map((s) => {
            const body = s.lines.join(s.crlf ? '\r\n' : '\n') + (s.finalNewline && s.lines.length > 0 ? (s.crlf ? '\r\n' : '\n') : '');
            return { bytes: Buffer.concat([s.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(body, 'utf8')]), cuts: s.cuts };
          });
          const { records, bytes } = await split(files, 'ndjson');
          const expected = specs.flatMap((s, file) =>
            s.lines.flatMap((l, i) => {
              // A CR ends a line only before LF, and the terminator's CR is the only one taken: a line of a CRLF
              // file that ends in CR itself keeps it ("x\r" + "\r\n"); before a bare LF, or at the end of the file,
              // the line's own last CR goes.
              const terminated = i < s.lines.length - 1 || s.finalNewline;
              const text = s.crlf && terminated ? utf8(l) : utf8(l).replace(/\r$/, '');
              return isBlank(text) ? [] : [{ file, line: i + 1, text }];
            }),
          );
          expect(records).toEqual(expected);
          expect(bytes).toBe(files.reduce((n, f) => n + f.bytes.length, 0));
        },
      ),
      { numRuns: 400 },
    );
  });
});

/** JSON values as song files hold them: objects (sometimes nested, with braces and newlines in strings). */
const songValue = fc.dictionary(
  fc.string({ maxLength: 5 }),
  fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('{', '}', '[', ']', '"', '\\', '\n', '{"x":'), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 })),
  { maxKeys: 5 },
);

describe('splitting song files (json) into records by structure', () => {
  it('yields each object, pretty-printed or not, several to a line or one per line, starting at the right line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(songValue, fc.boolean(), fc.constantFrom(' ', '\n', '\r\n', '\n\n', '\t', '')), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        cuts,
        async (items, bom, at) => {
          let text = '';
          const starts: number[] = [];
          for (const [value, pretty, sep] of items) {
            starts.push(text.split('\n').length);
            text += JSON.stringify(value, null, pretty ? 2 : undefined) + sep;
          }
          const bytes = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
          const { records } = await split([{ bytes, cuts: at }], 'json');
          expect(records.map((r) => JSON.parse(r.text) as unknown)).toEqual(items.map(([v]) => JSON.parse(JSON.stringify(v)) as unknown));
          expect(records.map((r) => r.line)).toEqual(starts);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps a line of Unicode space (not JSON whitespace) as a record to reject, found by fast-check (seed 1791626670)', async () => {
    const { records } = await split([{ bytes: Buffer.from('{"a": 1}\n\u2000\n \t\n{"b": 2}\n', 'utf8'), cuts: [] }], 'json');
    expect(records).toEqual([
      { file: 0, line: 1, text: '{"a": 1}' },
      { file: 0, line: 2, text: '\u2000' },
      { file: 0, line: 4, text: '{"b": 2}' },
    ]);
  });

  it('never throws on any text and loses none of it: every non-blank character is in exactly one record, in order', async () => {
    const piece = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constantFrom('{', '}', '[', ']', '"', '\\', '\n', '\r\n', '{"a":', ' ', ','), songValue.map((v) => JSON.stringify(v)));
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), cuts, async (pieces, at) => {
        const text = pieces.join('');
        const { records } = await split([{ bytes: Buffer.from(text, 'utf8'), cuts: at }], 'json');
        const squeeze = (s: string) => s.replace(/[ \t\r\n]/g, '');
        expect(squeeze(records.map((r) => r.text).join(''))).toBe(squeeze(utf8(text).replace(/^\uFEFF/, '')));
        const lines = records.map((r) => r.line);
        expect(lines).toEqual([...lines].sort((a, b) => a - b));
        for (const l of lines) expect(l).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 600 },
    );
  });
});
