/**
 * Input at the edges of the coercion rules, written to a temp folder at test
 * time (it holds NUL bytes, a BOM and CRLF line ends, which are awkward to
 * keep in git). Every warehouse must load it into exactly the same rows and
 * rejects. DuckDB's JSON parser accepts trailing commas and bare NaN or
 * Infinity, which JSON does not: such records are here where sparkify can see
 * them (in a field it loads); the one place it cannot is in README.md.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { stagingEvents, stagingSongs } from '../../src/schema/tables.js';
import { damagedRecordOf, recordOf } from './arbitraries.js';
import os from 'node:os';
import path from 'node:path';

const base = {
  artist: 'b',
  auth: 'Logged In',
  firstName: 'Ann',
  gender: 'F',
  itemInSession: 0,
  lastName: 'Lee',
  length: 215.5,
  level: 'free',
  location: 'X',
  method: 'PUT',
  page: 'NextSong',
  registration: 1540919166796,
  sessionId: 1,
  song: 'Zed',
  status: 200,
  ts: 1541105830000,
  userAgent: '"UA"',
  userId: '7',
};

let tick = 0;
/** One event line; `raw` fields are spliced in as written (numbers whose spelling matters). */
function event(fields: Record<string, unknown>, raw: Record<string, string> = {}): string {
  const o: Record<string, unknown> = { ...base, ts: base.ts + ++tick, ...fields };
  let line = JSON.stringify(o);
  for (const [k, v] of Object.entries(raw)) line = line.replace(new RegExp(`"${k}":(("(?:[^"\\\\]|\\\\.)*")|[^,}]*)`), `"${k}":${v}`);
  return line;
}

const emoji = '😀';

export const EDGE_EVENTS: string[] = [
  event({ artist: 'tab\there back\\slash\nnew\rcr', song: 'quote " and \u0019' }),
  event({ artist: 'nul\u0000inside' }),
  event({}, { song: '"\\ud800 lone"' }),
  event({ song: `emoji ${emoji} e\u0301 \u2028 \u007f` }),
  event({}, { ts: '9007199254740992' }),
  event({}, { ts: '"1541105830801"' }),
  event({}, { ts: '1541105830802.0', length: '"1e2"' }),
  event({}, { length: '"-0"', registration: '-0.0' }),
  event({}, { length: '1E400' }),
  event({}, { length: '-1e-400', registration: '1.5e-7' }),
  event({ userId: '0007', level: 'paid' }),
  event({ userId: ' 7' }),
  event({}, { itemInSession: '2147483648' }),
  event({}, { itemInSession: '-2147483648' }),
  event({}, { location: '1.5' }),
  event({}, { location: '0.00001' }),
  event({}, { location: '1e21' }),
  event({}, { location: '12345678901234567890' }),
  event({}, { location: '2001.0' }),
  event({}, { location: 'true' }),
  event({}, { location: '-0' }),
  event({}, { location: '-0.0' }),
  event({}, { location: '1e15' }),
  event({}, { location: '9007199254740993' }),
  event({ sessionId: emoji.repeat(70) }),
  event({ sessionId: true, status: [200] }),
  event({ ts: null }),
  event({ userId: 'Ünï' }),
  `{"artist":"${emoji.repeat(1200)}"`, // cut short: invalid JSON, raw cut at 1000 characters
  `{"artist":"raw\u0000nul"}`, // a NUL byte in the file: invalid JSON, kept as U+FFFD
  '[1, 2]',
  '"just a string"',
  'null',
  '42',
  '   ',
  // Same ts, session and item: the tie-breakers decide (level DESC: binary order puts 'free' after 'Paid').
  event({ ts: 1541105839999, userId: '9', level: 'free', itemInSession: 5 }),
  event({ ts: 1541105839999, userId: '9', level: 'Paid', itemInSession: 5 }),
  event({ ts: 1541105839999, userId: '9', level: null, itemInSession: 5, page: 'Home' }),
  // A key twice: JSON.parse keeps the last, DuckDB the first; the rule rejects the record.
  event({}).replace('"userId":"7"', '"userId":"7","userId":"8"'),
  event({}).replace('}', ',"extra":1,"extra":2}'),
  // Twenty thousand keys, the first given again at the end: found in time linear in the keys.
  event({}).replace('}', `,${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')},"k0":0}`),
  // What DuckDB's parser accepts and JSON does not, where it shows: bare NaN and Infinity in loaded fields,
  // a trailing comma inside one; and the same words as strings, which are fine.
  event({}, { artist: 'NaN' }),
  event({}, { length: '-Infinity', registration: 'inf' }),
  event({}, { artist: '[1, 2,]' }),
  event({ artist: 'NaN', song: 'Infinity', userAgent: 'x,}' }),
  // Numbers a double cannot hold, in each kind of column.
  event({}, { location: '1e400', itemInSession: '-1E400', registration: '"1e999"' }),
  // Nesting thousands deep: a field to reject, an ignored field, a lone surrogate deep inside.
  event({ artist: 'deep' }).replace('"deep"', `${'['.repeat(5000)}${']'.repeat(5000)}`),
  event({}).replace('}', `,"extra":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`),
  event({}).replace('}', `,"extra":${'['.repeat(2000)}"\\ud800"${']'.repeat(2000)}}`),
];

