// Figure builders: plain plotly specs (data + layout) that the notebooks display, the HTML reports
// embed and the PNG export renders. Plain JSON, so they are unit-tested as data.

export type Trace = Record<string, unknown>;
export type Figure = { data: Trace[]; layout: Record<string, unknown>; config?: Record<string, unknown> };

export type AxisTitles = { title: string; xTitle?: string; yTitle?: string; logY?: boolean };

const BASE_LAYOUT = {
  template: 'plotly_white',
  margin: { l: 60, r: 20, t: 50, b: 50 },
  font: { family: 'DejaVu Sans, Arial, sans-serif', size: 13 },
};

function layout(opts: AxisTitles, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...BASE_LAYOUT,
    title: { text: opts.title },
    // automargin: room for long or rotated tick labels, with the axis title below them, not on them
    xaxis: { title: { text: opts.xTitle ?? '' }, automargin: true },
    yaxis: { title: { text: opts.yTitle ?? '' }, automargin: true, ...(opts.logY ? { type: 'log' } : {}) },
    ...extra,
  };
}

export type Series = { name: string; x: number[]; y: number[] };

/** One line per series (loss curves, evaluation along training, throughput). */
export function lineChart(series: Series[], opts: AxisTitles): Figure {
  for (const s of series) {
    if (s.x.length !== s.y.length)
      throw new RangeError(`series "${s.name}": ${s.x.length} x values but ${s.y.length} y values`);
  }
  return {
    data: series.map((s) => ({
      type: 'scatter',
      mode: s.x.length > 1 ? 'lines' : 'markers',
      name: s.name,
      x: s.x,
      y: s.y,
    })),
    layout: layout(opts, { showlegend: series.length > 1 }),
  };
}

/** Bars by category (counts, lengths, scores); optional symmetric error bars or intervals, one per bar. */
export function barChart(
  categories: string[],
  values: number[],
  opts: AxisTitles & { errors?: number[]; intervals?: Array<{ lo: number; hi: number }>; horizontal?: boolean },
): Figure {
  if (categories.length !== values.length)
    throw new RangeError(`${categories.length} categories but ${values.length} values`);
  const trace: Trace = opts.horizontal
    ? { type: 'bar', orientation: 'h', y: categories, x: values }
    : { type: 'bar', x: categories, y: values };
  if (opts.errors) {
    if (opts.errors.length !== values.length)
      throw new RangeError(`${opts.errors.length} error bars for ${values.length} values`);
    trace[opts.horizontal ? 'error_x' : 'error_y'] = { type: 'data', array: opts.errors, visible: true };
  }
  if (opts.intervals) {
    if (opts.intervals.length !== values.length)
      throw new RangeError(`${opts.intervals.length} intervals for ${values.length} values`);
    const iv = opts.intervals;
    trace[opts.horizontal ? 'error_x' : 'error_y'] = {
      type: 'data',
      symmetric: false,
      array: iv.map((x, i) => x.hi - values[i]),
      arrayminus: iv.map((x, i) => values[i] - x.lo),
      visible: true,
    };
  }
  return { data: [trace], layout: layout(opts) };
}

/** Distribution of values (e.g. document lengths). */
export function histogram(values: number[], opts: AxisTitles & { bins?: number }): Figure {
  return {
    data: [{ type: 'histogram', x: values, ...(opts.bins ? { nbinsx: opts.bins } : {}) }],
    layout: layout(opts),
  };
}

// ---------------------------------------------------------------------------------------------
// Task coverage, gains, training curves, throughput, confusion. Inputs are plain records, so any
// stage (or a notebook) can build them without importing the stage that computed the numbers.

/** A qualitative palette (d3 category10 then tableau-like extras); families keep their colour everywhere. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#aec7e8',
  '#ffbb78',
  '#98df8a',
  '#ff9896',
  '#c5b0d5',
  '#c49c94',
];

/** One colour per id, in order; "other" is always grey. */
export function colourMap(ids: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  for (const id of ids) {
    if (id in out) continue;
    out[id] = id === 'other' ? '#b0b0b0' : PALETTE[i++ % PALETTE.length];
  }
  return out;
}

export type CategoryCount = { id: string; name?: string; family: string; familyName?: string; count: number };

