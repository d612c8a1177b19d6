// ipt commands for the kit's tiny synthesizer: fine-tune it on rule-mined Brown examples, measure it on held-out Brown texts.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { brownManifestInput, loadBrown } from '../corpus/brown.js';
import { buildSynthesizerCollection, splitSources, type CollectionOptions } from '../synth/collection.js';
import { cookCompre, cookRead, EOS } from '../synth/format.js';
import { measureTinySynthesizer, tinySynthesizerHeldOut } from '../synth/tiny-measure.js';
import {
  openTinySynthesizer,
  trainTinySynthesizer,
  TINY_SYNTH_CI,
  TINY_SYNTH_COLLECTION,
  TINY_SYNTH_GENERATION,
  TINY_SYNTH_MODEL,
  TINY_SYNTH_TRAIN,
} from '../train/tiny-synthesizer.js';
import { trainBpeMerges } from '../train/bpe.js';
import { TINY_BASE_VOCAB, tinyTokenizerFiles } from '../engine/tokenizer.js';
import { readJson, writeJson } from '../repro/files.js';
import { intOption, numberOption, requireOption, UsageError, type Command } from './command.js';

/** What `tiny-synth train` records so `tiny-synth measure` holds out the same documents. */
const BROWN_FILE = 'brown-split.json';
type BrownSplit = {
  seed: number;
  heldOutShare: number;
  docs: number | null;
  collection: Omit<CollectionOptions, 'seed'>;
  profile: string;
};

const PROFILES = {
  default: { model: TINY_SYNTH_MODEL, train: TINY_SYNTH_TRAIN },
  ci: { model: TINY_SYNTH_CI.model, train: TINY_SYNTH_CI.train },
} as const;

const HELD_OUT_SHARE = 0.1;

function commandLine(words: string[], values: Record<string, unknown>): string[] {
  return ['ipt', ...words, ...Object.entries(values).flatMap(([k, v]) => (typeof v === 'string' ? [`--${k}`, v] : []))];
}

