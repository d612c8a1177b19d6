#!/usr/bin/env node
// Notebooks are committed without outputs: an executed notebook carries plotly.js inlined once
// (about 2.6 MB) and every figure's data, which would make every run a large diff. Jupyter writes
// the outputs into the .ipynb file itself, so git is kept out of them by a clean filter that runs
// this script (.gitattributes: `notebooks/*.ipynb filter=ipt-strip-outputs`), configured in the
// checkout by `npm run notebook` (env/notebook.sh) or env/setup.sh, or by hand:
//   git config filter.ipt-strip-outputs.clean "node env/strip-notebook.mjs"
//   git config filter.ipt-strip-outputs.smudge cat
// Your file keeps its outputs; git sees (and `git diff` shows) the notebook without them. `git status`
// trusts file sizes and lists a notebook you ran until `git add notebooks/` (which stages nothing)
// refreshes its record.
//
//   node env/strip-notebook.mjs < in.ipynb > out.ipynb     the filter: stdin to stdout
//   node env/strip-notebook.mjs FILE...                     strip files in place, and give cells
//                                                           without an id one (see below)
//
// Removed: code cells' outputs and execution counts, the run-time cell metadata Jupyter and
// nbclient add (execution timings, collapsed/scrolled), and what the kernel reports about its
// language beyond its name. Sources are kept as one string per cell (Jupyter saves a list of
// lines; both mean the same). Written as Jupyter writes (keys sorted, one-space indent, UTF-8) with
// a final newline, as the committed notebooks are. Input that is not a notebook (a merge in progress) passes unchanged.
//
// Cell ids (nbformat 4.5) must be committed: Jupyter gives a cell without one a random id on every
// save, which no filter can undo. The filter keeps ids as they are; the file mode adds missing ones.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const RUNTIME_METADATA = ['execution', 'collapsed', 'scrolled'];

function stripNotebook(text, { addIds = false } = {}) {
  let nb;
  try {
    nb = JSON.parse(text);
  } catch {
    return text;
  }
  if (!nb || typeof nb !== 'object' || !Array.isArray(nb.cells)) return text;
  const info = nb.metadata?.language_info;
  if (info && typeof info === 'object' && typeof info.name === 'string')
    nb.metadata.language_info = { name: info.name };
  const ids = addIds && nb.nbformat === 4 && nb.nbformat_minor >= 5;
  nb.cells = nb.cells.map((cell) => {
    const c = ids && cell.id === undefined ? { id: randomBytes(4).toString('hex'), ...cell } : cell;
    if (Array.isArray(c.source)) c.source = c.source.join('');
    if (c.cell_type === 'code') {
      c.outputs = [];
      c.execution_count = null;
      if (c.metadata) for (const k of RUNTIME_METADATA) delete c.metadata[k];
    }
    return c;
  });
  return JSON.stringify(sortKeys(nb), null, 1) + '\n';
}

/** Keys in sorted order at every level, as Jupyter (nbformat) writes them. */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}

const files = process.argv.slice(2);
if (files.length === 0) {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  process.stdout.write(stripNotebook(Buffer.concat(chunks).toString('utf8')));
} else {
  for (const f of files) {
    const before = readFileSync(f, 'utf8');
    const after = stripNotebook(before, { addIds: true });
    if (after !== before) writeFileSync(f, after);
    console.log(`${f}: ${before.length} -> ${after.length} characters`);
  }
}
