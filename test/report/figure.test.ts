// Figure builders are plain data: these tests read the specs, not pictures (the browser test draws them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  barChart,
  colourMap,
  confusionHeatmap,
  coverageBar,
  coverageComparison,
  coverageSunburst,
  gainsChart,
  histogram,
  lineChart,
  scoreChart,
  throughputChart,
  trainingCurves,
  type CategoryCount,
  type Trace,
} from '../../lib/report/figure.js';

const cats: CategoryCount[] = [
  { id: 'extractive-qa', family: 'qa', familyName: 'Question answering', count: 6 },
  { id: 'open-qa', family: 'qa', familyName: 'Question answering', count: 2 },
  { id: 'sentiment', family: 'cls', familyName: 'Classification', count: 3 },
  { id: 'emotion', family: 'cls', familyName: 'Classification', count: 0 },
  { id: 'other', family: 'other', familyName: 'Other', count: 1 },
];

test('the minimal core keeps its names and shapes', () => {
  const l = lineChart([{ name: 'loss', x: [1, 2], y: [3, 2] }], {
    title: 't',
    xTitle: 'step',
    yTitle: 'loss',
    logY: true,
  });
  assert.deepEqual(l.data, [{ type: 'scatter', mode: 'lines', name: 'loss', x: [1, 2], y: [3, 2] }]);
  assert.deepEqual(l.layout.yaxis, { title: { text: 'loss' }, automargin: true, type: 'log' });
  assert.throws(
    () => lineChart([{ name: 's', x: [1], y: [] }], { title: 't' }),
    /series "s": 1 x values but 0 y values/,
  );
  const b = barChart(['a', 'b'], [1, 2], { title: 't', errors: [0.1, 0.2], horizontal: true });
  assert.deepEqual(b.data[0], {
    type: 'bar',
    orientation: 'h',
    y: ['a', 'b'],
    x: [1, 2],
    error_x: { type: 'data', array: [0.1, 0.2], visible: true },
  });
  assert.deepEqual(histogram([1, 2, 2], { title: 'h', bins: 5 }).data, [
    { type: 'histogram', x: [1, 2, 2], nbinsx: 5 },
  ]);
});

test('coverage sunburst: families inside, categories outside, zero counts left out, totals consistent', () => {
  const fig = coverageSunburst(cats, { familyOrder: ['qa', 'cls', 'other'] });
  const t = fig.data[0] as Trace & {
    ids: string[];
    parents: string[];
    values: number[];
    labels: string[];
    marker: { colors: string[] };
  };
  assert.equal(t.type, 'sunburst');
  assert.equal(t.branchvalues, 'total');
  assert.deepEqual(t.ids, [
    'family:qa',
    'family:cls',
    'family:other',
    'category:extractive-qa',
    'category:open-qa',
    'category:sentiment',
    'category:other',
  ]);
  assert.deepEqual(t.parents, ['', '', '', 'family:qa', 'family:qa', 'family:cls', 'family:other']);
  assert.deepEqual(t.values, [8, 3, 1, 6, 2, 3, 1]);
  assert.deepEqual(t.labels, [
    'Question answering',
    'Classification',
    'Other',
    'extractive-qa',
    'open-qa',
    'sentiment',
    'other',
  ]);
  const colours = t.marker.colors;
  assert.equal(colours[0], colours[3]);
  assert.equal(colours[2], '#b0b0b0');
  assert.match(String((fig.layout.title as { text: string }).text), /4 categories in 3 families/);
});

test('coverage bar: largest first (top of the axis), one trace per family, optional top-n and shares', () => {
  const fig = coverageBar(cats, { top: 3, familyOrder: ['qa', 'cls', 'other'] });
  assert.deepEqual(
    fig.data.map((d) => d.name),
    ['Question answering', 'Classification'],
  );
  assert.deepEqual((fig.layout.yaxis as { categoryarray: string[] }).categoryarray, [
    'open-qa',
    'sentiment',
    'extractive-qa',
  ]);
  assert.deepEqual(fig.data[0].x, [6, 2]);
  const share = coverageBar(cats, { share: true });
  assert.deepEqual(
    share.data.flatMap((d) => d.x as number[]),
    [(100 * 6) / 12, (100 * 2) / 12, (100 * 3) / 12, (100 * 1) / 12],
  );
  assert.equal(colourMap(['qa', 'cls', 'other']).qa, (fig.data[0].marker as { color: string }).color);
});

test('coverage comparison: shares per set, categories ordered by summed share', () => {
  const fig = coverageComparison([
    {
      name: 'rules',
      categories: [
        { id: 'a', family: 'f', count: 3 },
        { id: 'b', family: 'f', count: 1 },
      ],
    },
    {
      name: 'tiny',
      categories: [
        { id: 'b', family: 'f', count: 3 },
        { id: 'c', family: 'f', count: 1 },
      ],
    },
  ]);
  assert.deepEqual(
    fig.data.map((d) => [d.name, d.x, d.y]),
    [
      ['rules', ['b', 'a', 'c'], [25, 75, 0]],
      ['tiny', ['b', 'a', 'c'], [75, 0, 25]],
    ],
  );
  assert.equal(fig.layout.barmode, 'group');
});

