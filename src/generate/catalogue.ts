/**
 * The songs and artists, as pure functions of an index: song k is the same
 * record whether it is being written to song_data or played in a log, and no
 * catalogue is ever held in memory, whatever its size.
 *
 * Durations carry the matching guarantee. They are counted in units of 1e-5 s:
 * catalogue songs always have an odd count (so they print with 5 decimals),
 * everything else a play can carry (songs outside the catalogue, near misses)
 * an even one. A play can therefore only equal a catalogue song on
 * title + artist + duration if it was generated as a match, which is how the
 * manifest counts matches without joining anything.
 */
import { isNonAscii, mojibake } from './json-text.js';
import { hash, permute, streamKey, unit } from './random.js';
import {
  ADJECTIVES,
  APOSTROPHE_PHRASES,
  ARTIST_WORDS,
  FEMALE_NAMES,
  LAST_NAMES,
  MALE_NAMES,
  NON_ASCII_WORDS,
  NOUNS,
  PLACES,
  PLACES_WITHOUT_COORDINATES,
  VERBS,
  VERSIONS,
} from './vocabulary.js';

export interface Song {
  songId: string;
  artistId: string;
  artistName: string;
  artistLocation: string;
  latitude: number | null;
  longitude: number | null;
  title: string;
  /** Duration in units of 1e-5 s (odd for catalogue songs). */
  units: number;
  year: number;
}

/** Ways a play can look like a catalogue song without matching it. */
export type NearMiss = 'rounded' | 'other-artist' | 'other-title' | 'mojibake';

/** What a log line says was played. */
export interface Play {
  artist: string;
  title: string;
  units: number;
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const HEX = '0123456789ABCDEF';

/** Shares measured on the sample's 71 song files. */
const YEAR_ZERO = 0.6;
const NO_LOCATION = 0.4;
const NO_COORDINATES = 0.56;
/** Share of an artist's later songs whose location disagrees with the first. */
const LOCATION_DISAGREES = 0.2;
/** Songs per artist: the sample has 69 artists for 71 songs, the full course bucket fewer. */
const ARTISTS_PER_SONG = 0.75;

/** Independent random streams, one per attribute. */
const STREAMS = [
  'title', 'duration', 'year', 'sid', 'artist', 'aname', 'aid', 'place', 'disagree',
  'otitle', 'oartist', 'oname', 'oduration', 'quirk', 'near',
] as const;

/**
 * The catalogue (songs written to song_data, which plays can match) and the
 * world outside it (songs the logs play that no song file has).
 *
 * @example
 *   const c = new Catalogue(1, 10_000, 1_000_000, 333_334);
 *   c.song(0).title; c.outside(42).artist;
 */
export class Catalogue {
  /** Distinct artist ids in the song files. */
  readonly artists: number;
  private readonly keys: Record<(typeof STREAMS)[number], number>;

  constructor(
    seed: number,
    readonly songs: number,
    /** How many distinct songs and artists outside the catalogue the logs play. */
    private readonly outsideSongs: number,
    private readonly outsideArtists: number,
  ) {
    this.artists = songs === 0 ? 0 : Math.max(1, Math.ceil(songs * ARTISTS_PER_SONG));
    this.keys = Object.fromEntries(STREAMS.map((n) => [n, streamKey(seed, n)])) as Record<(typeof STREAMS)[number], number>;
  }

