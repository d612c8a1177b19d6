// Figures for benchmark results (notebook 08): scores of models side by side with 95% intervals and
// each task's chance level drawn across its bars; paired differences between two models with their
// intervals, coloured by whether the interval excludes zero (a gain or a loss) or not (noise).

import type { PairedGain } from '../eval/suites/compare.js';
import { colourMap, type Figure } from './figure.js';

export type ModelScore = { task: string; model: string; value: number; stderr: number | null; chance: number | null };

const LAYOUT = {
  template: 'plotly_white',
  margin: { l: 60, r: 20, t: 50, b: 90 },
  font: { family: 'DejaVu Sans, Arial, sans-serif', size: 13 },
};

/** Grouped bars per task (one per model), 95% error bars, a dotted chance line over each task. */
export function benchmarkScoresChart(
  scores: ModelScore[],
  opts: { title: string; yTitle?: string; z?: number },
): Figure {
  const z = opts.z ?? 1.96;
  const tasks = [...new Set(scores.map((s) => s.task))];
  const models = [...new Set(scores.map((s) => s.model))];
  const colours = colourMap(models);
  const data = models.map((model) => {
    const mine = new Map(scores.filter((s) => s.model === model).map((s) => [s.task, s]));
    const present = tasks.filter((t) => mine.has(t));
    return {
      type: 'bar',
      name: model,
      x: present,
      y: present.map((t) => mine.get(t)!.value),
      error_y: { type: 'data', array: present.map((t) => z * (mine.get(t)!.stderr ?? 0)), visible: true },
      marker: { color: colours[model] },
      hovertemplate: `${model}<br>%{x}: %{y:.3f} (±%{error_y.array:.3f}, 95% interval)<extra></extra>`,
    };
  });
  const chance = new Map<string, number>();
  for (const s of scores) if (s.chance !== null && !chance.has(s.task)) chance.set(s.task, s.chance);
  const shapes = tasks.flatMap((t, i) =>
    chance.has(t)
      ? [
          {
            type: 'line',
            xref: 'x',
            yref: 'y',
            x0: i - 0.45,
            x1: i + 0.45,
            y0: chance.get(t)!,
            y1: chance.get(t)!,
            line: { color: '#444', width: 2, dash: 'dot' },
          },
        ]
      : [],
  );
  return {
    data,
    layout: {
      ...LAYOUT,
      title: { text: opts.title },
      barmode: 'group',
      xaxis: { title: { text: '' }, type: 'category', categoryorder: 'array', categoryarray: tasks },
      yaxis: { title: { text: opts.yTitle ?? 'score (dotted: chance)' }, rangemode: 'tozero' },
      shapes,
      showlegend: true,
    },
  };
}

const VERDICT_COLOUR: Record<PairedGain['verdict'], string> = {
  gain: '#2a9d4b',
  loss: '#c0392b',
  'within noise': '#888888',
};

/** Paired differences (model A minus model B) per task with their intervals, and a zero line. */
export function pairedGainsChart(rows: PairedGain[], opts: { title: string; a: string; b: string }): Figure {
  const tasks = rows.map((r) => r.task);
  return {
    data: (['gain', 'loss', 'within noise'] as const).flatMap((verdict) => {
      const mine = rows.filter((r) => r.verdict === verdict);
      if (mine.length === 0) return [];
      return [
        {
          type: 'scatter',
          mode: 'markers',
          name: verdict,
          x: mine.map((r) => r.task),
          y: mine.map((r) => r.diff),
          error_y: {
            type: 'data',
            symmetric: false,
            array: mine.map((r) => (r.hi === null ? 0 : r.hi - r.diff)),
            arrayminus: mine.map((r) => (r.lo === null ? 0 : r.diff - r.lo)),
            visible: true,
          },
          marker: { color: VERDICT_COLOUR[verdict], size: 10 },
          customdata: mine.map((r) => [r.n, r.metric]),
          hovertemplate: '%{x}: %{y:+.3f} (n=%{customdata[0]}, %{customdata[1]})<extra></extra>',
        },
      ];
    }),
    layout: {
      ...LAYOUT,
      title: { text: opts.title },
      xaxis: { title: { text: '' }, type: 'category', categoryorder: 'array', categoryarray: tasks },
      yaxis: { title: { text: `${opts.a} minus ${opts.b} (paired, 95% interval)` }, zeroline: true, zerolinewidth: 2 },
      showlegend: true,
    },
  };
}
