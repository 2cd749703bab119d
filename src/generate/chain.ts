/**
 * What a user does in one session: a Markov chain over pages, one chain for
 * free and one for paid users, with the transition counts measured on the
 * sample's 941 sessions (so the page mix, session lengths, the logged-out
 * detours after Logout and the free/paid differences come out as in the
 * course's logs). `END` closes the session.
 */
import type { Rng } from './random.js';

export const PAGES = [
  'NextSong', 'Home', 'Login', 'Logout', 'Downgrade', 'Settings', 'Help', 'About', 'Upgrade',
  'Save Settings', 'Error', 'Submit Upgrade', 'Submit Downgrade',
] as const;
export const NEXT_SONG = 0;
const SUBMIT_UPGRADE = PAGES.indexOf('Submit Upgrade');
const SUBMIT_DOWNGRADE = PAGES.indexOf('Submit Downgrade');

/** Per page, as in the sample: state changes are PUT with a 307 redirect, errors 404. */
export const METHOD: readonly string[] = PAGES.map((p) =>
  ['NextSong', 'Login', 'Logout', 'Save Settings', 'Submit Upgrade', 'Submit Downgrade'].includes(p) ? 'PUT' : 'GET',
);
export const STATUS: readonly number[] = PAGES.map((p) =>
  p === 'Error' ? 404 : ['Login', 'Logout', 'Save Settings', 'Submit Upgrade', 'Submit Downgrade'].includes(p) ? 307 : 200,
);

/** A step of a session: page index, `LOGGED_OUT` flag and `PAID` flag in one small integer. */
export const LOGGED_OUT = 16;
export const PAID = 32;
const END = -1;

// `out:` marks a logged-out state. Counts are the sample's, lightly smoothed.
const FREE_TABLE = `
  START: NextSong 405, Home 286, out:Login 10, out:Home 8, About 2, Help 1, Error 1
  NextSong: NextSong 616, END 539, Logout 26, Home 25, Upgrade 15, Help 3, About 2, Settings 2, Error 1
  Home: NextSong 195, END 142, Settings 11, Home 5, Upgrade 4, Logout 3, About 1
  About: END 4, Home 1, NextSong 1
  Error: END 1, NextSong 1
  Help: NextSong 3, END 2, Home 1
  Logout: out:Home 1
  Save Settings: Home 1, END 1
  Settings: NextSong 6, Save Settings 2, Home 2, Help 2, Settings 1, END 1
  Submit Upgrade: Home 1
  Upgrade: Submit Upgrade 8, Home 5, NextSong 3, END 3, Upgrade 2
  out:About: out:Login 2, END 2
  out:Help: out:Login 2, out:Help 2, END 1
  out:Home: out:Login 20, END 11, out:Home 9, out:About 4, out:Help 2
  out:Login: Home 1`;

const PAID_TABLE = `
  START: NextSong 102, Home 65, out:Home 46, out:Login 15
  NextSong: NextSong 5162, END 130, Home 118, Logout 52, Downgrade 50, Settings 31, Help 29, About 12, Error 7
  Home: NextSong 236, END 18, Settings 8, Logout 6, Downgrade 5, About 1
  About: END 6, About 4, NextSong 4, Home 3
  Downgrade: NextSong 35, END 11, Home 10, Downgrade 3, Submit Downgrade 1
  Error: END 5, Home 1, NextSong 1
  Help: NextSong 27, Downgrade 2, Home 1, Help 1, END 1
  Logout: out:Home 1
  Save Settings: Home 1
  Settings: NextSong 24, Save Settings 8, Settings 3, Logout 3, Home 2, Help 2
  Submit Downgrade: Home 1
  out:About: END 5, out:Home 2, out:Login 2, out:About 1
  out:Help: END 4, out:Help 1
  out:Home: END 55, out:Login 41, out:Home 16, out:About 9, out:Help 4
  out:Login: Home 1`;

interface Row {
  cumulative: number[];
  next: number[];
}

const START = 64;

function stateOf(name: string): number {
  if (name === 'START') return START;
  if (name === 'END') return END;
  const out = name.startsWith('out:');
  const page = PAGES.indexOf((out ? name.slice(4) : name) as (typeof PAGES)[number]);
  if (page < 0) throw new Error(`unknown page in the session table: ${name}`);
  return page | (out ? LOGGED_OUT : 0);
}

function parse(table: string): Map<number, Row> {
  const rows = new Map<number, Row>();
  for (const line of table.trim().split('\n')) {
    // State names may carry the `out:` prefix, so split at the colon after the name.
    const [, from, targets] = /^\s*((?:out:)?[A-Za-z ]+):\s+(.+)$/.exec(line)!;
    const row: Row = { cumulative: [], next: [] };
    let total = 0;
    for (const t of targets!.split(',')) {
      const [, name, count] = /^\s*(.+?)\s+(\d+)\s*$/.exec(t)!;
      total += Number(count);
      row.cumulative.push(total);
      row.next.push(stateOf(name!));
    }
    row.cumulative = row.cumulative.map((c) => c / total);
    rows.set(stateOf(from!), row);
  }
  return rows;
}

const CHAINS = [parse(FREE_TABLE), parse(PAID_TABLE)] as const;

function step(rows: Map<number, Row>, state: number, rng: Rng): number {
  const row = rows.get(state);
  if (!row) throw new Error(`no session transitions from state ${state}`);
  const u = rng.float();
  let i = 0;
  while (i < row.cumulative.length - 1 && u >= row.cumulative[i]!) i++;
  return row.next[i]!;
}

/**
 * Appends one session's steps to `steps` (at most `max`) for a user who starts
 * it at level `paid`, and returns the level the user has at the end (a
 * Submit Upgrade makes every later step paid, a Submit Downgrade free).
 *
 * @example
 *   const steps: number[] = [];
 *   const paidAfter = playSession(rng, false, 1000, steps);
 */
export function playSession(rng: Rng, paid: boolean, max: number, steps: number[]): boolean {
  let state = step(CHAINS[paid ? 1 : 0], START, rng);
  while (steps.length < max) {
    steps.push(state | (paid ? PAID : 0));
    const next = step(CHAINS[paid ? 1 : 0], state, rng);
    // The submit event itself still shows the old level; what follows, the new one.
    const page = state & 15;
    if (page === SUBMIT_UPGRADE) paid = true;
    else if (page === SUBMIT_DOWNGRADE) paid = false;
    if (next === END) break;
    state = next;
  }
  return paid;
}
