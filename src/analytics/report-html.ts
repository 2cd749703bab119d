import type { Row } from '../warehouses/warehouse.js';
import type { Figure, Report } from './report.js';

/**
 * The report as one HTML page: charts drawn here by Vega-Lite into static SVG
 * (no script, no font or file fetched: the page works offline and opens
 * anywhere), a table beside each chart, and the match rate with why. Text from
 * the data is escaped.
 */

interface Chart {
  figure: string;
  title: string;
  /** A Vega-Lite spec without its data. */
  spec: Record<string, unknown>;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const CHARTS: Chart[] = [
  {
    figure: 'top songs',
    title: 'Most played songs',
    spec: {
      mark: 'bar',
      encoding: {
        y: { field: 'label', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 420 } },
        x: { field: 'plays', type: 'quantitative', title: 'plays' },
        color: {
          field: 'catalogue',
          type: 'nominal',
          title: null,
          scale: { domain: ['in the catalogue', 'not in the catalogue'], range: ['#1f77b4', '#9ecae1'] },
          legend: { labelLimit: 300, orient: 'bottom' },
        },
      },
    },
  },
  { figure: 'top artists', title: 'Most played artists', spec: { mark: 'bar', encoding: { y: { field: 'artist_name', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 420 } }, x: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
  { figure: 'plays by hour', title: 'Plays by hour of the day (UTC)', spec: { mark: 'bar', encoding: { x: { field: 'hour', type: 'ordinal', title: 'hour (UTC)' }, y: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
  { figure: 'plays by weekday', title: 'Plays by weekday', spec: { mark: 'bar', encoding: { x: { field: 'day', type: 'ordinal', sort: WEEKDAYS, title: null }, y: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
  {
    figure: 'plays by weekday and hour',
    title: 'When users listen: weekday × hour (UTC)',
    spec: {
      mark: 'rect',
      encoding: {
        x: { field: 'hour', type: 'ordinal', title: 'hour (UTC)' },
        y: { field: 'day', type: 'ordinal', sort: WEEKDAYS, title: null },
        color: { field: 'plays', type: 'quantitative', title: 'plays', scale: { scheme: 'blues' } },
      },
    },
  },
  { figure: 'plays by day', title: 'Plays per day', spec: { mark: { type: 'line', point: true }, encoding: { x: { field: 'date', type: 'temporal', title: null }, y: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
  { figure: 'free and paid', title: 'Plays by level', spec: { mark: 'bar', encoding: { x: { field: 'level', type: 'nominal', title: null }, y: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
  { figure: 'browsers', title: 'Browsers', spec: { mark: 'bar', encoding: { y: { field: 'browser', type: 'nominal', sort: '-x', title: null }, x: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
  { figure: 'operating systems', title: 'Operating systems', spec: { mark: 'bar', encoding: { y: { field: 'os', type: 'nominal', sort: '-x', title: null }, x: { field: 'plays', type: 'quantitative', title: 'plays' } } } },
];

/** Rows as a chart wants them: weekday names, dates, one label per song. */
function chartRows(figure: Figure): Row[] {
  return figure.rows.map((r) => {
    const out: Row = { ...r };
    if (r.weekday !== undefined) out.day = WEEKDAYS[Number(r.weekday)] ?? String(r.weekday);
    if (r.year !== undefined && r.month !== undefined && r.day !== undefined) {
      out.date = `${r.year}-${String(r.month).padStart(2, '0')}-${String(r.day).padStart(2, '0')}`;
    }
    if (r.song_title !== undefined) {
      out.label = `${String(r.song_title)} — ${String(r.artist_name)}`;
      out.catalogue = Number(r.matched) === 1 ? 'in the catalogue' : 'not in the catalogue';
    }
    return out;
  });
}

/** One chart as static SVG. */
async function svg(chart: Chart, rows: Row[]): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const values = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  const spec = vl.compile({ width: 560, data: { values }, ...chart.spec } as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const escape = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function table(figure: Figure, limit = 12): string {
  const rows = figure.rows.slice(0, limit);
  const head = figure.columns.map((c) => `<th>${escape(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${figure.columns.map((c) => `<td>${escape(r[c])}</td>`).join('')}</tr>`).join('\n');
  const more = figure.rows.length > rows.length ? `<p class="more">… and ${figure.rows.length - rows.length} more rows</p>` : '';
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${more}`;
}

/**
 * @example
 *   await writeFile('report.html', await reportHtml(await buildReport(wh), { warehouse: wh.description }));
 */
export async function reportHtml(report: Report, meta: { warehouse: string; generated?: Date }): Promise<string> {
  const total = Object.values(report.match).reduce((a, b) => a + b, 0);
  const sections: string[] = [];
  const reasons = Object.entries(report.match)
    .map(([reason, n]) => `<tr><td>${escape(reason)}</td><td>${n.toLocaleString('en-US')}</td><td>${total ? ((100 * n) / total).toFixed(2) : '0'}%</td></tr>`)
    .join('\n');
  sections.push(`<section id="match"><h2>Plays matched to the catalogue</h2>
<p>A play is matched when the catalogue has its title, artist and duration. Figures marked <em>matched plays only</em> rest on those; every other figure counts every play, by the title and artist of the event.</p>
<table><thead><tr><th>plays</th><th>count</th><th>share</th></tr></thead><tbody>\n${reasons}\n</tbody></table></section>`);
  for (const chart of CHARTS) {
    const figure = report.figures.find((f) => f.name === chart.figure);
    if (!figure) continue;
    sections.push(`<section id="${escape(figure.name.replace(/\W+/g, '-'))}"><h2>${escape(chart.title)}${figure.matchedOnly ? ' <em>(matched plays only)</em>' : ''}</h2>
<p>${escape(figure.description)}</p>
<figure>${await svg(chart, chartRows(figure))}</figure>
${chart.figure === 'plays by weekday and hour' || chart.figure === 'plays by day' ? '' : table(figure)}</section>`);
  }
  for (const name of ['top matched songs', 'most active users', 'top locations', 'level changes', 'sessions', 'devices']) {
    const figure = report.figures.find((f) => f.name === name);
    if (!figure) continue;
    sections.push(`<section id="${escape(name.replace(/\W+/g, '-'))}"><h2>${escape(name[0]!.toUpperCase() + name.slice(1))}${figure.matchedOnly ? ' <em>(matched plays only)</em>' : ''}</h2>
<p>${escape(figure.description)}</p>
${table(figure, name === 'level changes' ? 20 : 12)}</section>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sparkify: what users listen to</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { padding: 2px 10px; text-align: left; border-bottom: 1px solid #eee; }
figure { margin: .5rem 0; } figure svg { max-width: 100%; height: auto; } .more, .meta { color: #666; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } section { break-inside: avoid; } h2 { margin-top: 1.2rem; } }
</style></head>
<body>
<h1>Sparkify: what users listen to</h1>
<p class="meta">${escape(meta.warehouse)} · ${total.toLocaleString('en-US')} plays · made ${escape((meta.generated ?? new Date()).toISOString().slice(0, 16).replace('T', ' '))} UTC by sparkify report</p>
${sections.join('\n')}
</body></html>
`;
}
