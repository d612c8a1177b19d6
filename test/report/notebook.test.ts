// showTable: every row and every character of a table (danfojs' own print stops at 10 rows and
// 17 characters), escaped, from a DataFrame or from records; HTML in a notebook, text elsewhere.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { figureGridHtml, showTable, tableRows, wholeTableHtml } from '../../lib/report/notebook.js';
import { barChart } from '../../lib/report/figure.js';

afterEach(() => {
  delete (globalThis as { __tslab__?: unknown }).__tslab__;
});

const genres = Array.from({ length: 15 }, (_, i) => ({
  genre: `genre number ${i} with a long name <${i}>`,
  documents: 6 + i,
  share: (6 + i) / 500,
}));

test('a 15-row DataFrame with long cells is shown whole, in its column order', async () => {
  const dfd = await import('danfojs-node');
  const df = new dfd.DataFrame(genres.map((g) => ({ share: g.share, genre: g.genre, documents: g.documents })));
  assert.ok(!df.toString().includes('genre number 14'), 'danfojs print shows every row now: revisit this helper');
  const html = wholeTableHtml(df, { caption: 'Brown <genres>' });
  assert.equal((html.match(/<tr>/g) ?? []).length, 16, 'header and 15 rows');
  assert.ok(html.includes('<caption>Brown &lt;genres&gt;</caption>'));
  assert.ok(html.includes('>genre number 14 with a long name &lt;14&gt;</td>'));
  assert.ok(
    html.indexOf('>share</th>') < html.indexOf('>genre</th>') &&
      html.indexOf('>genre</th>') < html.indexOf('>documents</th>'),
  );
  assert.ok(
    html.includes('<td class="num" style="text-align:right;vertical-align:top">0.040</td>'),
    'numbers rounded to 3 digits',
  );
  assert.deepEqual(tableRows(df).rows[14], { share: 20 / 500, genre: genres[14].genre, documents: 20 });
});

test('records give the same table as the DataFrame of the same rows', async () => {
  const dfd = await import('danfojs-node');
  assert.equal(wholeTableHtml(genres, { digits: 2 }), wholeTableHtml(new dfd.DataFrame(genres), { digits: 2 }));
});

test('in a notebook the table is one HTML output; elsewhere aligned text on stdout, uncut', () => {
  const sent: string[] = [];
  const display = { html: (s: string) => sent.push(s), text: (s: string) => sent.push(s) };
  (globalThis as { __tslab__?: unknown }).__tslab__ = { require: () => ({ newDisplay: () => display, display }) };
  assert.equal(showTable(genres), undefined);
  assert.deepEqual(sent, [wholeTableHtml(genres)]);
  delete (globalThis as { __tslab__?: unknown }).__tslab__;

  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    showTable(genres.slice(13));
  } finally {
    process.stdout.write = write;
  }
  assert.equal(
    out,
    [
      'genre                                  documents  share',
      '-------------------------------------  ---------  -----',
      'genre number 13 with a long name <13>         19  0.038',
      'genre number 14 with a long name <14>         20  0.040',
      '',
    ].join('\n'),
  );
});

test('figures in a grid: one cell per figure, at most as many columns as figures, each of the given height', () => {
  const figs = [1, 2, 3].map((i) => barChart(['a'], [i], { title: `f${i}` }));
  const grid = figureGridHtml(figs, { height: 300 });
  assert.match(
    grid,
    /^<div class="ipt-figure-grid" style="display:grid;grid-template-columns:repeat\(2,minmax\(0,1fr\)\);/,
  );
  assert.equal((grid.match(/class="ipt-figure" style="width:100%;height:300px"/g) ?? []).length, 3);
  assert.match(figureGridHtml(figs.slice(0, 1), { columns: 3 }), /repeat\(1,/);
});