  /** Song k of the catalogue, 0 ≤ k < songs. */
  song(k: number): Song {
    // The first `artists` songs introduce one artist each; later ones reuse an
    // artist, scattered over the catalogue as in the real bucket.
    const a = k < this.artists ? k : hash(this.keys.artist, k) % this.artists;
    let { location, latitude, longitude } = this.place(a);
    if (k >= this.artists && unit(hash(this.keys.disagree, k)) < LOCATION_DISAGREES) {
      if (location === '') location = pick(PLACES_WITHOUT_COORDINATES, hash(this.keys.place, k));
      else location = '';
      latitude = longitude = null;
    }
    const y = hash(this.keys.year, k);
    return {
      songId: `SO${idChars(hash(this.keys.sid, k), LETTERS)}12A${hex(permute(k, 32, this.keys.sid), 8)}`,
      artistId: `AR${idChars(hash(this.keys.aid, a), ID_CHARS)}1187${hex(permute(a, 28, this.keys.aid), 7)}`,
      artistName: artistName(this.keys.aname, a),
      artistLocation: location,
      latitude,
      longitude,
      title: songTitle(this.keys.title, k),
      units: duration(this.keys.duration, k) | 1,
      year: unit(y) < YEAR_ZERO ? 0 : 2010 - Math.floor(unit(mix(y)) ** 2 * 60),
    };
  }

  /**
   * Song j of the much larger world outside the catalogue, as the logs spell it:
   * non-ASCII names double-encoded, and now and then an apostrophe lost to
   * `\u0019`, as in the course's logs.
   */
  outside(j: number): Play {
    const artist = artistName(this.keys.oname, hash(this.keys.oartist, j) % this.outsideArtists);
    let title = songTitle(this.keys.otitle, j);
    if (title.includes("'") && unit(hash(this.keys.quirk, j)) < 0.15) title = title.replaceAll("'", '\u0019');
    return { artist: mojibakeIfNeeded(artist), title: mojibakeIfNeeded(title), units: duration(this.keys.oduration, j) & ~1 };
  }

  get outsideCount(): number {
    return this.outsideSongs;
  }

  /**
   * A play of catalogue song k that must not match it (or any other song):
   * the duration rounded to hundredths, the title by another artist, another
   * title by the artist, or (for non-ASCII names) the names double-encoded.
   */
  nearMiss(song: Song, kind: NearMiss, salt: number): Play {
    const h = hash(this.keys.near, salt);
    // Even unit counts never equal a catalogue duration (see the file comment).
    const otherLength = (song.units + 2 * (100_000 + (h % 500_000))) & ~1;
    if (kind === 'mojibake' && (isNonAscii(song.artistName) || isNonAscii(song.title))) {
      return { artist: mojibake(song.artistName), title: mojibake(song.title), units: song.units };
    }
    if (kind === 'other-artist') {
      for (let i = 0; i < 4; i++) {
        const other = artistName(this.keys.oname, hash(h, i) % this.outsideArtists);
        if (other !== song.artistName) return { artist: other, title: song.title, units: otherLength };
      }
      return { artist: `${song.artistName} Tribute Band`, title: song.title, units: otherLength };
    }
    if (kind === 'other-title') return { artist: song.artistName, title: songTitle(this.keys.otitle, h), units: otherLength };
    return { artist: song.artistName, title: song.title, units: Math.round(song.units / 1000) * 1000 };
  }

  private place(a: number): { location: string; latitude: number | null; longitude: number | null } {
    const h = hash(this.keys.place, a);
    const u = unit(h);
    if (u < NO_LOCATION) return { location: '', latitude: null, longitude: null };
    const p = pick(PLACES, hash(h, 1));
    if (u < NO_COORDINATES) {
      // Half of these are places that do have coordinates elsewhere in the bucket.
      const location = unit(hash(h, 2)) < 0.5 ? p[2] : pick(PLACES_WITHOUT_COORDINATES, hash(h, 3));
      return { location, latitude: null, longitude: null };
    }
    return { location: p[2], latitude: p[0], longitude: p[1] };
  }
}

function mojibakeIfNeeded(s: string): string {
  return isNonAscii(s) ? mojibake(s) : s;
}

function mix(h: number): number {
  return hash(h, 0x68e31da4);
}

function pick<T>(list: readonly T[], h: number): T {
  return list[h % list.length]!;
}

function idChars(h: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < 5; i++) {
    s += alphabet[h % alphabet.length];
    h = Math.floor(h / alphabet.length) ^ (i * 0x9e37);
  }
  return s;
}

