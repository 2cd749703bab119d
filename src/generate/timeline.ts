/**
 * When sessions start. Activity over the period follows the sample's hourly
 * profile, quieter weekends and some day-to-day noise; a session that starts
 * after a share q of all events has been planned starts at the time by which
 * a share q of the period's activity has passed, so every day gets about its
 * share of events and the last day still fills up.
 */
import { hash, streamKey, unit } from './random.js';
import { HOURLY } from './vocabulary.js';

/** Relative activity by weekday, Sunday first (the sample's weekends are quieter). */
const WEEKDAY = [0.6, 1.1, 1.1, 1.1, 1.05, 1, 0.65];

/**
 * @example
 *   const t = new Timeline(1, 30, Date.UTC(2018, 10, 1));
 *   t.secondsAt(0.5); // about mid-month, in the afternoon
 */
export class Timeline {
  /** Cumulative activity at the start of each hour of the period. */
  private readonly cumulative: Float64Array;
  private readonly total: number;

  /** `days` from the UTC midnight `startMs`. */
  constructor(seed: number, days: number, startMs: number) {
    const key = streamKey(seed, 'days');
    const firstWeekday = new Date(startMs).getUTCDay();
    this.cumulative = new Float64Array(days * 24 + 1);
    let sum = 0;
    for (let d = 0; d < days; d++) {
      const day = WEEKDAY[(firstWeekday + d) % 7]! * (0.7 + 0.6 * unit(hash(key, d)));
      for (let h = 0; h < 24; h++) {
        this.cumulative[d * 24 + h] = sum;
        sum += day * HOURLY[h]!;
      }
    }
    this.cumulative[days * 24] = sum;
    this.total = sum;
  }

  /** Seconds from the start of the period, for a share q in [0, 1) of all activity. */
  secondsAt(q: number): number {
    const target = q * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.cumulative[mid]! <= target) lo = mid;
      else hi = mid - 1;
    }
    const width = this.cumulative[lo + 1]! - this.cumulative[lo]!;
    const within = width > 0 ? (target - this.cumulative[lo]!) / width : 0;
    return Math.min(lo * 3600 + Math.floor(within * 3600), this.end - 1);
  }

  /** The first second after the period. */
  get end(): number {
    return (this.cumulative.length - 1) * 3600;
  }
}