function song(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    num_songs: 1,
    artist_id: 'AREDGE',
    artist_latitude: null,
    artist_longitude: null,
    artist_location: '',
    artist_name: 'b',
    song_id: 'SOEDGE1',
    title: 'Zed',
    duration: 215.5,
    year: 0,
    ...fields,
  };
}

/** Song files: path → content. */
export const EDGE_SONGS: Record<string, string> = {
  // BOM, CRLF, pretty-printed.
  'A/A/TREDGE01.json': '\uFEFF' + JSON.stringify(song({ song_id: 'SOEDGE2', title: 'apple' }), null, 2).replace(/\n/g, '\r\n'),
  'A/A/TREDGE02.json': JSON.stringify(song({ song_id: 'SOEDGE2', title: 'Zed', artist_name: 'B', artist_location: 'Ålesund' })),
  'A/A/TREDGE03.json': JSON.stringify(song({ song_id: 'SOEDGE1', artist_name: 'é', artist_location: 'Zagreb', artist_latitude: '45.8', artist_longitude: 15.97 })),
  'A/A/TREDGE04.json': JSON.stringify(song({ song_id: 'SOEDGE3', artist_name: 'e', artist_location: 'apt', artist_latitude: 1, artist_longitude: 2 })),
  'A/B/TREDGE05.json': [
    JSON.stringify(song({ artist_id: 'AREDGE2', song_id: 'SOEDGE5', title: 'tab\t\\ "q"', year: '2001', duration: 1e-7 })),
    JSON.stringify(song({ artist_id: 'AREDGE2', song_id: 'SOEDGE6', title: 'nul\u0000', year: 1e3 })),
    JSON.stringify(song({ artist_id: 'AREDGE2', song_id: 'SOEDGE7', artist_latitude: 'abc', year: 2001.5 })),
    JSON.stringify(song({ artist_id: 'AREDGE2', song_id: 'SOEDGE8', artist_latitude: '', artist_name: 12.25, title: -0 })),
  ].join('\n'),
  // Two songs a play matches on title, artist and duration: the smaller song_id wins.
  'A/C/TREDGE07.json': JSON.stringify(song({ artist_id: 'AREDGE4', song_id: 'SOEDGE0B', year: 1999 })),
  'A/C/TREDGE08.json': JSON.stringify(song({ artist_id: 'AREDGE4', song_id: 'SOEDGE0A', year: 2000 })),
  // Records by structure: two objects on one line; a nested object opening at the start of a line;
  // an object cut short, then a good one.
  'A/D/TREDGE09.json': `${JSON.stringify(song({ artist_id: 'AREDGE5', song_id: 'SOEDGE10' }))} ${JSON.stringify(song({ artist_id: 'AREDGE5', song_id: 'SOEDGE11' }))}`,
  'A/D/TREDGE10.json': `{\n"song_id": "SOEDGE12", "artist_id": "AREDGE6", "extra":\n{\n"nested": 1\n},\n"title": "nested"\n}\n`,
  'A/D/TREDGE11.json': `{\n"song_id": "SOEDGE13", "artist_id": "AREDGE7",\n"title": "cut\n${JSON.stringify(song({ artist_id: 'AREDGE7', song_id: 'SOEDGE14' }))}\n`,
  // An object with braces and a newline escape inside strings, over several lines.
  'A/B/TREDGE06.json': `{\n  "song_id": "SOEDGE9", "artist_id": "AREDGE3",\n  "title": "{not} [a] \\"brace\\"",\n  "duration": 215.5, "artist_name": "b", "year": "0"\n}\n`,
};

export interface EdgeFixtures {
  dir: string;
  songs: string;
  logs: string;
}

