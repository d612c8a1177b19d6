// Progress reporting for long work (downloads, synthesis, training, evaluation).
// In a terminal: a cli-progress bar with rate and ETA. Elsewhere (notebooks, CI logs, pipes):
// one plain line every few seconds, which Jupyter shows as it comes. IPT_PROGRESS=bar|lines|silent
// overrides the choice.

import cliProgress from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'silent';
export type ProgressFields = Record<string, string | number>;

export type ProgressOptions = {
  label: string;
  total: number;
  unit?: string;
  mode?: ProgressMode;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Minimum seconds between two lines in 'lines' mode. */
  everySeconds?: number;
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

export function resolveMode(mode: ProgressMode | undefined, stream: { isTTY?: boolean }): Exclude<ProgressMode, 'auto'> {
  const env = process.env.IPT_PROGRESS;
  const chosen = mode && mode !== 'auto' ? mode : env === 'bar' || env === 'lines' || env === 'silent' ? env : 'auto';
  if (chosen !== 'auto') return chosen;
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

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = resolveMode(options.mode, stream);
  const unit = options.unit ?? 'items';
  const now = options.now ?? (() => performance.now() / 1000);
  const fmtAmount = (n: number) => (options.bytes ? formatBytes(n) : formatNumber(n));
  let total = options.total;
  let done = 0;
  let fields: ProgressFields = {};
  const started = now();

  if (mode === 'silent') {
    return { update() {}, increment() {}, setTotal() {}, stop() {} };
  }

  const describe = (): { rate: string; eta: string } => {
    const elapsed = Math.max(now() - started, 1e-9);
    const rate = done / elapsed;
    const eta = rate > 0 && total > 0 ? (total - done) / rate : Number.NaN;
    const rateText = options.bytes ? `${formatBytes(rate)}/s` : `${formatNumber(rate)} ${unit}/s`;
    return { rate: rateText, eta: formatSeconds(eta) };
  };

  if (mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream,
        format: (opts, params, payload: { text?: string }) => {
          const width = opts.barsize ?? 30;
          const filled = Math.round(params.progress * width);
          const barText = '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
          const { rate, eta } = describe();
          const pct = Math.floor(params.progress * 100);
          return `${options.label} ${barText} ${pct}% ${fmtAmount(params.value)}/${fmtAmount(params.total)} ${options.bytes ? '' : unit} | ${rate} | ETA ${eta}${payload.text ? ' | ' + payload.text : ''}`;
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
        done = value;
        if (f) fields = { ...fields, ...f };
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

  const every = options.everySeconds ?? 5;
  let lastPrinted = -Infinity;
  const print = () => {
    const { rate, eta } = describe();
    const pct = total > 0 ? ` ${Math.floor((100 * done) / total)}%` : '';
    const extra = formatFields(fields);
    stream.write(
      `${options.label}:${pct} ${fmtAmount(done)}/${fmtAmount(total)}${options.bytes ? '' : ' ' + unit} | ${rate} | ETA ${eta}${extra ? ' | ' + extra : ''}\n`,
    );
    lastPrinted = now();
  };
  return {
    update(value, f) {
      done = value;
      if (f) fields = { ...fields, ...f };
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
