// Progress display: rate and ETA only once there is a rate; inside a tslab kernel one HTML bar per
// task, redrawn in place (one display id), never a line per update; IPT_PROGRESS still decides.
// The kernel is stood in for by the global tslab gives cell code (`__tslab__.require('tslab')`);
// test/notebooks.test.ts checks the real kernel through nbclient.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, progressHtml, resolveMode } from '../../lib/repro/progress.js';
import { inNotebook, newLiveDisplay, showHtml } from '../../lib/repro/notebook.js';

type Sent = { id: string | undefined; html: string };

/** A stand-in for the kernel's tslab module: records what each display sends. */
function fakeKernel(): Sent[] {
  const sent: Sent[] = [];
  let next = 0;
  const displayWith = (id: string | undefined) => ({
    html: (s: string) => sent.push({ id, html: s }),
    text: (s: string) => sent.push({ id, html: `TEXT ${s}` }),
  });
  const tslab = { newDisplay: () => displayWith(`d${next++}`), display: displayWith(undefined) };
  (globalThis as { __tslab__?: unknown }).__tslab__ = { require: (id: string) => (id === 'tslab' ? tslab : null) };
  return sent;
}

const savedEnv = process.env.IPT_PROGRESS;
afterEach(() => {
  delete (globalThis as { __tslab__?: unknown }).__tslab__;
  if (savedEnv === undefined) delete process.env.IPT_PROGRESS;
  else process.env.IPT_PROGRESS = savedEnv;
});

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let written = '';
  return { stream: { write: (s: string) => ((written += s), true) } as never, text: () => written };
}

test('lines: no rate and no ETA before there is a rate (the first update comes right after the start)', () => {
  const out = capture();
  let t = 100;
  const p = createProgress({
    label: 'export',
    total: 30_000_000,
    bytes: true,
    mode: 'lines',
    everySeconds: 0,
    now: () => t,
    stream: out.stream,
  });
  t = 100.05;
  p.update(300);
  assert.equal(out.text(), 'export: 0% 300 B/30.0 MB\n');
  t = 102;
  p.update(10_000_000);
  p.stop();
  // the rate counts from the first update (setup time and its 300 bytes are not the speed)
  assert.deepEqual(out.text().split('\n').slice(1, 3), [
    'export: 33% 10.0 MB/30.0 MB | 5.1 MB/s | ETA 4s',
    'export: 33% 10.0 MB/30.0 MB | 5.1 MB/s | ETA 4s',
  ]);
});

test('a resumed task: the steps done before are counted, not timed', () => {
  const out = capture();
  let t = 0;
  const p = createProgress({
    label: 'train',
    total: 1000,
    unit: 'steps',
    mode: 'lines',
    everySeconds: 0,
    now: () => t,
    stream: out.stream,
  });
  p.update(600);
  t = 10;
  p.update(700);
  assert.equal(out.text(), 'train: 60% 600/1000 steps\ntrain: 70% 700/1000 steps | 10 steps/s | ETA 30s\n');
});

test('notebook: one display, drawn at the start, redrawn at most every everySeconds, and finished on stop', () => {
  delete process.env.IPT_PROGRESS; // the test runner sets it to silent
  const sent = fakeKernel();
  let t = 0;
  const p = createProgress({
    label: 'train <tiny>',
    total: 100,
    unit: 'steps',
    now: () => t,
    stream: { isTTY: true } as never,
  });
  for (let i = 1; i <= 100; i++) {
    t = i * 0.1; // 10 s of work, an update every 0.1 s
    p.update(i, { loss: 6 - i / 50 });
  }
  p.stop();
  p.stop();
  assert.ok(sent.length >= 20 && sent.length <= 23, `${sent.length} draws for 100 updates over 10 s`);
  assert.deepEqual([...new Set(sent.map((s) => s.id))], ['d0'], 'every draw goes to the same display');
  assert.equal(
    sent[0].html,
    '<div class="ipt-progress" style="font-family:monospace;font-size:12px;line-height:1.6;white-space:pre-wrap">' +
      '<progress value="0" max="100" style="width:14em;height:1em;vertical-align:middle"></progress> <b>train &lt;tiny&gt;</b> 0% 0/100 steps</div>',
  );
  const last = sent[sent.length - 1].html;
  assert.ok(
    last.includes('<progress value="100" max="100"') &&
      last.includes('<b>train &lt;tiny&gt;</b> ✓ 100% 100/100 steps | 10 steps/s | 10s | loss=4'),
    last,
  );
});

test('mode choice: a tslab kernel means notebook, unless IPT_PROGRESS or the caller says otherwise', () => {
  delete process.env.IPT_PROGRESS;
  assert.equal(inNotebook(), false);
  assert.equal(newLiveDisplay(), null);
  assert.equal(showHtml('<b>x</b>'), false);
  assert.equal(resolveMode('auto', { isTTY: true }), 'bar');
  assert.equal(resolveMode(undefined, {}), 'lines');
  assert.equal(resolveMode('notebook', {}), 'lines', 'no notebook to draw in: lines');
  const sent = fakeKernel();
  assert.equal(inNotebook(), true);
  assert.equal(resolveMode('auto', { isTTY: false }), 'notebook');
  assert.equal(resolveMode('silent', {}), 'silent');
  process.env.IPT_PROGRESS = 'lines';
  assert.equal(resolveMode('auto', {}), 'lines');
  process.env.IPT_PROGRESS = 'silent';
  createProgress({ label: 'x', total: 1 }).stop();
  assert.equal(sent.length, 0);
  assert.equal(showHtml('<b>x</b>'), true);
  assert.deepEqual(sent, [{ id: undefined, html: '<b>x</b>' }]);
});

test('notebook: quick tasks in a row share one output; a long task, or a new cell, gets its own', () => {
  delete process.env.IPT_PROGRESS;
  const sent = fakeKernel();
  let t = 0;
  const task = (label: string, seconds: number) => {
    const p = createProgress({ label, total: 2, now: () => t });
    t += seconds / 2;
    p.update(1);
    t += seconds / 2;
    p.update(2);
    p.stop();
  };
  task('eval a', 0.5);
  task('eval b', 0.5);
  task('eval c', 0.5);
  task('train', 60);
  task('eval d', 0.5);
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => write.call(process.stdout, s)) as typeof process.stdout.write; // tslab's next cell
  try {
    task('eval e', 0.5);
  } finally {
    process.stdout.write = write;
  }
  const ids = [...new Set(sent.map((s) => s.id))];
  assert.deepEqual(ids, ['d0', 'd1', 'd2']);
  const lastOf = (id: string) => sent.filter((s) => s.id === id).at(-1)!.html;
  assert.match(lastOf('d0'), /<b>train<\/b> ✓ 100%/, 'eval a-c shared d0, then train redrew it and kept it');
  assert.match(lastOf('d1'), /<b>eval d<\/b> ✓ 100%/);
  assert.match(lastOf('d2'), /<b>eval e<\/b> ✓ 100%/);
});

test('progressHtml: work of unknown size gets an indeterminate bar', () => {
  assert.ok(progressHtml('scan', 5, 0, '5 files', false).includes('<progress style='));
});