/**
 * Families (inner ring) and their categories (outer ring), sized by count. Categories with a zero
 * count are left out (a sunburst cannot draw them); the title says how many categories appear.
 * Pass the taxonomy's family order so that a family keeps its colour in every figure.
 */
export function coverageSunburst(cats: CategoryCount[], opts: { title?: string; familyOrder?: string[] } = {}): Figure {
  const present = cats.filter((c) => c.count > 0);
  const allFamilies = [...new Set([...(opts.familyOrder ?? []), ...present.map((c) => c.family)])];
  const families = allFamilies.filter((f) => present.some((c) => c.family === f));
  const colours = colourMap(allFamilies);
  const familyTotal = (f: string) => present.filter((c) => c.family === f).reduce((s, c) => s + c.count, 0);
  const familyName = (f: string) => present.find((c) => c.family === f)?.familyName ?? f;
  const ids = [...families.map((f) => `family:${f}`), ...present.map((c) => `category:${c.id}`)];
  const labels = [...families.map(familyName), ...present.map((c) => c.name ?? c.id)];
  const parents = [...families.map(() => ''), ...present.map((c) => `family:${c.family}`)];
  const values = [...families.map(familyTotal), ...present.map((c) => c.count)];
  const colors = [...families.map((f) => colours[f]), ...present.map((c) => colours[c.family])];
  return {
    data: [
      {
        type: 'sunburst',
        ids,
        labels,
        parents,
        values,
        branchvalues: 'total',
        marker: { colors, line: { color: '#fff', width: 1 } },
        insidetextorientation: 'radial',
        hovertemplate: '%{label}<br>%{value} pairs (%{percentRoot:.1%})<extra></extra>',
      },
    ],
    layout: {
      ...BASE_LAYOUT,
      margin: { l: 10, r: 10, t: 50, b: 10 },
      title: { text: opts.title ?? `Task coverage: ${present.length} categories in ${families.length} families` },
    },
  };
}

/** Categories as horizontal bars, largest on top, coloured by family (one legend entry per family). */
export function coverageBar(
  cats: CategoryCount[],
  opts: { title?: string; top?: number; share?: boolean; familyOrder?: string[] } = {},
): Figure {
  const total = cats.reduce((s, c) => s + c.count, 0) || 1;
  const sorted = cats.filter((c) => c.count > 0).sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  const shown = opts.top ? sorted.slice(0, opts.top) : sorted;
  const allFamilies = [...new Set([...(opts.familyOrder ?? []), ...sorted.map((c) => c.family)])];
  const families = allFamilies.filter((f) => shown.some((c) => c.family === f));
  const colours = colourMap(allFamilies);
  const value = (c: CategoryCount) => (opts.share ? (100 * c.count) / total : c.count);
  const order = shown.map((c) => c.name ?? c.id).reverse();
  return {
    data: families.map((f) => {
      const inF = shown.filter((c) => c.family === f);
      return {
        type: 'bar',
        orientation: 'h',
        name: inF[0]?.familyName ?? f,
        y: inF.map((c) => c.name ?? c.id),
        x: inF.map(value),
        marker: { color: colours[f] },
        hovertemplate: opts.share ? '%{y}: %{x:.1f}%<extra></extra>' : '%{y}: %{x} pairs<extra></extra>',
      };
    }),
    layout: {
      ...BASE_LAYOUT,
      margin: { l: 200, r: 20, t: 50, b: 50 },
      title: { text: opts.title ?? (opts.top ? `Top ${shown.length} task categories` : 'Task categories') },
      xaxis: { title: { text: opts.share ? 'share of pairs (%)' : 'pairs' } },
      yaxis: { categoryorder: 'array', categoryarray: order, automargin: true },
      barmode: 'stack',
      height: Math.max(300, 22 * shown.length + 120),
      legend: { title: { text: 'family' }, traceorder: 'normal' },
    },
  };
}

