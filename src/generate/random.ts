/**
 * Deterministic randomness for the generator. Output must be byte-identical for
 * the same options on any machine, so nothing here touches Math.random or the
 * clock, and all integer mixing is done in 32-bit arithmetic (Math.imul).
 *
 * Two kinds are used: a sequential generator for the event simulation, and
 * stateless hashes for everything that must be re-derivable from an index
 * alone (song k, user u, outside song j), so catalogues never sit in memory.
 */

/** Scrambles a 32-bit integer (lowbias32, a well-mixed bijection on uint32). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A uint32 that depends only on (key, index): song k's title, user u's name.
 *
 * @example
 *   const h = hash(streamKey(seed, 'title'), 42);
 */
export function hash(key: number, index: number): number {
  // Indexes above 2^32 (never reached within the option caps) would fold.
  return mix32((key ^ mix32(index >>> 0)) + Math.floor(index / 4294967296));
}

/**
 * A key for one named purpose, so different attributes of item k are independent.
 *
 * @example
 *   const titles = streamKey(seed, 'title');
 */
export function streamKey(seed: number, name: string): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (let i = 0; i < name.length; i++) h = mix32(h ^ name.charCodeAt(i));
  return h;
}

/**
 * A uint32 as a fraction in [0, 1).
 *
 * @example
 *   if (unit(hash(key, k)) < 0.6) year = 0;
 */
export function unit(h: number): number {
  return h / 4294967296;
}

/**
 * A bijection on [0, 2^bits): distinct indexes give distinct values, which is
 * what keeps generated ids unique without remembering the ones already used.
 *
 * @example
 *   permute(7, 28, key).toString(16).padStart(7, '0');
 */
export function permute(x: number, bits: number, key: number): number {
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  const half = Math.ceil(bits / 2);
  x = (x ^ key) & mask;
  x = Math.imul(x, 0x2c1b3c6d | 1) & mask;
  x ^= x >>> half;
  x = Math.imul(x, 0x297a2d39 | 1) & mask;
  x ^= x >>> half;
  return x >>> 0;
}

/**
 * A bijection on [0, n) for any n (an affine map with a multiplier coprime to
 * n), to spread popular ranks over the whole catalogue or user list.
 *
 * @example
 *   const byRank = new Shuffle(users, streamKey(seed, 'user-rank'));
 *   byRank.at(0); // the most active user
 */
export class Shuffle {
  private readonly a: number;
  private readonly b: number;

  constructor(
    private readonly n: number,
    key: number,
  ) {
    let a = n > 1 ? 1 + (mix32(key) % (n - 1)) : 1;
    while (gcd(a, n) !== 1) a++;
    this.a = a;
    this.b = n > 0 ? mix32(key ^ 0x5bd1e995) % n : 0;
  }

  at(i: number): number {
    // a, i < 2^24 in practice; the product stays well inside 2^53.
    return (this.a * i + this.b) % this.n;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * A seeded sequential generator (sfc32: 128-bit state, fast, and its period is
 * far beyond the few billion draws a large run makes).
 *
 * @example
 *   const rng = new Rng(streamKey(1, 'events'));
 *   rng.below(6); // 0..5
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(key: number) {
    this.a = mix32(key ^ 0x243f6a88);
    this.b = mix32(key ^ 0x85a308d3);
    this.c = mix32(key ^ 0x13198a2e);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A fraction in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }
}
