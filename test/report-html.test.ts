/**
 * The HTML report opened in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core; no browser is downloaded): the charts render with
 * the expected marks and labels, nothing is logged as an error, nothing is
 * fetched. A screenshot is written to test-results/report.png for a person to
 * look at. `.ci/run` installs Chromium when it is missing; elsewhere, without
 * it, this file is skipped saying so.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../src/analytics/report.js';
import { reportHtml } from '../src/analytics/report-html.js';
import { openWithSample } from './helpers/faults.js';
import { ROOT } from './helpers/paths.js';
import { testWarehouse } from './warehouses.js';

const CHROMIUM = '/usr/bin/chromium';
const here = existsSync(CHROMIUM);
if (!here && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
if (!here) console.warn(`report-html.test.ts skipped: no ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!here)('the HTML report in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    const ctx = await openWithSample(testWarehouse('duckdb'));
    let html: string;
    try {
      html = await reportHtml(await buildReport(ctx.warehouse), { warehouse: 'DuckDB (the sample)', generated: new Date(Date.UTC(2026, 11, 1)) });
    } finally {
      await ctx.cleanup();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });
    const out = path.join(ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'report.png'), await page.screenshot({ fullPage: true }));
  }, 120_000);
  afterAll(async () => browser?.close());

  const marks = (section: string, kind: string) => page.locator(`section#${section} g.mark-${kind} > path`).count();
  const labels = (section: string) => page.locator(`section#${section} svg text`).allTextContents();

  it('renders every chart as SVG, with the marks the data has', async () => {
    expect(await page.locator('figure > svg').count()).toBe(9);
    expect(await marks('plays-by-hour', 'rect')).toBe(24);
    expect(await marks('plays-by-weekday', 'rect')).toBe(7);
    expect(await marks('top-songs', 'rect')).toBe(10);
    // The heat map: one cell per weekday and hour that had plays.
    expect(await marks('plays-by-weekday-and-hour', 'rect')).toBeGreaterThan(140);
    expect(await page.locator('section#plays-by-day g.mark-symbol > path').count()).toBe(30);
  });

  it('labels them: songs by title and artist (repaired), weekdays, hours, levels', async () => {
    const songs = await labels('top-songs');
    expect(songs).toContain("You're The One — Dwight Yoakam");
    expect(songs).toContain('Undo — Björk');
    expect(await labels('plays-by-weekday')).toEqual(expect.arrayContaining(['Sun', 'Mon', 'Sat']));
    expect(await labels('plays-by-hour')).toEqual(expect.arrayContaining(['0', '16', '23', 'hour (UTC)']));
    expect(await labels('free-and-paid')).toEqual(expect.arrayContaining(['paid', 'free']));
    expect(await page.locator('section#match').textContent()).toContain('not in catalogue');
  });

  it('logs no error and fetches nothing', () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });
});
