/**
 * Users as pure functions of their index, and the pieces of an event line
 * that depend only on the user (pre-escaped once per session).
 */
import { pyFloat, pyString } from './json-text.js';
import { hash, streamKey, unit } from './random.js';
import { FEMALE_NAMES, LAST_NAMES, MALE_NAMES, USER_AGENTS, USER_LOCATIONS } from './vocabulary.js';

/** The JSON text of a user's fields, in the order the event lines need them. */
export interface UserText {
  /** `"firstName":…,"gender":…` */
  names: string;
  /** `"lastName":…` */
  lastName: string;
  /** `"location":…` */
  location: string;
  /** `"registration":…` */
  registration: string;
  /** `"userAgent":…,"userId":"…"` */
  agentAndId: string;
}

/** What a logged-out event has in place of the user's fields. */
export const LOGGED_OUT_TEXT: UserText = {
  names: '"firstName":null,"gender":null',
  lastName: '"lastName":null',
  location: '"location":null',
  registration: '"registration":null',
  agentAndId: '"userAgent":null,"userId":""',
};

/** Registrations fall in the weeks before the first day, as in the sample. */
const REGISTRATION_WINDOW_S = 20 * 86_400;

/**
 * @example
 *   const users = new Users(seed, 100, Date.UTC(2018, 10, 1));
 *   users.id(0); // '1'
 */
export class Users {
  private readonly key: number;

  constructor(
    seed: number,
    readonly count: number,
    private readonly startMs: number,
  ) {
    this.key = streamKey(seed, 'users');
  }

  /** The user id as the logs write it (a string of digits). */
  id(u: number): string {
    return String(u + 1);
  }

  /**
   * User u's fields as JSON text.
   *
   * @example
   *   new Users(1, 100, Date.UTC(2018, 10, 1)).text(0).lastName; // '"lastName":"Frye"'
   */
  text(u: number): UserText {
    const h = hash(this.key, u);
    const at = (list: readonly string[], n: number) => list[hash(h, n) % list.length]!;
    const female = unit(h) < 0.57;
    // Popular agents and places first, as in the sample, hence the skew.
    const agent = USER_AGENTS[Math.floor(USER_AGENTS.length * unit(hash(h, 3)) ** 1.8)]!;
    const location = USER_LOCATIONS[Math.floor(USER_LOCATIONS.length * unit(hash(h, 4)) ** 1.5)]!;
    // The course's agents were written through CSV, which quoted those with a comma.
    const quoted = agent.includes(',') ? `"${agent}"` : agent;
    const registered = this.startMs - (1 + (hash(h, 5) % REGISTRATION_WINDOW_S)) * 1000 + 796;
    return {
      names: `"firstName":${pyString(at(female ? FEMALE_NAMES : MALE_NAMES, 1), true)},"gender":"${female ? 'F' : 'M'}"`,
      lastName: `"lastName":${pyString(at(LAST_NAMES, 2), true)}`,
      location: `"location":${pyString(location, true)}`,
      registration: `"registration":${pyFloat(registered)}`,
      agentAndId: `"userAgent":${pyString(quoted, true)},"userId":"${this.id(u)}"`,
    };
  }

  /** Whether user u starts out paying; the most active users pay more often, as in the sample. */
  startsPaid(u: number, rank: number): boolean {
    return unit(hash(this.key ^ 0x3c6ef372, u)) < (rank < this.count / 10 ? 0.5 : 0.15);
  }
}