/** Shares of categories in several pair sets side by side (grouped bars), e.g. two synthesizers. */
export function coverageComparison(
  sets: Array<{ name: string; categories: CategoryCount[] }>,
  opts: { title?: string; top?: number } = {},
): Figure {
  const totals = sets.map((s) => s.categories.reduce((a, c) => a + c.count, 0) || 1);
  const sumShare = new Map<string, number>();
  const names = new Map<string, string>();
  sets.forEach((s, i) => {
    for (const c of s.categories) {
      names.set(c.id, c.name ?? c.id);
      sumShare.set(c.id, (sumShare.get(c.id) ?? 0) + c.count / totals[i]);
    }
  });
  const ids = [...sumShare.entries()]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([id]) => id);
  const shown = opts.top ? ids.slice(0, opts.top) : ids;
  const colours = colourMap(sets.map((s) => s.name));
  return {
    data: sets.map((s, i) => {
      const byId = new Map(s.categories.map((c) => [c.id, c.count]));
      return {
        type: 'bar',
        name: s.name,
        x: shown.map((id) => names.get(id) ?? id),
        y: shown.map((id) => (100 * (byId.get(id) ?? 0)) / totals[i]),
        marker: { color: colours[s.name] },
        hovertemplate: `${s.name}<br>%{x}: %{y:.1f}%<extra></extra>`,
      };
    }),
    layout: {
      ...BASE_LAYOUT,
      margin: { l: 60, r: 20, t: 50, b: 150 },
      title: { text: opts.title ?? 'Task categories side by side' },
      barmode: 'group',
      xaxis: { tickangle: -45, automargin: true },
      yaxis: { title: { text: 'share of pairs (%)' } },
    },
  };
}

/** One arm's score (or gain) on one task, with its interval (lib/eval/stats.ts computes them). */
export type ArmInterval = { task: string; arm: string; mean: number; lo: number; hi: number };

function intervalBars(arms: string[], tasks: string[], scores: ArmInterval[]): Trace[] {
  const colours = colourMap(arms);
  return arms.map((arm) => {
    const byTask = new Map(scores.filter((s) => s.arm === arm).map((s) => [s.task, s]));
    const present = tasks.filter((t) => byTask.has(t));
    const at = (t: string) => byTask.get(t)!;
    return {
      type: 'bar',
      name: arm,
      x: present,
      y: present.map((t) => at(t).mean),
      error_y: {
        type: 'data',
        symmetric: false,
        array: present.map((t) => at(t).hi - at(t).mean),
        arrayminus: present.map((t) => at(t).mean - at(t).lo),
        visible: true,
      },
      customdata: present.map((t) => [at(t).lo, at(t).hi]),
      marker: { color: colours[arm] },
      hovertemplate: `${arm}<br>%{x}: %{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]<extra></extra>`,
    };
  });
}

/**
 * Scores per task with arms side by side, each with its interval as an error bar, and each task's
 * chance level drawn as a dashed black line across its bars (a score is read against chance, not against 0).
 */
export function scoreChart(
  scores: ArmInterval[],
  opts: AxisTitles & { chance: Record<string, number>; armOrder?: string[]; taskOrder?: string[] },
): Figure {
  const tasks = [...new Set([...(opts.taskOrder ?? []), ...scores.map((s) => s.task)])];
  const arms = [...new Set([...(opts.armOrder ?? []), ...scores.map((s) => s.arm)])];
  for (const t of tasks) if (!(t in opts.chance)) throw new RangeError(`scoreChart: no chance level for task "${t}"`);
  // a dash across each task's group of bars (category i spans i - 0.5 .. i + 0.5 on the axis), and a
  // legend entry for it
  const shapes = tasks.map((t, i) => ({
    type: 'line',
    xref: 'x',
    x0: i - 0.45,
    x1: i + 0.45,
    yref: 'y',
    y0: opts.chance[t],
    y1: opts.chance[t],
    line: { color: '#000', width: 2, dash: 'dash' },
  }));
  const chance: Trace = {
    type: 'scatter',
    mode: 'lines',
    name: 'chance',
    x: [null],
    y: [null],
    line: { color: '#000', width: 2, dash: 'dash' },
    hoverinfo: 'skip',
  };
  return {
    data: [...intervalBars(arms, tasks, scores), chance],
    layout: layout(opts, {
      barmode: 'group',
      showlegend: true,
      legend: { title: { text: 'arm' } },
      shapes,
      xaxis: { title: { text: opts.xTitle ?? '' }, type: 'category', categoryorder: 'array', categoryarray: tasks },
    }),
  };
}