test('score chart: arms side by side per task, asymmetric intervals, a chance mark per task', () => {
  const fig = scoreChart(
    [
      { task: 'piqa', arm: 'vanilla', mean: 0.55, lo: 0.5, hi: 0.62 },
      { task: 'piqa', arm: 'instruct-pt', mean: 0.75, lo: 0.7, hi: 0.76 },
      { task: 'boolq', arm: 'instruct-pt', mean: 0.61, lo: 0.55, hi: 0.7 },
    ],
    { title: 'scores', yTitle: 'accuracy', armOrder: ['vanilla', 'instruct-pt'], chance: { piqa: 0.5, boolq: 0.5 } },
  );
  assert.equal(fig.layout.barmode, 'group');
  const bars = fig.data.filter((d) => d.type === 'bar');
  const round = (xs: number[]) => xs.map((x) => Number(x.toFixed(10)));
  assert.deepEqual(
    bars.map((d) => [
      d.name,
      d.x,
      d.y,
      round((d.error_y as { array: number[] }).array),
      round((d.error_y as { arrayminus: number[] }).arrayminus),
    ]),
    [
      ['vanilla', ['piqa'], [0.55], [0.07], [0.05]],
      ['instruct-pt', ['piqa', 'boolq'], [0.75, 0.61], [0.01, 0.09], [0.05, 0.06]],
    ],
  );
  assert.ok(
    fig.data.some((d) => d.name === 'chance'),
    'a legend entry for the chance lines',
  );
  const shapes = fig.layout.shapes as Array<{ x0: number; x1: number; y0: number; y1: number }>;
  assert.deepEqual(
    shapes.map((x) => [x.x0, x.x1, x.y0, x.y1]),
    [
      [-0.45, 0.45, 0.5, 0.5],
      [0.55, 1.45, 0.5, 0.5],
    ],
  );
  assert.deepEqual((fig.layout.xaxis as { categoryarray: string[] }).categoryarray, ['piqa', 'boolq']);
  assert.throws(
    () => scoreChart([{ task: 'x', arm: 'a', mean: 1, lo: 1, hi: 1 }], { title: 't', chance: {} }),
    /no chance level for task "x"/,
  );
});

test('bar chart intervals become asymmetric error bars', () => {
  const fig = barChart(['a', 'b'], [0.5, 0.3], {
    title: 't',
    intervals: [
      { lo: 0.4, hi: 0.55 },
      { lo: 0.3, hi: 0.5 },
    ],
  });
  const e = fig.data[0].error_y as { symmetric: boolean; array: number[]; arrayminus: number[] };
  assert.equal(e.symmetric, false);
  assert.deepEqual(
    [e.array.map((x) => Number(x.toFixed(10))), e.arrayminus.map((x) => Number(x.toFixed(10)))],
    [
      [0.05, 0.2],
      [0.1, 0],
    ],
  );
  assert.throws(() => barChart(['a'], [1], { title: 't', intervals: [] }), /0 intervals for 1 values/);
});

test('gains chart: intervals and a line at zero', () => {
  const fig = gainsChart([{ task: 'piqa', arm: 'ipt', mean: 0.02, lo: -0.01, hi: 0.05 }], { title: 'gains' });
  assert.deepEqual(
    (fig.data[0].error_y as { arrayminus: number[] }).arrayminus.map((x) => Number(x.toFixed(10))),
    [0.03],
  );
  const shapes = fig.layout.shapes as Array<{ y0: number; y1: number; xref: string }>;
  assert.deepEqual(
    shapes.map((x) => [x.xref, x.y0, x.y1]),
    [['paper', 0, 0]],
  );
});

test('training curves: train solid, eval dashed, one colour per run; throughput lines', () => {
  const fig = trainingCurves(
    [
      { name: 'vanilla', train: { step: [1, 2], value: [3, 2] }, eval: { step: [2], value: [2.5] } },
      { name: 'ipt', train: { step: [1, 2], value: [3.1, 1.9] } },
    ],
    { title: 'loss' },
  );
  assert.deepEqual(
    fig.data.map((d) => [d.name, (d.line as { dash: string }).dash, d.legendgroup]),
    [
      ['vanilla (train)', 'solid', 'vanilla'],
      ['vanilla (eval)', 'dash', 'vanilla'],
      ['ipt (train)', 'solid', 'ipt'],
    ],
  );
  assert.equal((fig.data[0].line as { color: string }).color, (fig.data[1].line as { color: string }).color);
  assert.notEqual((fig.data[0].line as { color: string }).color, (fig.data[2].line as { color: string }).color);
  assert.throws(
    () => trainingCurves([{ name: 'x', train: { step: [1], value: [] } }], { title: 't' }),
    /x train: 1 steps but 0 values/,
  );
  const tp = throughputChart([{ name: 'b16', x: [1, 2], y: [9000, 9500] }]);
  assert.equal(tp.data[0].mode, 'lines+markers');
  assert.deepEqual((tp.layout.yaxis as { title: { text: string } }).title.text, 'tokens / s');
});

test('confusion heatmap checks its shape', () => {
  const fig = confusionHeatmap(
    ['a', 'b'],
    [
      [1, 0],
      [2, 3],
    ],
  );
  assert.deepEqual(fig.data[0].z, [
    [1, 0],
    [2, 3],
  ]);
  assert.throws(() => confusionHeatmap(['a', 'b'], [[1, 0]]), /must be 2 x 2/);
});

test('figures are plain JSON (a round trip changes nothing)', () => {
  const fig = coverageSunburst(cats);
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
});
