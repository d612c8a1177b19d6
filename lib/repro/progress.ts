// Progress reporting for long work (downloads, synthesis, training, evaluation).
// In a terminal: a cli-progress bar with rate and ETA. In a Jupyter notebook (tslab kernel): one
// HTML progress bar per task, redrawn in place (lib/repro/notebook.ts), instead of a screen of
// stderr lines. Elsewhere (CI logs, pipes): one plain line every few seconds.
// IPT_PROGRESS=bar|lines|notebook|silent overrides the choice.
//
// Rate and ETA are shown only once there is a rate: at least `rateAfterSeconds` (1 s) of work and
// something done. A first update within that second sets the baseline instead of counting: an
// export's first document arrives after its setup (300 bytes in 0.05 s is not its speed), and a
// resumed run's first update reports the steps done before (not done at this speed).

import cliProgress from 'cli-progress';
import { inNotebook, newLiveDisplay, type LiveDisplay } from './notebook.js';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'notebook' | 'silent';
export type ProgressFields = Record<string, string | number>;

export type ProgressOptions = {
  label: string;
  total: number;
  unit?: string;
  mode?: ProgressMode;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Minimum seconds between two lines in 'lines' mode (default 5) or two redraws in 'notebook' mode (0.5). */
  everySeconds?: number;
  /** Seconds of work before a rate and an ETA are shown (default 1). */
  rateAfterSeconds?: number;
  /** Where 'notebook' mode draws (default: a new output of the running tslab cell). */
  display?: LiveDisplay;
  /** Format `value`/`total` as bytes (KB, MB, GB). */
  bytes?: boolean;
  now?: () => number;
};

export interface Progress {
  update(done: number, fields?: ProgressFields): void;
  increment(delta?: number, fields?: ProgressFields): void;
  setTotal(total: number): void;
  stop(): void;
}

const MODES: readonly string[] = ['bar', 'lines', 'notebook', 'silent'];

/**
 * The mode to use: an explicit mode, else IPT_PROGRESS, else 'notebook' inside a tslab kernel,
 * 'bar' on a terminal and 'lines' elsewhere. 'notebook' where no notebook output can be drawn falls
 * back to 'lines'.
 */