/** Gains (arm minus baseline) per task with arms side by side, intervals as error bars, and a line at zero: a bar whose interval crosses it is within noise. */
export function gainsChart(
  gains: ArmInterval[],
  opts: AxisTitles & { armOrder?: string[]; taskOrder?: string[] },
): Figure {
  const tasks = [...new Set([...(opts.taskOrder ?? []), ...gains.map((s) => s.task)])];
  const arms = [...new Set([...(opts.armOrder ?? []), ...gains.map((s) => s.arm)])];
  return {
    data: intervalBars(arms, tasks, gains),
    layout: layout(opts, {
      barmode: 'group',
      showlegend: true,
      legend: { title: { text: 'arm' } },
      shapes: [
        { type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: 0, y1: 0, line: { color: '#000', width: 2 } },
      ],
    }),
  };
}

export type Curve = { step: number[]; value: number[] };

/** Training loss (solid) and evaluation (dashed, markers) per run, one colour per run. */
export function trainingCurves(runs: Array<{ name: string; train?: Curve; eval?: Curve }>, opts: AxisTitles): Figure {
  const colours = colourMap(runs.map((r) => r.name));
  const data: Trace[] = [];
  for (const r of runs) {
    for (const [kind, c] of [
      ['train', r.train],
      ['eval', r.eval],
    ] as const) {
      if (!c) continue;
      if (c.step.length !== c.value.length)
        throw new RangeError(`${r.name} ${kind}: ${c.step.length} steps but ${c.value.length} values`);
      data.push({
        type: 'scatter',
        mode: kind === 'eval' || c.step.length === 1 ? 'lines+markers' : 'lines',
        name: `${r.name} (${kind})`,
        legendgroup: r.name,
        x: c.step,
        y: c.value,
        line: { color: colours[r.name], dash: kind === 'eval' ? 'dash' : 'solid' },
      });
    }
  }
  return { data, layout: layout({ xTitle: 'step', yTitle: 'loss', ...opts }, { showlegend: true }) };
}

/** Throughput (e.g. tokens/s) per configuration over steps or time, one line per configuration. */
export function throughputChart(series: Series[], opts: Partial<AxisTitles> = {}): Figure {
  const fig = lineChart(series, {
    title: opts.title ?? 'Throughput',
    xTitle: opts.xTitle ?? 'step',
    yTitle: opts.yTitle ?? 'tokens / s',
    logY: opts.logY,
  });
  for (const t of fig.data) if ((t.x as number[]).length > 1) t.mode = 'lines+markers';
  fig.layout.showlegend = true;
  return fig;
}

/** A confusion table as a heatmap: rows gold labels, columns predicted labels. */
export function confusionHeatmap(labels: string[], matrix: number[][], opts: { title?: string } = {}): Figure {
  if (matrix.length !== labels.length || matrix.some((r) => r.length !== labels.length)) {
    throw new RangeError(`confusion matrix must be ${labels.length} x ${labels.length}`);
  }
  return {
    data: [
      {
        type: 'heatmap',
        x: labels,
        y: labels,
        z: matrix,
        // Empty cells white, then light to dark blue (named scales differ between plotly versions).
        colorscale: [
          [0, '#ffffff'],
          [1e-6, '#deebf7'],
          [1, '#08519c'],
        ],
        xgap: 1,
        ygap: 1,
        hovertemplate: 'gold %{y}<br>predicted %{x}<br>%{z} pairs<extra></extra>',
      },
    ],
    layout: {
      ...BASE_LAYOUT,
      margin: { l: 170, r: 20, t: 50, b: 170 },
      title: { text: opts.title ?? 'Confusion (rows: gold, columns: predicted)' },
      // Every label shown: plotly skips category ticks when they are crowded.
      xaxis: { tickangle: -60, automargin: true, tickmode: 'array', tickvals: labels, ticktext: labels },
      yaxis: { autorange: 'reversed', automargin: true, tickmode: 'array', tickvals: labels, ticktext: labels },
      height: Math.max(400, 18 * labels.length + 250),
    },
  };
}
