/**
 * An open session and how its events become log lines. The parts of a line
 * that depend only on the user, the session or the page are built once per
 * session; a line is then a handful of concatenations, which matters at
 * millions of events.
 */
import { LOGGED_OUT, METHOD, PAGES, PAID, STATUS } from './chain.js';
import type { UserText } from './users.js';

/** A play as it goes into a line: JSON text, plus what the counts need. */
export interface RenderedPlay {
  artist: string;
  song: string;
  length: string;
  units: number;
  matched: boolean;
}

/** The constant stretches of a session's lines, logged in [0] and logged out [1]. */
export interface LinePieces {
  head: string;
  lastName: string;
  location: string;
  session: string;
  tail: string;
  /** From level to song, by step code (page and level), filled as needed. */
  middle: (string | undefined)[];
}

/** A user's session, planned whole when it starts; `next` is the event to write next. */
export interface Session {
  seq: number;
  id: number;
  user: number;
  pieces: readonly [LinePieces, LinePieces];
  steps: number[];
  /** Seconds from the start of the period. */
  times: number[];
  plays: (RenderedPlay | undefined)[];
  next: number;
}

const PAGE_TEXT = PAGES.map((page, i) => `${METHOD[i]}","page":"${page}",`);
const STATUS_TEXT = STATUS.map((status) => `,"status":${status},"ts":`);

/**
 * The text of a session's lines that stays the same from event to event.
 *
 * @example
 *   const pieces = [linePieces(users.text(u), 38, false), linePieces(LOGGED_OUT_TEXT, 38, true)] as const;
 */
export function linePieces(u: UserText, sessionId: number, out: boolean): LinePieces {
  return {
    head: `,"auth":"${out ? 'Logged Out' : 'Logged In'}",${u.names},"itemInSession":`,
    lastName: `,${u.lastName},"length":`,
    location: `",${u.location},"method":"`,
    session: `${u.registration},"sessionId":${sessionId},"song":`,
    tail: `,${u.agentAndId}}`,
    middle: [],
  };
}

/**
 * Event i of a session as the course's logs write it: keys in this order, no
 * spaces, and a newline before every line but a file's first.
 *
 * @example
 *   file.add(line(session, 0, 1541105830796, true));
 */
export function line(s: Session, i: number, ts: number, first: boolean): string {
  const step = s.steps[i]!;
  const page = step & 15;
  const t = s.pieces[step & LOGGED_OUT ? 1 : 0];
  const p = s.plays[i];
  // Fewer, longer pieces: every `+` is an allocation, and this runs per event.
  const middle = (t.middle[step] ??= (step & PAID ? ',"level":"paid' : ',"level":"free') + t.location + PAGE_TEXT[page] + t.session);
  return (
    (first ? '{"artist":' : '\n{"artist":') + (p ? p.artist : 'null') + t.head + i + t.lastName + (p ? p.length : 'null') +
    middle + (p ? p.song : 'null') + STATUS_TEXT[page] + ts + t.tail
  );
}

/**
 * Open sessions by the time of their next event (then by age, for a stable order).
 *
 * @example
 *   heap.push(session);
 *   const s = heap.peek(); s.next++; heap.replaceTop(s);
 */
export class SessionHeap {
  private readonly items: Session[] = [];

  peek(): Session | undefined {
    return this.items[0];
  }

  push(s: Session): void {
    const a = this.items;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) this.replaceTop(last);
  }

  /** Puts `s` at the top and restores the order (after the top session moved on). */
  replaceTop(s: Session): void {
    const a = this.items;
    a[0] = s;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

function before(a: Session, b: Session): boolean {
  const ta = a.times[a.next]!;
  const tb = b.times[b.next]!;
  return ta < tb || (ta === tb && a.seq < b.seq);
}
