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
    xaxis: { title: { text: opts.xTitle ?? '' } },
    yaxis: { title: { text: opts.yTitle ?? '' }, ...(opts.logY ? { type: 'log' } : {}) },
    ...extra,
  };
}

export type Series = { name: string; x: number[]; y: number[] };

/** One line per series (loss curves, evaluation along training, throughput). */
export function lineChart(series: Series[], opts: AxisTitles): Figure {
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new RangeError(`series "${s.name}": ${s.x.length} x values but ${s.y.length} y values`);
  }
  return {
    data: series.map((s) => ({ type: 'scatter', mode: s.x.length > 1 ? 'lines' : 'markers', name: s.name, x: s.x, y: s.y })),
    layout: layout(opts, { showlegend: series.length > 1 }),
  };
}

/** Bars by category (counts, lengths, scores); optional error bars of the same length. */
export function barChart(categories: string[], values: number[], opts: AxisTitles & { errors?: number[]; horizontal?: boolean }): Figure {
  if (categories.length !== values.length) throw new RangeError(`${categories.length} categories but ${values.length} values`);
  const trace: Trace = opts.horizontal
    ? { type: 'bar', orientation: 'h', y: categories, x: values }
    : { type: 'bar', x: categories, y: values };
  if (opts.errors) {
    if (opts.errors.length !== values.length) throw new RangeError(`${opts.errors.length} error bars for ${values.length} values`);
    trace[opts.horizontal ? 'error_x' : 'error_y'] = { type: 'data', array: opts.errors, visible: true };
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