export function resolveMode(
  mode: ProgressMode | undefined,
  stream: { isTTY?: boolean },
  notebook: boolean = inNotebook(),
): Exclude<ProgressMode, 'auto'> {
  const env = process.env.IPT_PROGRESS ?? '';
  const chosen = mode && mode !== 'auto' ? mode : MODES.includes(env) ? (env as Exclude<ProgressMode, 'auto'>) : 'auto';
  if (chosen === 'notebook') return notebook ? 'notebook' : 'lines';
  if (chosen !== 'auto') return chosen;
  if (notebook) return 'notebook';
  return stream.isTTY ? 'bar' : 'lines';
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function formatFields(fields: ProgressFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`)
    .join(' ');
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One notebook output: an HTML <progress> bar and the same summary a terminal line shows. */
export function progressHtml(label: string, done: number, total: number, summary: string, finished: boolean): string {
  // no value attribute: an indeterminate bar, for work of unknown size
  const value = total > 0 ? ` value="${Math.min(done, total)}" max="${total}"` : '';
  return (
    `<div class="ipt-progress" style="font-family:monospace;font-size:12px;line-height:1.6;white-space:pre-wrap">` +
    `<progress${value} style="width:14em;height:1em;vertical-align:middle"></progress> ` +
    `<b>${escapeHtml(label)}</b>${finished ? ' ✓' : ''} ${escapeHtml(summary)}</div>`
  );
}

/**
 * A finished quick task's notebook output, lent to the next task of the same cell: an evaluation's
 * dozens of small tasks then redraw one line instead of leaving a finished bar each. A cell is
 * known by the stdout writer tslab installs for each execution, so a handle never crosses cells.
 * (Module state on purpose: it only ever holds one display handle of the running cell.)
 */
let spareDisplay: { display: LiveDisplay; cell: unknown } | null = null;
const QUICK_TASK_SECONDS = 3;

function notebookDisplay(): LiveDisplay | null {
  const spare = spareDisplay;
  spareDisplay = null;
  if (spare && spare.cell === process.stdout.write) return spare.display;
  return newLiveDisplay();
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  let mode = resolveMode(options.mode, stream, options.display !== undefined || inNotebook());
  const display = mode === 'notebook' ? (options.display ?? notebookDisplay()) : null;
  if (mode === 'notebook' && !display) mode = 'lines';
  const unit = options.unit ?? 'items';
  const now = options.now ?? (() => performance.now() / 1000);
  const rateAfter = options.rateAfterSeconds ?? 1;
  const fmtAmount = (n: number) => (options.bytes ? formatBytes(n) : formatNumber(n));
  let total = options.total;
  let done = 0;
  let fields: ProgressFields = {};
  const started = now();
  // the rate counts from here: the start, or a first update that came within rateAfter of it
  let base = { done: 0, t: started };
  let updated = false;
  const record = (value: number, f?: ProgressFields) => {
    if (!updated && now() - started < rateAfter) base = { done: value, t: now() };
    updated = true;
    done = value;
    if (f) fields = { ...fields, ...f };
  };

  if (mode === 'silent') {
    return { update() {}, increment() {}, setTotal() {}, stop() {} };
  }

  /** Rate and ETA texts, or null while there is no rate yet. */
  const describe = (): { rate: string; eta: string } | null => {
    const elapsed = now() - base.t;
    if (elapsed < rateAfter || done <= base.done) return null;
    const rate = (done - base.done) / elapsed;
    const eta = total > 0 ? (total - done) / rate : Number.NaN;
    const rateText = options.bytes ? `${formatBytes(rate)}/s` : `${formatNumber(rate)} ${unit}/s`;
    return { rate: rateText, eta: formatSeconds(eta) };
  };
  const rateAndEta = (): string => {
    const d = describe();
    return d ? ` | ${d.rate} | ETA ${d.eta}` : '';
  };
  /** Everything after the label: percentage, amounts, rate and ETA (once known), fields. */
  const summary = (finished = false): string => {
    const pct = total > 0 ? `${Math.floor((100 * done) / total)}% ` : '';
    const extra = formatFields(fields);
    const d = describe();
    const timing = finished ? ` | ${d ? `${d.rate} | ` : ''}${formatSeconds(now() - started)}` : rateAndEta();
    return `${pct}${fmtAmount(done)}/${fmtAmount(total)}${options.bytes ? '' : ' ' + unit}${timing}${extra ? ' | ' + extra : ''}`;
  };

  if (mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream,
        format: (opts, params, payload: { text?: string }) => {
          const width = opts.barsize ?? 30;
          const filled = Math.round(params.progress * width);
          const barText = '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
          const pct = Math.floor(params.progress * 100);
          return `${options.label} ${barText} ${pct}% ${fmtAmount(params.value)}/${fmtAmount(params.total)}${options.bytes ? '' : ' ' + unit}${rateAndEta()}${payload.text ? ' | ' + payload.text : ''}`;
        },
        hideCursor: false,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { text: '' });
    return {
      update(value, f) {
        record(value, f);
        bar.update(value, { text: formatFields(fields) });
      },
      increment(delta = 1, f) {
        this.update(done + delta, f);
      },
      setTotal(t) {
        total = t;
        bar.setTotal(t);
      },
      stop() {
        bar.update(done, { text: formatFields(fields) });
        bar.stop();
      },
    };
  }

  if (mode === 'notebook') {
    const out = display!;
    const every = options.everySeconds ?? 0.5;
    let lastDrawn = -Infinity;
    let stopped = false;
    const draw = (finished: boolean) => {
      out.html(progressHtml(options.label, done, total, summary(finished), finished));
      lastDrawn = now();
    };
    draw(false);
    return {
      update(value, f) {
        record(value, f);
        if (!stopped && now() - lastDrawn >= every) draw(false);
      },
      increment(delta = 1, f) {
        this.update(done + delta, f);
      },
      setTotal(t) {
        total = t;
      },
      stop() {
        if (stopped) return;
        stopped = true;
        draw(true);
        if (!options.display && now() - started < QUICK_TASK_SECONDS)
          spareDisplay = { display: out, cell: process.stdout.write };
      },
    };
  }

  const every = options.everySeconds ?? 5;
  let lastPrinted = -Infinity;
  const print = () => {
    stream.write(`${options.label}: ${summary()}\n`);
    lastPrinted = now();
  };
  return {
    update(value, f) {
      record(value, f);
      if (now() - lastPrinted >= every) print();
    },
    increment(delta = 1, f) {
      this.update(done + delta, f);
    },
    setTotal(t) {
      total = t;
    },
    stop() {
      print();
    },
  };
}
