/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the form every warehouse returns timestamps in. */
export function formatTimestampMs(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2018-11-01T21:01:46.796Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Integers as numbers while exact, else as bigint. */
export function normaliseBigint(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * A JSON replacer for values as warehouses return them (SqlValue): a bigint,
 * which JSON.stringify refuses, as its exact digits.
 *
 * @example
 *   JSON.stringify({ n: 9007199254740993n }, bigintAsText); // '{"n":"9007199254740993"}'
 */
export function bigintAsText(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
