/**
 * The analytics report's figures on every warehouse that runs here, asserted
 * against values computed independently from the raw sample files in
 * JavaScript: the top song, the free/paid split, plays in a known hour, the
 * level changes, the browsers.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type Report } from '../src/analytics/report.js';
import { openWithSample } from './helpers/faults.js';
import { rawEvents } from './helpers/oracle.js';
import { testWarehouses, type OpenedTestWarehouse } from './warehouses.js';

const events = rawEvents();
const plays = events.filter((e) => e.page === 'NextSong');
const count = <K>(items: K[]) => items.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<K, number>());

for (const kind of testWarehouses()) {
  describe(`${kind.name}: the report`, () => {
    let ctx: OpenedTestWarehouse;
    let report: Report;
    const figure = (name: string) => report.figures.find((f) => f.name === name)!;
    beforeAll(async () => {
      ctx = await openWithSample(kind);
      report = await buildReport(ctx.warehouse);
    });
    afterAll(async () => ctx?.cleanup());

    it('names the most played songs and artists by the events, every play counted', () => {
      const songs = [...count(plays.map((p) => `${p.song}\u0000${p.artist}`))].sort((a, b) => b[1] - a[1]);
      expect(figure('top songs').rows[0]).toEqual({ song_title: "You're The One", artist_name: 'Dwight Yoakam', plays: songs[0]![1], matched: 0 });
      const artists = [...count(plays.map((p) => p.artist))].sort((a, b) => b[1] - a[1]);
      expect(figure('top artists').rows[0]).toMatchObject({ artist_name: artists[0]![0], plays: artists[0]![1] });
      expect(figure('top matched songs')).toMatchObject({ matchedOnly: true, rows: [{ plays: 1 }] });
      expect(report.match).toMatchObject({ matched: 1, 'artist only': 20, 'mis-encoded': 341, 'not in catalogue': 6458 });
    });

    it('splits plays by level, hour and weekday as the raw events do', () => {
      const levels = count(plays.map((p) => p.level));
      expect(figure('free and paid').rows.map((r) => [r.level, r.plays])).toEqual([
        ['paid', levels.get('paid')],
        ['free', levels.get('free')],
      ]);
      const hours = count(plays.map((p) => new Date(p.ts).getUTCHours()));
      expect(figure('plays by hour').rows.find((r) => r.hour === 16)).toEqual({ hour: 16, plays: hours.get(16) });
      const cells = figure('plays by weekday and hour').rows;
      expect(cells.reduce((n, r) => n + Number(r.plays), 0)).toBe(plays.length);
      const days = figure('plays by day').rows;
      expect(days).toHaveLength(new Set(plays.map((p) => new Date(p.ts).toISOString().slice(0, 10))).size);
    });

    it('finds every upgrade and downgrade in the order of the events', () => {
      const byUser = new Map<string, typeof events>();
      for (const e of events) if (e.userId !== '' && e.level) byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e]);
      let upgrades = 0;
      let downgrades = 0;
      for (const list of byUser.values()) {
        list.sort((a, b) => a.ts - b.ts || a.sessionId - b.sessionId || a.itemInSession - b.itemInSession);
        for (let i = 1; i < list.length; i++) {
          if (list[i]!.level === list[i - 1]!.level) continue;
          if (list[i]!.level === 'paid') upgrades++;
          else downgrades++;
        }
      }
      const changes = figure('level changes').rows;
      expect([changes.filter((r) => r.change === 'upgrade').length, changes.filter((r) => r.change === 'downgrade').length]).toEqual([upgrades, downgrades]);
      expect(upgrades).toBeGreaterThan(0);
    });

    it('tells browsers, systems and devices apart from the user agents', () => {
      const UAParser = createRequire(import.meta.url)('ua-parser-js') as new (ua: string) => { getResult(): { browser: { name?: string }; os: { name?: string } } };
      const agent = (ua: string) => (ua.startsWith('"') && ua.endsWith('"') ? ua.slice(1, -1) : ua);
      const browsers = count(plays.map((p) => new UAParser(agent(String(p.userAgent))).getResult().browser.name ?? 'unknown'));
      const top = [...browsers].sort((a, b) => b[1] - a[1])[0]!;
      expect(figure('browsers').rows[0]).toEqual({ browser: top[0], plays: top[1] });
      const systems = figure('operating systems').rows;
      expect(systems.reduce((n, r) => n + Number(r.plays), 0)).toBe(plays.length);
      expect(figure('sessions').rows[0]).toMatchObject({ users: new Set(plays.map((p) => p.userId)).size });
    });
  });
}
