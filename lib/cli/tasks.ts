// ipt commands for task-category coverage: classify pairs from a file, a synthesis run or a dataset.

import { join } from 'node:path';
import { intOption, UsageError, type Command } from './command.js';
import { ENGINE_SPEC_HELP } from '../engine/open.js';
import { ENGINE_CLIENT_OPTIONS, openEngineFromOptions } from './engine.js';

export const tasksCommands: Command[] = [
  {
    name: 'coverage',
    summary: 'Task-category coverage of a set of pairs: counts per category and family, lengths, figures.',
    description:
      "Labels every pair with the kit's task taxonomy (data/tasks/taxonomy.json) using the rule classifier\n" +
      '(data/tasks/rules.json), then writes coverage.json, labels.jsonl, a self-contained coverage.html,\n' +
      'PNG figures under figures/ (when Chromium is installed) and manifest.json into the output folder.\n' +
      'Input lines may be {"question","answer"} pairs, Chains, {"chain": Chain} or {"context","pairs"} records.\n' +
      'With --judge, an LM labels the pairs instead (greedy, the same taxonomy in its prompt); the rules still run,\n' +
      'and judge.json says how often the two agree and where they differ.',
    options: {
      input: {
        type: 'string',
        short: 'i',
        value: 'PATH',
        description:
          'pairs or chains JSONL file, a synthesis run folder, or hf:<dataset repo> (its .jsonl files, downloaded into the HF cache)',
      },
      out: { type: 'string', short: 'o', value: 'DIR', description: 'output folder (default: runs/coverage/<name>)' },
      name: {
        type: 'string',
        value: 'NAME',
        description: 'name shown in the report (default: the input file or folder name)',
      },
      png: {
        type: 'string',
        value: 'auto|yes|no',
        default: 'auto',
        description: 'write PNG figures with Chromium: auto (if installed), yes (fail without it), no',
      },
      top: { type: 'string', value: 'N', default: '15', description: 'categories to list in the printed table' },
      judge: {
        type: 'string',
        value: 'SPEC',
        description: `label with an LM instead of the rules: ${ENGINE_SPEC_HELP}`,
      },
      'judge-batch': { type: 'string', value: 'N', default: '8', description: 'judge: pairs per engine call' },
      'judge-max-new-tokens': {
        type: 'string',
        value: 'N',
        default: '12',
        description: 'judge: tokens the LM may write per label',
      },
      ...ENGINE_CLIENT_OPTIONS,
    },
    examples: [
      'ipt coverage --input data/examples/synthesis-run',
      'ipt coverage --input pairs.jsonl --out runs/coverage/mine --png no',
      'ipt coverage --input runs/synth --judge openai:http://gpu-box:8000/v1 --out runs/coverage/judged',
    ],
    async run({ values }, io) {
      const input = values.input as string | undefined;
      if (!input)
        throw new UsageError('--input is required (a pairs JSONL file, a synthesis run folder, or hf:<dataset>)');
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
      if (set.pairs.length === 0 && set.pairsPerText === null)
        throw new UsageError(`${input} holds no pairs or texts (it is empty); nothing was written`);
      const out = (values.out as string | undefined) ?? join('runs', 'coverage', set.name.replace(/[^\w.-]+/g, '_'));
      const command = [
        'ipt',
        'coverage',
        '--input',
        input,
        '--out',
        out,
        '--png',
        png,
        ...(values.name ? ['--name', values.name as string] : []),
      ];
      const spec = values.judge as string | undefined;
      const batchSize = intOption(values, 'judge-batch');
      const maxNewTokens = intOption(values, 'judge-max-new-tokens');
      if (spec)
        command.push(
          '--judge',
          spec,
          '--judge-batch',
          String(batchSize ?? 8),
          '--judge-max-new-tokens',
          String(maxNewTokens ?? 12),
        );
      const engine = spec ? await openEngineFromOptions(spec, values, batchSize) : undefined;
      let result;
      try {
        const judge = engine ? { engine, batchSize, maxNewTokens } : undefined;
        result = await runCoverage({ input, out, png: png as 'auto' | 'yes' | 'no', command, judge }, loaded);
      } finally {
        await engine?.close?.();
      }
      for (const w of result.coverage.warnings) io.stderr(`warning: ${w}\n`);
      if (result.pngSkipped) io.stderr(`note: no PNG figures (${result.pngSkipped})\n`);
      io.stdout(`${coverageSummary(result.coverage)}\n`);
      if (result.judge) {
        const j = result.judge;
        io.stdout(
          `labelled by ${j.engine}: agrees with the rule classifier on ${j.agreeing} of ${j.pairs} pairs (${(100 * j.agreement).toFixed(1)}%)` +
            (j.unparsed ? `; ${j.unparsed} answers named no category (counted as "other")` : '') +
            '\n',
        );
      }
      io.stdout('\n');
      if (top > 0) io.stdout(textTable(categoryRows(result.coverage, top)) + '\n');
      io.stdout(`wrote ${result.files.map((f) => join(out, f)).join(', ')}\n`);
    },
  },
];