function hex(x: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++, x = Math.floor(x / 16)) s = HEX[x % 16] + s;
  return s;
}

/** A plausible track length: log-normal around 3:45, clamped to 20 s–25 min. */
function duration(key: number, i: number): number {
  const h = hash(key, i);
  const z = (unit(h) + unit(mix(h)) + unit(hash(h, 2)) + unit(hash(h, 3)) - 2) * 1.7320508;
  const seconds = Math.min(1500, Math.max(20, 225 * Math.exp(0.42 * z)));
  return Math.floor(seconds * 1e5);
}

function songTitle(key: number, i: number): string {
  const h = hash(key, i);
  const w = (list: readonly string[], n: number) => pick(list, hash(h, n));
  const u = unit(h);
  let t: string;
  if (u < 0.04) t = unit(hash(h, 9)) < 0.5 ? `${w(NON_ASCII_WORDS, 1)} ${w(NOUNS, 2)}` : `${w(ADJECTIVES, 2)} ${w(NON_ASCII_WORDS, 1)}`;
  else if (u < 0.12) t = w(APOSTROPHE_PHRASES, 1);
  else if (u < 0.32) t = `${w(ADJECTIVES, 1)} ${w(NOUNS, 2)}`;
  else if (u < 0.47) t = w(NOUNS, 1);
  else if (u < 0.59) t = `${w(VERBS, 1)} My ${w(NOUNS, 2)}`;
  else if (u < 0.69) t = `${w(NOUNS, 1)} Of The ${w(NOUNS, 2)}`;
  else if (u < 0.77) t = w(VERBS, 1);
  else if (u < 0.8) t = `${w(NOUNS, 1)} / ${w(NOUNS, 2)}`;
  else t = `${w(ADJECTIVES, 1)} ${w(NOUNS, 2)} ${w(NOUNS, 3)}`;
  return unit(hash(h, 7)) < 0.15 ? `${t} ${w(VERSIONS, 8)}` : t;
}

function artistName(key: number, a: number): string {
  const h = hash(key, a);
  const w = (list: readonly string[], n: number) => pick(list, hash(h, n));
  const first = (n: number) => (hash(h, n + 100) & 1 ? w(FEMALE_NAMES, n) : w(MALE_NAMES, n));
  const plural = (s: string) => (s.endsWith('s') ? s : `${s}s`);
  const u = unit(h);
  if (u < 0.05) return unit(hash(h, 9)) < 0.5 ? `${w(NON_ASCII_WORDS, 1)} ${w(LAST_NAMES, 2)}` : `${first(1)} ${w(NON_ASCII_WORDS, 2)}`;
  if (u < 0.35) return `${first(1)} ${w(LAST_NAMES, 2)}`;
  if (u < 0.53) return `The ${w(ADJECTIVES, 1)} ${plural(w(NOUNS, 2))}`;
  if (u < 0.63) return `${w(ADJECTIVES, 1)} ${w(NOUNS, 2)}`;
  if (u < 0.71) return `${w(LAST_NAMES, 1)} ${w(ARTIST_WORDS, 2)}`;
  if (u < 0.77) return `${first(1)} ${w(LAST_NAMES, 2)} & The ${plural(w(NOUNS, 3))}`;
  if (u < 0.82) return `${first(1)} ${w(LAST_NAMES, 2)} featuring ${first(3)} ${w(LAST_NAMES, 4)}`;
  if (u < 0.86) return `DJ ${w(NOUNS, 1)}`;
  if (u < 0.88) return `${first(1)} ${w(LAST_NAMES, 2)}/${w(ARTIST_WORDS, 3)} ${w(LAST_NAMES, 4)}`;
  if (u < 0.9) return `${w(ADJECTIVES, 1)} ${w(NOUNS, 2)}`.toUpperCase();
  return `${w(NOUNS, 1)} ${w(NOUNS, 2)}`;
}