export const tinyCommands: Command[] = [
  {
    name: 'tiny-synth train',
    summary: 'Fine-tune the tiny instruction synthesizer on rule-mined Brown examples (resumes when rerun).',
    description: [
      'Brown documents are split by source (10% held out for `tiny-synth measure`); the rules mine short',
      '(context, pairs) examples from the rest, BPE merges are trained on them (vocabulary 512), and a tiny',
      'GPT is fine-tuned on few-shot sequences in the exact synthesizer format, loss on the pairs only.',
      "The run folder is trainRun's (config.json, metrics.jsonl, checkpoints/, manifest.json) with the",
      'model in DIR/model (model.safetensors and onnx/), ready for `ipt synthesize --engine onnx:DIR/model`.',
    ].join('\n'),
    options: {
      out: { type: 'string', value: 'DIR', description: 'run folder (created, or resumed when it exists)' },
      docs: { type: 'string', value: 'N', description: 'use only the first N training documents (default all)' },
      steps: { type: 'string', value: 'N', description: "training steps (default: the profile's)" },
      seed: { type: 'string', value: 'S', default: '0', description: 'seed for the split, the rules and training' },
      profile: {
        type: 'string',
        value: 'default|ci',
        default: 'default',
        description: 'model and training sizes: default (about a minute or two on 2 cores) or ci (seconds)',
      },
      threads: {
        type: 'string',
        value: 'N',
        description: 'kernel threads (default: the number of cores; results do not depend on it)',
      },
    },
    examples: [
      'ipt tiny-synth train --out runs/tiny-synth',
      'ipt tiny-synth train --out runs/tiny-ci --profile ci --docs 20 --steps 20',
    ],
    async run({ values }, io) {
      const out = requireOption(values, 'out');
      const seed = intOption(values, 'seed', 0) ?? 0;
      const profileName = String(values.profile);
      if (!(profileName in PROFILES)) throw new UsageError(`--profile must be default or ci, got "${profileName}"`);
      const profile = PROFILES[profileName as keyof typeof PROFILES];
      const docsLimit = intOption(values, 'docs');
      const steps = intOption(values, 'steps');
      let { train: docs } = splitSources(loadBrown(), { seed, heldOutShare: HELD_OUT_SHARE });
      if (docsLimit !== undefined) docs = docs.slice(0, docsLimit);
      const collection = buildSynthesizerCollection(docs, { ...TINY_SYNTH_COLLECTION, seed });
      if (collection.length === 0) throw new UsageError('the rules found no pairs in these documents: use more --docs');
      const merges = trainBpeMerges(
        collection.flatMap((e) => [cookRead(e.context), cookCompre(e.pairs) + EOS]),
        512 - TINY_BASE_VOCAB,
      );
      const model = { ...profile.model, vocabSize: 512 };
      const tokenizer = tinyTokenizerFiles({ merges, modelMaxLength: model.contextLength });
      const split: BrownSplit = {
        seed,
        heldOutShare: HELD_OUT_SHARE,
        docs: docsLimit ?? null,
        collection: TINY_SYNTH_COLLECTION,
        profile: profileName,
      };
      if (existsSync(join(out, BROWN_FILE))) {
        const old = readJson(join(out, BROWN_FILE)) as BrownSplit;
        if (JSON.stringify(old) !== JSON.stringify(split))
          throw new UsageError(`${out} holds a run with other options (${BROWN_FILE}); use another --out folder`);
      }
      io.stderr(
        `ipt tiny-synth train: ${collection.length} examples from ${docs.length} Brown documents, ${merges.length} BPE merges\n`,
      );
      const r = await trainTinySynthesizer({
        outDir: out,
        collection,
        tokenizer,
        model,
        train: { ...profile.train, ...(steps !== undefined ? { steps } : {}) },
        seed,
        threads: intOption(values, 'threads'),
        command: commandLine(['tiny-synth', 'train'], values),
        inputs: [brownManifestInput()],
      });
      writeJson(join(out, BROWN_FILE), split);
      const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));
      io.stdout(
        `${r.data.sequences} sequences (${r.data.examples} examples, ${r.data.skipped} too long); step ${r.result.step}` +
          `${r.result.resumedFrom !== undefined ? ` (resumed from step ${r.result.resumedFrom})` : ''}: loss ${fmt(r.result.lastLoss)}, validation loss ${fmt(r.result.lastValLoss)}` +
          `${r.result.tokensPerSecond ? `, ${Math.round(r.result.tokensPerSecond)} tokens/s` : ''}\nmodel: ${r.modelDir}\n`,
      );
    },
  },
  {
    name: 'tiny-synth measure',
    summary:
      'Measure a tiny synthesizer on held-out Brown texts: parse rate, pairs per text, answers in context, accuracy on rule pairs.',
    description: [
      "The texts come from the Brown documents `tiny-synth train` held out (read from the run folder's",
      `${BROWN_FILE}; otherwise --seed and the default split), cut and mined as in training; their rule`,
      "pairs are the references. Accuracy is given free (the synthesizer's own questions that match a",
      'reference) and prompted (each reference question forced after the text); see lib/synth/quality.ts.',
    ].join('\n'),
    options: {
      model: { type: 'string', value: 'DIR', description: 'a tiny-synth run folder or its model/ folder' },
      n: { type: 'string', value: 'N', default: '100', description: 'held-out texts' },
      seed: { type: 'string', value: 'S', description: 'split seed when the folder does not record one (default 0)' },
      'max-new-tokens': {
        type: 'string',
        value: 'N',
        default: String(TINY_SYNTH_GENERATION.maxNewTokens),
        description: 'tokens generated per text at most',
      },
      'batch-size': { type: 'string', value: 'N', default: '16', description: 'prompts per generation batch' },
      temperature: {
        type: 'string',
        value: 'T',
        default: String(TINY_SYNTH_GENERATION.temperature),
        description: 'sampling temperature of the synthesis, 0 greedy (prompted answers are always greedy)',
      },
      'top-p': {
        type: 'string',
        value: 'P',
        default: String(TINY_SYNTH_GENERATION.topP),
        description: 'nucleus sampling mass when sampling',
      },
      out: {
        type: 'string',
        value: 'DIR',
        description: 'run folder for the measurement (resumable; quality.json); default: print JSON',
      },
      threads: { type: 'string', value: 'N', description: 'ONNX Runtime intra-op threads (default: all cores)' },
    },
    examples: ['ipt tiny-synth measure --model runs/tiny-synth --n 200 --out runs/tiny-synth-quality'],
    async run({ values }, io) {
      const modelArg = requireOption(values, 'model');
      const runDir = existsSync(join(modelArg, BROWN_FILE))
        ? modelArg
        : existsSync(join(modelArg, '..', BROWN_FILE))
          ? join(modelArg, '..')
          : undefined;
      const recorded = runDir ? (readJson(join(runDir, BROWN_FILE)) as BrownSplit) : undefined;
      const seedOption = intOption(values, 'seed', 0);
      if (recorded && seedOption !== undefined && seedOption !== recorded.seed) {
        throw new UsageError(
          `${runDir} was trained with seed ${recorded.seed}; --seed ${seedOption} would measure on other texts`,
        );
      }
      const seed = recorded?.seed ?? seedOption ?? 0;
      const { heldOut, references } = tinySynthesizerHeldOut(loadBrown(), {
        seed,
        heldOutShare: recorded?.heldOutShare ?? HELD_OUT_SHARE,
        n: intOption(values, 'n')!,
        collection: recorded?.collection ?? TINY_SYNTH_COLLECTION,
      });
      const engine = await openTinySynthesizer(modelArg, {
        threads: intOption(values, 'threads'),
        batchSize: intOption(values, 'batch-size'),
      });
      try {
        const maxNewTokens = intOption(values, 'max-new-tokens')!;
        const temperature = numberOption(values, 'temperature')!;
        if (!(temperature >= 0))
          throw new UsageError(`--temperature must be >= 0 (0 is greedy), got "${String(values.temperature)}"`);
        const topP = numberOption(values, 'top-p')!;
        if (!(topP > 0 && topP <= 1))
          throw new UsageError(`--top-p must be in (0, 1], got "${String(values['top-p'])}"`);
        if (maxNewTokens >= engine.contextLength)
          throw new UsageError(`--max-new-tokens must be below the model's context of ${engine.contextLength} tokens`);
        const q = await measureTinySynthesizer({
          engine,
          heldOut,
          references,
          maxNewTokens,
          temperature,
          topP,
          seed,
          batchSize: intOption(values, 'batch-size'),
          outDir: values.out as string | undefined,
        });
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        io.stderr(
          `${q.texts} held-out texts: parse rate ${pct(q.quality.parseRate)}, ${q.quality.pairsPerText.mean.toFixed(2)} pairs per text, ` +
            `answer in context ${pct(q.quality.answerInContext.rate)}, ${q.quality.questionKinds} question kinds; rule pairs: free exact ${pct(q.free.exactOverall)} (asked ${pct(q.free.askedRate)}), ` +
            `prompted exact ${pct(q.prompted.exactOverall)}, F1 ${q.prompted.f1Overall.toFixed(3)} (by prior alone ${pct(q.priorBaseline.exactOverall)}, majority answer ${pct(q.majorityBaseline.exactOverall)})\n`,
        );
        if (typeof values.out === 'string') io.stdout(`quality: ${join(values.out, 'quality.json')}\n`);
        else io.stdout(JSON.stringify(q, null, 2) + '\n');
      } finally {
        await engine.close();
      }
    },
  },
];
