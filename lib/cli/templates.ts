// ipt commands for the pre-training templates: render chains, and the step-by-step walkthrough.

import { FAMILIES, type Family } from '../templates/render.js';
import { renderJsonlFile } from '../templates/jsonl.js';
import { formatWalkthrough, loadWalkthroughExample, runWalkthrough } from '../templates/walkthrough.js';
import { UsageError, type Command } from './command.js';

export const templatesCommands: Command[] = [
  {
    name: 'render',
    summary: 'Render synthesized chains into pre-training texts with the templates (JSON lines in, JSON lines out).',
    description:
      'Each input line is one chain: a JSON array of {"context", "pairs": [{"question", "answer"}], "inheritFromPrev"},\n' +
      'or a record holding it as "chain" ({"chain": [...]}, as in data/examples/synthesis-run/chains.jsonl).\n' +
      'Consecutive inherited entries become one few-shot reading-comprehension text; entries without pairs stay raw.\n' +
      'Each output line is {"text": ..., "chain": i}; chain i is rendered with a seed derived from --seed and i,\n' +
      'so the same input and seed give the same file. The output appears complete or not at all.',
    options: {
      input: {
        type: 'string',
        short: 'i',
        value: 'FILE',
        description: 'chains, one per line: a JSON array or {"chain": [...]} ("-" reads stdin)',
      },
      out: { type: 'string', short: 'o', value: 'FILE', description: 'where to write the texts (default: stdout)' },
      seed: { type: 'string', value: 'N', default: '1', description: 'seed for the template draws' },
      family: {
        type: 'string',
        value: 'NAME',
        description: `use one layout family for every text: ${FAMILIES.join(', ')}`,
      },
    },
    examples: [
      'ipt render --input data/examples/synthesis-run/chains.jsonl --out texts.jsonl --seed 1',
      'ipt render -i chains.jsonl --family dialog | head',
    ],
    async run({ values }, io) {
      if (typeof values.input !== 'string')
        throw new UsageError('--input FILE is required (one chain per line; "-" reads stdin)');
      const seed = Number(values.seed);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
      const family = values.family as Family | undefined;
      if (family !== undefined && !FAMILIES.includes(family))
        throw new UsageError(`--family must be one of ${FAMILIES.join(', ')}, got "${family}"`);
      const out = typeof values.out === 'string' ? values.out : undefined;
      const summary = await renderJsonlFile({ input: values.input, out, seed, family, write: io.stdout });
      const families = Object.entries(summary.families)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ');
      io.stderr(
        `ipt render: ${summary.chains} chains -> ${summary.texts} texts (${families || 'none'})${out ? ` in ${out}` : ''}\n`,
      );
    },
  },
  {
    name: 'walkthrough',
    summary: 'Show the method on a small example: prompt, model output, parsing, two rounds of chaining, templates.',
    description: 'Model outputs are scripted (data/examples/walkthrough.json), so this runs offline in a second.',
    options: {
      example: { type: 'string', value: 'FILE', description: 'another example file of the same shape' },
      json: { type: 'boolean', description: 'print the steps as one JSON record instead of text' },
    },
    async run({ values }, io) {
      const w = runWalkthrough(loadWalkthroughExample(typeof values.example === 'string' ? values.example : undefined));
      io.stdout(values.json === true ? JSON.stringify(w, null, 2) + '\n' : formatWalkthrough(w));
    },
  },
];
