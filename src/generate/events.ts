/**
 * The event logs, simulated as users' sessions in time order. Sessions start
 * one after another along the {@link Timeline}; each is planned whole when it
 * starts (pages from the session chain, songs, gaps) and its events are taken
 * from a heap of open sessions ordered by next timestamp, so lines come out
 * sorted by ts and go straight to the day's file. Memory holds only the open
 * sessions, never a day or the whole log.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Catalogue, NearMiss, Play } from './catalogue.js';
import { LOGGED_OUT, NEXT_SONG, playSession } from './chain.js';
import { pyFloatUnits, pyString } from './json-text.js';
import { Rng, Shuffle, streamKey } from './random.js';
import { ChunkedFile } from './sink.js';
import { type RenderedPlay, SessionHeap, line, linePieces } from './session.js';
import { Timeline } from './timeline.js';
import { LOGGED_OUT_TEXT, Users } from './users.js';

export interface EventPlan {
  /** The log_data folder. */
  dir: string;
  events: number;
  days: number;
  startMs: number;
  users: number;
  matchShare: number;
  seed: number;
  onProgress?: (done: number) => void;
}

/** What the log files hold. */
export interface EventCounts {
  logFiles: number;
  events: number;
  nextSongEvents: number;
  /** NextSong events equal to a song on title, artist name and duration. */
  matchedPlays: number;
  /** Events with auth "Logged Out" (and userId ""). */
  loggedOutEvents: number;
  /** Distinct non-empty userIds in the logs. */
  users: number;
  bytes: number;
}

/** No session in the sample is longer than 128 events; this only stops runaways. */
const MAX_SESSION = 1000;
/** Share of the plays that do not match which are near misses of a catalogue song. */
const NEAR_MISS_SHARE = 0.1;
const NEAR_MISSES: readonly NearMiss[] = ['rounded', 'rounded', 'other-artist', 'other-artist', 'other-title', 'mojibake'];
/** Higher is more skewed: a few users (and songs) get most of the activity. */
const USER_SKEW = 1.7;
const SONG_SKEW = 2;
const PROGRESS_EVERY = 1 << 16;
/** Plays of the most popular songs whose text is kept (a few MB at most). */
const CACHED_RANKS = 1 << 15;

/**
 * Writes `plan.events` events into day files under `plan.dir` and counts what
 * was written.
 *
 * @example
 *   const counts = await writeEvents({ dir: 'out/log_data', events: 1000, days: 30,
 *     startMs: Date.UTC(2018, 10, 1), users: 20, matchShare: 0.3, seed: 1 }, catalogue);
 */
