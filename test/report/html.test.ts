// HTML pieces: figure divs survive hostile strings, the compressed bundle is the bundle, tables are
// escaped and aligned, DataFrames print readably, and reports are deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  figureDiv,
  frameHtml,
  frameRecords,
  paragraphsHtml,
  plotlyBundle,
  plotlyBundleGzipBase64,
  plotlyLoaderHtml,
  plotlyScripts,
  standaloneHtml,
  tableHtml,
  textTable,
} from '../../lib/report/html.js';
import { renderReport, writeReport } from '../../lib/report/report.js';
import { barChart } from '../../lib/report/figure.js';

test('figureDiv: data cannot close the script element; the height follows the layout', () => {
  const fig = barChart(['</script><b>x</b>'], [1], { title: '<img src=x onerror=alert(1)>' });
  fig.layout.height = 333;
  const html = figureDiv(fig, { id: 'f1' });
  assert.ok(html.startsWith('<div id="f1" class="ipt-figure" style="width:100%;height:333px"></div>'));
  assert.ok(!html.slice(html.indexOf('<script>') + 8).includes('</script><b>'));
  assert.equal((html.match(/<\/script>/g) ?? []).length, 1);
  assert.ok(html.includes('\\u003c/script\\u003e'));
});

test('the compressed loader carries exactly the plotly bundle', () => {
  const b64 = plotlyBundleGzipBase64();
  assert.equal(gunzipSync(Buffer.from(b64, 'base64')).toString('utf8'), plotlyBundle());
  assert.ok(b64.length < plotlyBundle().length / 3, `compressed ${b64.length} vs ${plotlyBundle().length}`);
  const loader = plotlyLoaderHtml();
  assert.ok(loader.includes(b64) && loader.includes("DecompressionStream('gzip')"));
  assert.ok(loader.length < 3_000_000);
  const plain = plotlyScripts({ compress: false });
  assert.ok(plain.length > plotlyBundle().length && !plain.includes('DecompressionStream'));
  assert.equal((plain.match(/<\/script>/gi) ?? []).length, 2, 'the bundle itself must not close its script element');
});

test('tables: HTML escaped with numbers right-aligned; text aligned with long cells cut', () => {
  const rows = [
    { name: '<b>a</b>', n: 1, x: 0.12345 },
    { name: 'line\nbreak', n: 22, x: null },
  ];
  const L = ' style="text-align:left;vertical-align:top"';
  const R = ' class="num" style="text-align:right;vertical-align:top"';
  assert.equal(
    tableHtml(rows, { caption: 'T', digits: 2 }),
    `<table class="ipt-table"><caption>T</caption><thead><tr><th${L}>name</th><th${L}>n</th><th${L}>x</th></tr></thead>\n<tbody>` +
      `<tr><td${L}>&lt;b&gt;a&lt;/b&gt;</td><td${R}>1</td><td${R}>0.12</td></tr>\n` +
      `<tr><td${L}>line<br>break</td><td${R}>22</td><td${L}></td></tr></tbody></table>`,
  );
  assert.equal(
    textTable(rows, { maxWidth: 8 }),
    ['name       n      x', '--------  --  -----', '<b>a</b>   1  0.123', 'line⏎br…  22', ''].join('\n'),
  );
  assert.match(textTable(rows, { maxRows: 1 }), /… 1 more rows\n$/);
  assert.equal(paragraphsHtml('a <b>\n\n second'), '<p>a &lt;b&gt;</p>\n<p>second</p>');
});

test('a danfojs DataFrame becomes a full-width table (its own print cuts cells at 17 characters)', async () => {
  const dfd = await import('danfojs-node');
  const df = new dfd.DataFrame([{ category: 'temporal-reasoning', family: 'Question answering', pairs: 3 }]);
  assert.deepEqual(frameRecords(df), [{ category: 'temporal-reasoning', family: 'Question answering', pairs: 3 }]);
  assert.ok(
    frameHtml(df).includes(
      '>Question answering</td><td class="num" style="text-align:right;vertical-align:top">3</td>',
    ),
  );
  assert.ok(df.toString().includes('Question answer…'), 'danfojs truncation changed: revisit the README note');
});

test('reports: sections in order, deterministic ids, atomic write', () => {
  const report = {
    title: 'R & D',
    subtitle: 'sub',
    sections: [
      { kind: 'heading' as const, text: 'One' },
      { kind: 'figure' as const, figure: barChart(['a'], [1], { title: 'f' }), caption: 'cap' },
      { kind: 'table' as const, rows: [{ a: 1 }] },
      { kind: 'html' as const, html: '<hr>' },
    ],
  };
  const html = renderReport(report);
  assert.equal(html, renderReport(report));
  assert.ok(html.includes('<title>R &amp; D</title>'));
  const order = [
    '<p class="ipt-caption">sub</p>',
    '<h2>One</h2>',
    'id="ipt-figure-1"',
    '<p class="ipt-caption">cap</p>',
    '<table class="ipt-table">',
    '<hr>',
  ].map((s) => html.indexOf(s));
  assert.ok(
    order.every((p, i) => p > 0 && (i === 0 || p > order[i - 1])),
    String(order),
  );
  assert.equal(standaloneHtml('x', []).includes('DecompressionStream'), true);
  const dir = mkdtempSync(join(tmpdir(), 'ipt-report-'));
  try {
    const out = writeReport(join(dir, 'sub', 'r.html'), report, { compress: false });
    assert.equal(readFileSync(out.path, 'utf8'), renderReport(report, { compress: false }));
    assert.ok(out.bytes > 10_000_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
