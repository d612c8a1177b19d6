// ipt commands for the synthesizer stage: the prompt/parse contract, the rule-based miner, synthesis runs.

import { cookRead, parseComprehension } from '../synth/format.js';
import { explainParse } from '../templates/walkthrough.js';
import { RULE_KINDS, type RuleKind } from '../synth/rules.js';
import { brownRuleTexts, jsonlRuleTexts, mineRecords } from '../synth/rules-run.js';
import { createProgress } from '../repro/progress.js';
import { writeFileAtomic } from '../repro/files.js';
import { synthesize, SYNTHESIS_DEFAULTS } from '../synth/driver.js';
import { loadTexts, INPUT_HELP } from '../synth/input.js';
import { ENGINE_SPEC_HELP } from '../engine/open.js';
import { ENGINE_CLIENT_OPTIONS, checkEngineOptions, openEngineFromOptions } from './engine.js';
import { intOption, numberOption, requireOption, readInput, UsageError, type Command } from './command.js';

export const synthCommands: Command[] = [
  {
    name: 'prompt',
    summary: 'Print the synthesizer prompt for a raw text (the exact string the model must see).',
    options: {},
    positionals: [{ name: 'FILE', description: 'raw text file; "-" or nothing reads stdin', optional: true }],
    examples: ['echo "The cat sat on the mat." | ipt prompt'],
    async run({ positionals }, io) {
      io.stdout(cookRead(readInput(positionals[0], io).replace(/\n+$/, '')));
    },
  },
  {
    name: 'parse',
    summary: 'Parse a synthesizer output into instruction-response pairs (JSON).',
    description:
      'Prints the pairs as a JSON array on stdout. Pieces the parser drops (cut off, no <ANS>, no <QUE>, an empty\n' +
      'answer, a repeated question) are counted on stderr, by reason. Exits 1 when no pair could be parsed (stdout\n' +
      'still holds [], so a script can read it), 0 otherwise.',
    options: {
      'keep-duplicates': {
        type: 'boolean',
        description: 'keep questions repeated ignoring case (the released pipeline drops them)',
      },
    },
    positionals: [{ name: 'FILE', description: 'model output; "-" or nothing reads stdin', optional: true }],
    examples: ['ipt parse output.txt > pairs.json'],
    async run({ values, positionals }, io) {
      const output = readInput(positionals[0], io);
      const keepDuplicates = values['keep-duplicates'] === true;
      const pairs = parseComprehension(output, { deduplicate: !keepDuplicates });
      io.stdout(JSON.stringify(pairs, null, 2) + '\n');
      const dropped = explainParse(output).filter(
        (v) => !v.kept && !(keepDuplicates && v.reason.startsWith('repeats')),
      );
      const reasons = new Map<string, number>();
      for (const v of dropped) reasons.set(v.reason, (reasons.get(v.reason) ?? 0) + 1);
      const why = [...reasons].map(([reason, n]) => `${n} × ${reason}`).join(' | ');
      const name = positionals[0] && positionals[0] !== '-' ? positionals[0] : 'stdin';
      if (pairs.length === 0) {
        io.stderr(
          `ipt parse: no pairs in ${name}: ${dropped.length === 0 ? 'no text to parse' : `${dropped.length} piece${dropped.length === 1 ? '' : 's'} dropped (${why})`}; a pair is <QUE> question <ANS> answer </END>\n`,
        );
        return 1;
      }
      if (dropped.length > 0)
        io.stderr(
          `ipt parse: ${pairs.length} pair${pairs.length === 1 ? '' : 's'}; ${dropped.length} piece${dropped.length === 1 ? '' : 's'} dropped (${why})\n`,
        );
    },
  },
  {
    name: 'rules',
    summary: 'Mine instruction-response pairs from texts with the rule-based synthesizer (JSON lines).',
    description:
      'Each output line is {id, genre, context, output, pairs}: `output` is the exact string a synthesizer would write\n' +
      '(<QUE> q <ANS> a </END> pairs), `pairs` the same pairs with their rule kind. Deterministic for a seed.',
    options: {
      input: {
        type: 'string',
        value: 'brown|FILE.jsonl',
        description:
          '"brown" (a seeded sample of Brown corpus chunks) or a JSON-lines file of {"text", "id"?, "genre"?} (a long text is cut into contexts, ids "<id>#<k>")',
      },
      n: { type: 'string', value: 'N', default: '10', description: 'number of texts' },
      seed: { type: 'string', value: 'S', default: '0', description: 'seed for the sample and the rules' },
      'max-pairs': { type: 'string', value: 'K', default: '6', description: 'at most K pairs per text' },
      kinds: {
        type: 'string',
        value: 'LIST',
        description: `comma-separated rule kinds (default all: ${RULE_KINDS.join(', ')})`,
      },
      out: { type: 'string', value: 'FILE', description: 'write the JSON lines to FILE instead of printing them' },
    },
    examples: ['ipt rules --input brown --n 5 --seed 1', 'ipt rules --input texts.jsonl --n 100 --out pairs.jsonl'],
    async run({ values }, io) {
      const int = (name: string, min: number): number => {
        const raw = String(values[name]);
        if (!/^\d+$/.test(raw) || Number(raw) < min)
          throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
        return Number(raw);
      };
      const input = values.input as string | undefined;
      if (!input) throw new UsageError('--input is required: "brown" or a .jsonl file');
      const n = int('n', 1);
      const seed = int('seed', 0);
      const maxPairs = int('max-pairs', 1);
      let kinds: RuleKind[] | undefined;
      if (values.kinds !== undefined) {
        kinds = String(values.kinds)
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean) as RuleKind[];
        const unknown = kinds.filter((k) => !(RULE_KINDS as readonly string[]).includes(k));
        if (kinds.length === 0)
          throw new UsageError(`--kinds names no rule kind; choose from ${RULE_KINDS.join(', ')}`);
        if (unknown.length)
          throw new UsageError(`unknown rule kind(s) ${unknown.join(', ')}; choose from ${RULE_KINDS.join(', ')}`);
      }
      const texts = input === 'brown' ? brownRuleTexts(n, seed) : jsonlRuleTexts(input, n);
      if (texts.length === 0)
        throw new Error(`${input} holds no texts: each line must be a JSON object like {"text": "..."}`);
      const progress = createProgress({ label: 'rules', total: texts.length, unit: 'texts' });
      const records = mineRecords(texts, { seed, maxPairs, kinds, onText: () => progress.increment() });
      progress.stop();
      const jsonl = records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
      if (values.out === undefined) {
        io.stdout(jsonl);
        return;
      }
      writeFileAtomic(String(values.out), jsonl);
      const pairs = records.reduce((s, r) => s + r.pairs.length, 0);
      io.stdout(`wrote ${records.length} texts, ${pairs} pairs to ${values.out}\n`);
    },
  },
  {
    name: 'synthesize',
    summary: 'Synthesize instruction-response pairs for raw texts, M rounds, resumable (kill it and run it again).',
    description:
      'Runs the multi-round synthesizer over the input texts with an engine, appending every finished batch to ' +
      'round-<r>.jsonl in the output folder. Running the same command again after an interruption finishes the run: ' +
      'every text is synthesized exactly once, and greedy results equal an uninterrupted run. The final chains go to ' +
      'chains.jsonl, and manifest.json records engine, model revision, options, seeds and throughput.',
    options: {
      input: { type: 'string', value: 'SOURCE', description: INPUT_HELP },
      engine: { type: 'string', value: 'SPEC', description: ENGINE_SPEC_HELP },
      out: { type: 'string', value: 'DIR', description: 'run folder (created; resumed when it holds the same run)' },
      rounds: {
        type: 'string',
        value: 'M',
        default: String(SYNTHESIS_DEFAULTS.rounds),
        description: 'rounds: texts are cut into M slices, each round continuing the chains of the last',
      },
      'max-model-len': {
        type: 'string',
        value: 'N',
        default: String(SYNTHESIS_DEFAULTS.maxModelLen),
        description: "context budget in the synthesizer's tokens",
      },
      'max-new-tokens': {
        type: 'string',
        value: 'N',
        default: String(SYNTHESIS_DEFAULTS.maxNewTokens),
        description: 'tokens generated per text at most',
      },
      'batch-size': {
        type: 'string',
        value: 'N',
        default: String(SYNTHESIS_DEFAULTS.batchSize),
        description: 'prompts per engine call (one batch, one append to the run folder)',
      },
      'parallel-batches': {
        type: 'string',
        value: 'N',
        default: '1',
        description: 'batches in flight (raise it for remote servers)',
      },
      temperature: { type: 'string', value: 'T', default: '0', description: '0 is greedy (the released setup)' },
      'top-p': { type: 'string', value: 'P', default: '1', description: 'nucleus sampling mass when sampling' },
      seed: { type: 'string', value: 'N', default: '0', description: 'sampling seed' },
      limit: { type: 'string', value: 'N', description: 'use only the first N texts' },
      'max-tokens': {
        type: 'string',
        value: 'N',
        description: 'cut documents longer than N tokens into contexts (paragraph, then sentence ends)',
      },
      'text-field': {
        type: 'string',
        value: 'F',
        default: 'text',
        description: 'shard files: the field that holds the text',
      },
      ...ENGINE_CLIENT_OPTIONS,
    },
    examples: [
      'ipt synthesize --input brown --max-tokens 3000 --engine onnx:models/synth --rounds 2 --out runs/synth-brown',
      'ipt synthesize --input texts.jsonl --engine openai:http://gpu-box:8000/v1 --parallel-batches 4 --out runs/synth',
    ],
    async run({ values }, io) {
      const input = requireOption(values, 'input');
      const spec = requireOption(values, 'engine');
      const out = requireOption(values, 'out');
      const temperature = numberOption(values, 'temperature');
      if (temperature !== undefined && temperature < 0)
        throw new UsageError(`--temperature must be >= 0 (0 is greedy), got "${String(values.temperature)}"`);
      const topP = numberOption(values, 'top-p');
      if (topP !== undefined && !(topP > 0 && topP <= 1))
        throw new UsageError(`--top-p must be in (0, 1], got "${String(values['top-p'])}"`);
      checkEngineOptions(spec, values);
      const source = await loadTexts(input, {
        limit: intOption(values, 'limit'),
        maxTokens: intOption(values, 'max-tokens'),
        textField: values['text-field'] as string | undefined,
      });
      const engine = await openEngineFromOptions(spec, values, intOption(values, 'batch-size'));
      try {
        io.stderr(`ipt synthesize: ${source.texts.length} texts from ${input} with ${engine.name}\n`);
        const result = await synthesize({
          texts: source.texts,
          engine,
          outDir: out,
          rounds: intOption(values, 'rounds'),
          maxModelLen: intOption(values, 'max-model-len'),
          maxNewTokens: intOption(values, 'max-new-tokens'),
          batchSize: intOption(values, 'batch-size'),
          parallelBatches: intOption(values, 'parallel-batches'),
          temperature,
          topP,
          seed: intOption(values, 'seed', 0),
          command: [
            'ipt',
            'synthesize',
            ...Object.entries(values).flatMap(([k, v]) =>
              v === undefined ? [] : typeof v === 'boolean' ? (v ? [`--${k}`] : []) : [`--${k}`, String(v)],
            ),
          ],
          inputs: [source.input],
          log: (line) => io.stderr(line + '\n'),
        });
        const t = result.totals;
        const s = result.session;
        io.stdout(
          `${t.texts} texts, ${t.pairs} pairs (${t.textsWithPairs} texts with pairs); this session: ${s.texts} texts in ${s.seconds.toFixed(1)} s, ` +
            `${s.tokensPerSecond.toFixed(1)} tokens/s, ${s.textsPerSecond.toFixed(2)} texts/s` +
            (s.resumedTexts ? ` (${s.resumedTexts} texts were already done)` : '') +
            `\nchains: ${out}/chains.jsonl\n`,
        );
      } finally {
        await engine.close?.();
      }
    },
  },
];
