// ipt commands for task-category coverage: classify pairs from a file, a synthesis run or a dataset.

import { join } from 'node:path';
import { UsageError, type Command } from './command.js';

export const tasksCommands: Command[] = [
  {
    name: 'coverage',
    summary: 'Task-category coverage of a set of pairs: counts per category and family, lengths, figures.',
    description:
      'Labels every pair with the kit\'s task taxonomy (data/tasks/taxonomy.json) using the rule classifier\n' +
      '(data/tasks/rules.json), then writes coverage.json, labels.jsonl, a self-contained coverage.html,\n' +
      'PNG figures under figures/ (when Chromium is installed) and manifest.json into the output folder.\n' +
      'Input lines may be {"question","answer"} pairs, Chains, {"chain": Chain} or {"context","pairs"} records.',
    options: {
      input: { type: 'string', short: 'i', value: 'PATH', description: 'pairs or chains JSONL file, a synthesis run folder, or hf:<dataset repo> (its .jsonl files, downloaded into the HF cache)' },
      out: { type: 'string', short: 'o', value: 'DIR', description: 'output folder (default: runs/coverage/<name>)' },
      name: { type: 'string', value: 'NAME', description: 'name shown in the report (default: the input file or folder name)' },
      png: { type: 'string', value: 'auto|yes|no', default: 'auto', description: 'write PNG figures with Chromium: auto (if installed), yes (fail without it), no' },
      top: { type: 'string', value: 'N', default: '15', description: 'categories to list in the printed table' },
    },
    examples: ['ipt coverage --input data/examples/synthesis-run', 'ipt coverage --input pairs.jsonl --out runs/coverage/mine --png no'],
    async run({ values }, io) {
      const input = values.input as string | undefined;
      if (!input) throw new UsageError('--input is required (a pairs JSONL file, a synthesis run folder, or hf:<dataset>)');
      const png = (values.png as string) ?? 'auto';
      if (!['auto', 'yes', 'no'].includes(png)) throw new UsageError(`--png must be auto, yes or no (got "${png}")`);
      const top = Number(values.top ?? 15);
      if (!Number.isInteger(top) || top < 0) throw new UsageError(`--top must be a whole number (got "${values.top}")`);
      // Loaded here so other commands do not pay for playwright-core and the taxonomy at start-up.
      const { loadPairsInput, InputError } = await import('../tasks/input.js');
      const { runCoverage } = await import('../report/coverage.js');
      const { categoryRows, coverageSummary } = await import('../tasks/coverage.js');
      const { textTable } = await import('../report/html.js');
      let loaded;
      try {
        loaded = await loadPairsInput(input, { name: values.name as string | undefined });
      } catch (err) {
        if (err instanceof InputError) throw new UsageError(err.message);
        throw err;
      }
      const set = loaded.set;
      const out = (values.out as string | undefined) ?? join('runs', 'coverage', set.name.replace(/[^\w.-]+/g, '_'));
      const command = ['ipt', 'coverage', '--input', input, '--out', out, '--png', png, ...(values.name ? ['--name', values.name as string] : [])];
      const result = await runCoverage({ input, out, png: png as 'auto' | 'yes' | 'no', command }, loaded);
      for (const w of result.coverage.warnings) io.stderr(`warning: ${w}\n`);
      if (result.pngSkipped) io.stderr(`note: no PNG figures (${result.pngSkipped})\n`);
      io.stdout(`${coverageSummary(result.coverage)}\n\n`);
      if (top > 0) io.stdout(textTable(categoryRows(result.coverage, top)) + '\n');
      io.stdout(`wrote ${result.files.map((f) => join(out, f)).join(', ')}\n`);
    },
  },
];