export async function writeEvents(plan: EventPlan, catalogue: Catalogue): Promise<EventCounts> {
  const total = plan.events;
  const counts: EventCounts = { logFiles: 0, events: 0, nextSongEvents: 0, matchedPlays: 0, loggedOutEvents: 0, users: 0, bytes: 0 };
  if (total === 0) return counts;

  const rng = new Rng(streamKey(plan.seed, 'events'));
  const timeline = new Timeline(plan.seed, plan.days, plan.startMs);
  const users = new Users(plan.seed, plan.users, plan.startMs);
  const byRank = new Shuffle(plan.users, streamKey(plan.seed, 'user-rank'));
  const songByRank = catalogue.songs > 0 ? new Shuffle(catalogue.songs, streamKey(plan.seed, 'song-rank')) : undefined;
  const outsideByRank = new Shuffle(catalogue.outsideCount, streamKey(plan.seed, 'outside-rank'));
  const level = new Uint8Array(plan.users); // 0 not seen yet, 1 free, 2 paid
  const active = new Uint8Array(plan.users);
  const seen = new Uint8Array(plan.users);
  const heap = new SessionHeap();

  const pickUser = (): [number, number] | undefined => {
    for (let tries = 0; tries < 16; tries++) {
      const rank = Math.floor(plan.users * rng.float() ** USER_SKEW);
      const u = byRank.at(rank);
      if (!active[u]) return [u, rank];
    }
    // Most users are in a session: look for anyone idle.
    const from = rng.below(plan.users);
    for (let i = 0; i < plan.users; i++) {
      const u = (from + i) % plan.users;
      if (!active[u]) return [u, plan.users];
    }
    return undefined;
  };

  const render = (play: Play, matched: boolean): RenderedPlay => ({
    artist: pyString(play.artist, true),
    song: pyString(play.title, true),
    length: pyFloatUnits(play.units),
    units: play.units,
    matched,
  });

  // Popular songs are played again and again; their text is built once.
  const matchCache: RenderedPlay[] = [];
  const outsideCache: RenderedPlay[] = [];
  const choosePlay = (): RenderedPlay => {
    if (songByRank && rng.float() < plan.matchShare) {
      const rank = Math.floor(catalogue.songs * rng.float() ** SONG_SKEW);
      const cached = matchCache[rank];
      if (cached) return cached;
      const song = catalogue.song(songByRank.at(rank));
      const play = render({ artist: song.artistName, title: song.title, units: song.units }, true);
      if (rank < CACHED_RANKS) matchCache[rank] = play;
      return play;
    }
    if (songByRank && rng.float() < NEAR_MISS_SHARE) {
      const song = catalogue.song(songByRank.at(Math.floor(catalogue.songs * rng.float() ** SONG_SKEW)));
      return render(catalogue.nearMiss(song, NEAR_MISSES[rng.below(NEAR_MISSES.length)]!, rng.next()), false);
    }
    const rank = Math.floor(catalogue.outsideCount * rng.float() ** SONG_SKEW);
    const cached = outsideCache[rank];
    if (cached) return cached;
    const play = render(catalogue.outside(outsideByRank.at(rank)), false);
    if (rank < CACHED_RANKS) outsideCache[rank] = play;
    return play;
  };

  let planned = 0;
  let seq = 0;
  let sessionId = 1 + rng.below(9);
  let lastT = 0;
  let nextStart = timeline.secondsAt(rng.float() / total);

  const startSession = (user: number, rank: number): void => {
    const start = Math.max(nextStart, lastT);
    const paid = level[user] === 2 || (level[user] === 0 && users.startsPaid(user, rank));
    const steps: number[] = [];
    level[user] = playSession(rng, paid, Math.min(MAX_SESSION, total - planned), steps) ? 2 : 1;
    const times: number[] = [];
    const plays: (RenderedPlay | undefined)[] = [];
    let t = start;
    for (const step of steps) {
      times.push(t);
      if ((step & 15) === NEXT_SONG) {
        const play = choosePlay();
        plays.push(play);
        // The next page comes when the song ends, or earlier when it is skipped.
        const seconds = Math.floor(play.units / 100_000);
        t += rng.chance(0.05) ? rng.below(seconds) : seconds;
      } else {
        plays.push(undefined);
        t += Math.floor(rng.float() ** 2 * 400);
      }
    }
    squeeze(times, start, timeline.end - 1);
    const pieces = [linePieces(users.text(user), sessionId, false), linePieces(LOGGED_OUT_TEXT, sessionId, true)] as const;
    heap.push({ seq: seq++, id: sessionId, user, pieces, steps, times, plays, next: 0 });
    active[user] = 1;
    sessionId += rng.chance(0.15) ? 2 : 1;
    planned += steps.length;
    if (planned < total) nextStart = timeline.secondsAt((planned + rng.float()) / total);
  };

  let file: ChunkedFile | undefined;
  let day = -1;
  let first = true;
  const closeFile = async () => {
    if (!file) return;
    await file.close();
    counts.bytes += file.bytes;
    file = undefined;
  };

  try {
    while (counts.events < total) {
      const top = heap.peek();
      if (planned < total && (top === undefined || nextStart <= top.times[top.next]!)) {
        const picked = pickUser();
        if (picked) {
          startSession(picked[0], picked[1]);
          continue;
        }
        // Every user is in a session: let one finish first.
      }
      const s = top!;
      const i = s.next;
      const t = s.times[i]!;
      lastT = t;
      if (Math.floor(t / 86_400) !== day) {
        await closeFile();
        day = Math.floor(t / 86_400);
        file = await ChunkedFile.create(await dayFile(plan.dir, plan.startMs + day * 86_400_000));
        counts.logFiles++;
        first = true;
      }
      // No newline after the last line of a file, as in the course's logs.
      const wait = file!.add(line(s, i, plan.startMs + t * 1000 + 796, first));
      if (wait) await wait;
      first = false;

      const step = s.steps[i]!;
      if (step & LOGGED_OUT) counts.loggedOutEvents++;
      else if (!seen[s.user]) {
        seen[s.user] = 1;
        counts.users++;
      }
      const play = s.plays[i];
      if (play) {
        counts.nextSongEvents++;
        if (play.matched) counts.matchedPlays++;
      }
      counts.events++;
      if (counts.events % PROGRESS_EVERY === 0) plan.onProgress?.(counts.events);

      s.next++;
      if (s.next < s.steps.length) heap.replaceTop(s);
      else {
        heap.pop();
        active[s.user] = 0;
      }
    }
  } finally {
    await closeFile();
  }
  plan.onProgress?.(counts.events);
  return counts;
}

/** Compresses a session that would run past the period so it ends at `last`. */
function squeeze(times: number[], start: number, last: number): void {
  const end = times[times.length - 1]!;
  if (end <= last) return;
  const factor = (last - start) / (end - start);
  for (let i = 0; i < times.length; i++) times[i] = start + Math.floor((times[i]! - start) * factor);
}

async function dayFile(dir: string, dayMs: number): Promise<string> {
  const date = new Date(dayMs).toISOString().slice(0, 10);
  const folder = path.join(dir, date.slice(0, 4), date.slice(5, 7));
  await mkdir(folder, { recursive: true });
  return path.join(folder, `${date}-events.json`);
}