/** Writes the edge fixtures under a new temp folder. */
export function writeEdgeFixtures(): EdgeFixtures {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-edge-'));
  const songs = path.join(dir, 'song_data');
  const logs = path.join(dir, 'log_data');
  for (const [rel, content] of Object.entries(EDGE_SONGS)) {
    mkdirSync(path.dirname(path.join(songs, rel)), { recursive: true });
    writeFileSync(path.join(songs, rel), content);
  }
  mkdirSync(path.join(logs, '2018/11'), { recursive: true });
  const half = Math.floor(EDGE_EVENTS.length / 2);
  writeFileSync(path.join(logs, '2018/11/2018-11-05-events.json'), EDGE_EVENTS.slice(0, half).join('\n'));
  writeFileSync(path.join(logs, '2018/11/2018-11-06-events.json'), EDGE_EVENTS.slice(half).join('\r\n') + '\r\n');
  // A BOM, a byte that is not UTF-8 (read as U+FFFD), a form feed.
  const odd = [event({ artist: 'bom first' }), event({ artist: 'latin1 ' }), event({ artist: 'ff\f' }), ''].join('\n');
  const bytes = Buffer.from('\uFEFF' + odd, 'utf8');
  const at = bytes.indexOf('latin1 ') + 'latin1 '.length;
  writeFileSync(path.join(logs, '2018/11/2018-11-07-events.json'), Buffer.concat([bytes.subarray(0, at), Buffer.from([0xe9]), bytes.subarray(at)]));
  // Gzipped files, by name and by their bytes only.
  writeFileSync(path.join(logs, '2018/11/2018-11-08-events.json.gz'), gzipSync([event({ artist: 'gzipped' }), event({ artist: 'gz2' })].join('\n')));
  writeFileSync(path.join(logs, '2018/11/2018-11-09-events.json'), gzipSync(event({ artist: 'gzip named json' })));
  mkdirSync(path.join(songs, 'A/E'), { recursive: true });
  writeFileSync(path.join(songs, 'A/E/TREDGE20.json.gz'), gzipSync(JSON.stringify(song({ artist_id: 'AREDGE9', song_id: 'SOEDGE20' }))));
  return { dir, songs, logs };
}

/**
 * A log folder whose file holds a carriage return that does not end a line:
 * one on a line of its own, one in the middle of a record (invalid JSON).
 * Records are split on line feeds only, so these are a blank line and a reject.
 */
export function writeStrayCarriageReturnLogs(dir: string): string {
  const logs = path.join(dir, 'stray_cr_logs');
  mkdirSync(logs, { recursive: true });
  const lines = [event({ artist: 'before' }), '\r', event({ artist: 'a' }).replace('"a"', '"a\rb"'), event({ artist: 'after' })];
  writeFileSync(path.join(logs, 'stray-cr-events.json'), lines.join('\n'));
  return logs;
}

/**
 * Records made by the generators of arbitraries.ts, from a fixed seed (set
 * SPARKIFY_TEST_SEED for another draw): event logs of `events` records
 * (one in eight damaged) over three days, and song files of one to three
 * records each. Every warehouse must load them into the same rows and rejects.
 */
export function writeGeneratedFixtures(events = 1500, songs = 400): EdgeFixtures {
  const seed = Number(process.env.SPARKIFY_TEST_SEED ?? 20261130);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparkify-generated-'));
  const logs = path.join(dir, 'log_data');
  const songsDir = path.join(dir, 'song_data');
  const draw = (arb: fc.Arbitrary<string>, n: number, s: number) => fc.sample(arb, { seed: s, numRuns: n });
  const eventTexts = draw(fc.oneof({ weight: 7, arbitrary: recordOf(stagingEvents) }, { weight: 1, arbitrary: damagedRecordOf(stagingEvents) }), events, seed)
    // A line is a record: whitespace newlines go (those inside strings are escaped).
    .map((t) => t.replace(/[\r\n]/g, ' '));
  mkdirSync(path.join(logs, '2018/11'), { recursive: true });
  for (let day = 0; day < 3; day++) {
    const part = eventTexts.filter((_, i) => i % 3 === day);
    writeFileSync(path.join(logs, `2018/11/2018-11-0${day + 1}-events.json`), part.join('\n') + '\n');
  }
  const songTexts = draw(fc.oneof({ weight: 7, arbitrary: recordOf(stagingSongs) }, { weight: 1, arbitrary: damagedRecordOf(stagingSongs) }), songs, seed + 1);
  for (let i = 0, f = 0; i < songTexts.length; f++) {
    const n = 1 + (f % 3);
    const sub = path.join(songsDir, String.fromCharCode(65 + (f % 26)));
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `TRGEN${String(f).padStart(4, '0')}.json`), songTexts.slice(i, i + n).join('\n'));
    i += n;
  }
  return { dir, songs: songsDir, logs };
}
