#!/usr/bin/env node
// Notebooks are committed without outputs: an executed notebook carries plotly.js inlined once
// (about 2.7 MB) and every figure's data, which would make every run a large diff. Jupyter writes
// the outputs into the .ipynb file itself, so git is kept out of them by a clean filter that runs
// this script (.gitattributes: `notebooks/*.ipynb filter=ipt-strip-outputs`), configured in the
// checkout by `npm run notebook` (env/notebook.sh) or by hand:
//   git config filter.ipt-strip-outputs.clean "node env/strip-notebook.mjs"
//   git config filter.ipt-strip-outputs.smudge cat
// Your file keeps its outputs; git sees (and `git diff` shows) the notebook without them. `git status`
// trusts file sizes and lists a notebook you ran until `git add notebooks/` (which stages nothing)
// refreshes its record.
//
//   node env/strip-notebook.mjs < in.ipynb > out.ipynb     the filter: stdin to stdout
//   node env/strip-notebook.mjs FILE...                     strip files in place
//
// Removed: code cells' outputs and execution counts, and the run-time cell metadata Jupyter and
// nbclient add (execution timings, collapsed/scrolled). Written as Jupyter writes (one-space indent,
// UTF-8, final newline). Input that is not a notebook (a merge in progress) passes through unchanged.
import { readFileSync, writeFileSync } from 'node:fs';

const RUNTIME_METADATA = ['execution', 'collapsed', 'scrolled'];

function stripNotebook(text) {
  let nb;
  try {
    nb = JSON.parse(text);
  } catch {
    return text;
  }
  if (!nb || !Array.isArray(nb.cells)) return text;
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    cell.outputs = [];
    cell.execution_count = null;
    if (cell.metadata) for (const k of RUNTIME_METADATA) delete cell.metadata[k];
  }
  return JSON.stringify(nb, null, 1) + '\n';
}

const files = process.argv.slice(2);
if (files.length === 0) {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  process.stdout.write(stripNotebook(Buffer.concat(chunks).toString('utf8')));
} else {
  for (const f of files) {
    const before = readFileSync(f, 'utf8');
    const after = stripNotebook(before);
    if (after !== before) writeFileSync(f, after);
    console.log(`${f}: ${before.length} -> ${after.length} characters`);
  }
}
