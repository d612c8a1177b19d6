#!/usr/bin/env node
// The `ipt` command: a thin client of lib/. Each command parses its options, calls the library,
// and prints. `ipt --help` lists the commands; `ipt <command> --help` explains one.

import { parseArgs } from 'node:util';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { cookRead, parseComprehension } from './synth/format.js';
import { FAMILIES, type Family } from './templates/render.js';
import { renderJsonlFile } from './templates/jsonl.js';
import { formatWalkthrough, loadWalkthroughExample, runWalkthrough } from './templates/walkthrough.js';
import { RULE_KINDS, type RuleKind } from './synth/rules.js';
import { brownRuleTexts, jsonlRuleTexts, mineRecords } from './synth/rules-run.js';
import { createProgress, formatBytes } from './repro/progress.js';
import { writeFileAtomic } from './repro/files.js';
import { downloadRepo, manifestInputOf } from './hub/download.js';
import { openCorpus, sampleCorpus, type CorpusDocument } from './corpus/source.js';
import { chunkDocuments, type ChunkStats } from './corpus/chunk.js';
import { writeManifest, type ManifestInput } from './repro/manifest.js';

export type OptionSpec = {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  description: string;
  /** Shown in help instead of the generic VALUE. */
  value?: string;
};

export type PositionalSpec = { name: string; description: string; optional?: boolean; variadic?: boolean };

export type CommandArgs = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

export type Io = { stdout: (s: string) => void; stderr: (s: string) => void; readStdin: () => string };

export type Command = {
  /** One or more words: "train", "corpus sample". */
  name: string;
  summary: string;
  description?: string;
  options: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  examples?: string[];
  run(args: CommandArgs, io: Io): Promise<number | void>;
};

/** An error whose message is meant for the user as is (no stack trace). */
export class UsageError extends Error {}

function readInput(path: string | undefined, io: Io): string {
  return path === undefined || path === '-' ? io.readStdin() : readFileSync(path, 'utf8');
}

const commands: Command[] = [
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
    options: {
      'keep-duplicates': { type: 'boolean', description: 'keep questions repeated ignoring case (the released pipeline drops them)' },
    },
    positionals: [{ name: 'FILE', description: 'model output; "-" or nothing reads stdin', optional: true }],
    async run({ values, positionals }, io) {
      const pairs = parseComprehension(readInput(positionals[0], io), { deduplicate: values['keep-duplicates'] !== true });
      io.stdout(JSON.stringify(pairs, null, 2) + '\n');
    },
  },
  {
    name: 'coverage',
    summary: 'Task-category coverage of a set of pairs: counts per category and family, lengths, figures.',
    description:
      'Labels every pair with the kit\'s task taxonomy (data/tasks/taxonomy.json) using the rule classifier\n' +
      '(data/tasks/rules.json), then writes coverage.json, labels.jsonl, a self-contained coverage.html,\n' +
      'PNG figures under figures/ (when Chromium is installed) and manifest.json into the output folder.\n' +
      'Input lines may be {"question","answer"} pairs, Chains, {"chain": Chain} or {"context","pairs"} records.',
    options: {
      input: { type: 'string', short: 'i', value: 'PATH', description: 'pairs or chains JSONL file, a synthesis run folder, or hf:<dataset> (download it first)' },
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
      const { readPairsInput, InputError } = await import('./tasks/input.js');
      const { runCoverage } = await import('./report/coverage.js');
      const { categoryRows, coverageSummary } = await import('./tasks/coverage.js');
      const { textTable } = await import('./report/html.js');
      let set;
      try {
        set = readPairsInput(input, values.name as string | undefined);
      } catch (err) {
        if (err instanceof InputError) throw new UsageError(err.message);
        throw err;
      }
      const out = (values.out as string | undefined) ?? join('runs', 'coverage', set.name.replace(/[^\w.-]+/g, '_'));
      const command = ['ipt', 'coverage', '--input', input, '--out', out, '--png', png, ...(values.name ? ['--name', values.name as string] : [])];
      const result = await runCoverage({ input, out, png: png as 'auto' | 'yes' | 'no', command }, set);
      for (const w of result.coverage.warnings) io.stderr(`warning: ${w}\n`);
      if (result.pngSkipped) io.stderr(`note: no PNG figures (${result.pngSkipped})\n`);
      io.stdout(`${coverageSummary(result.coverage)}\n\n`);
      if (top > 0) io.stdout(textTable(categoryRows(result.coverage, top)) + '\n');
      io.stdout(`wrote ${result.files.map((f) => join(out, f)).join(', ')}\n`);
    },
  },
  {
    name: 'render',
    summary: 'Render synthesized chains into pre-training texts with the templates (JSON lines in, JSON lines out).',
    description:
      'Each input line is one chain: a JSON array of {"context", "pairs": [{"question", "answer"}], "inheritFromPrev"}.\n' +
      'Consecutive inherited entries become one few-shot reading-comprehension text; entries without pairs stay raw.\n' +
      'Each output line is {"text": ..., "chain": i}; chain i is rendered with a seed derived from --seed and i,\n' +
      'so the same input and seed give the same file. The output appears complete or not at all.',
    options: {
      input: { type: 'string', short: 'i', value: 'FILE', description: 'chains, one JSON array per line ("-" reads stdin)' },
      out: { type: 'string', short: 'o', value: 'FILE', description: 'where to write the texts (default: stdout)' },
      seed: { type: 'string', value: 'N', default: '1', description: 'seed for the template draws' },
      family: { type: 'string', value: 'NAME', description: `use one layout family for every text: ${FAMILIES.join(', ')}` },
    },
    examples: ['ipt render --input chains.jsonl --out texts.jsonl --seed 1', 'ipt render -i chains.jsonl --family dialog | head'],
    async run({ values }, io) {
      if (typeof values.input !== 'string') throw new UsageError('--input FILE is required (one chain per line; "-" reads stdin)');
      const seed = Number(values.seed);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
      const family = values.family as Family | undefined;
      if (family !== undefined && !FAMILIES.includes(family)) throw new UsageError(`--family must be one of ${FAMILIES.join(', ')}, got "${family}"`);
      const out = typeof values.out === 'string' ? values.out : undefined;
      const summary = await renderJsonlFile({ input: values.input, out, seed, family, write: io.stdout });
      const families = Object.entries(summary.families).map(([f, n]) => `${f} ${n}`).join(', ');
      io.stderr(`ipt render: ${summary.chains} chains -> ${summary.texts} texts (${families || 'none'})${out ? ` in ${out}` : ''}\n`);
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
  {
    name: 'rules',
    summary: 'Mine instruction-response pairs from texts with the rule-based synthesizer (JSON lines).',
    description:
      'Each output line is {id, genre, context, output, pairs}: `output` is the exact string a synthesizer would write\n' +
      '(<QUE> q <ANS> a </END> pairs), `pairs` the same pairs with their rule kind. Deterministic for a seed.',
    options: {
      input: { type: 'string', value: 'brown|FILE.jsonl', description: '"brown" (a seeded sample of Brown corpus chunks) or a JSON-lines file of {"text", "id"?, "genre"?}' },
      n: { type: 'string', value: 'N', default: '10', description: 'number of texts' },
      seed: { type: 'string', value: 'S', default: '0', description: 'seed for the sample and the rules' },
      'max-pairs': { type: 'string', value: 'K', default: '6', description: 'at most K pairs per text' },
      kinds: { type: 'string', value: 'LIST', description: `comma-separated rule kinds (default all: ${RULE_KINDS.join(', ')})` },
      out: { type: 'string', value: 'FILE', description: 'write the JSON lines to FILE instead of printing them' },
    },
    examples: ['ipt rules --input brown --n 5 --seed 1', 'ipt rules --input texts.jsonl --n 100 --out pairs.jsonl'],
    async run({ values }, io) {
      const int = (name: string, min: number): number => {
        const raw = String(values[name]);
        if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
        return Number(raw);
      };
      const input = values.input as string | undefined;
      if (!input) throw new UsageError('--input is required: "brown" or a .jsonl file');
      const n = int('n', 1);
      const seed = int('seed', 0);
      const maxPairs = int('max-pairs', 1);
      let kinds: RuleKind[] | undefined;
      if (values.kinds !== undefined) {
        kinds = String(values.kinds).split(',').map((k) => k.trim()).filter(Boolean) as RuleKind[];
        const unknown = kinds.filter((k) => !(RULE_KINDS as readonly string[]).includes(k));
        if (unknown.length || kinds.length === 0) throw new UsageError(`unknown rule kind(s) ${unknown.join(', ')}; choose from ${RULE_KINDS.join(', ')}`);
      }
      const texts = input === 'brown' ? brownRuleTexts(n, seed) : jsonlRuleTexts(input, n);
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
    name: 'download',
    summary: 'Download files of a Hugging Face model or dataset repo into the standard HF cache.',
    description:
      'Files land in $HF_HUB_CACHE (else $HF_HOME/hub, else ~/.cache/huggingface/hub) in the layout Python uses, so both share them. ' +
      'HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE are honoured. Globs: "*.json" matches a file name in any folder, "dir/" a whole folder, "**" crosses folders.',
    options: {
      dataset: { type: 'boolean', description: 'the repo is a dataset repo' },
      revision: { type: 'string', value: 'REV', default: 'main', description: 'branch, tag or commit to download' },
      include: { type: 'string', multiple: true, value: 'GLOB', description: 'download only matching files' },
      exclude: { type: 'string', multiple: true, value: 'GLOB', description: 'skip matching files' },
      'cache-dir': { type: 'string', value: 'DIR', description: 'hub cache folder (default: from HF_HUB_CACHE / HF_HOME)' },
      offline: { type: 'boolean', description: 'use only the cache, as HF_HUB_OFFLINE=1 does' },
      concurrency: { type: 'string', value: 'N', default: '4', description: 'files transferred at once' },
      'run-dir': { type: 'string', value: 'DIR', description: 'write a manifest.json of what was downloaded into DIR' },
      json: { type: 'boolean', description: 'print the result as JSON' },
    },
    positionals: [{ name: 'REPO', description: 'repo id, e.g. instruction-pretrain/instruction-synthesizer' }],
    examples: [
      "ipt download instruction-pretrain/instruction-synthesizer --include '*.json' --include '*.safetensors'",
      "ipt download instruction-pretrain/general-instruction-augmented-corpora --dataset --include 'part-0/shard/0000*.txt'",
    ],
    async run({ values, positionals }, io) {
      const startedAt = new Date();
      const concurrency = Number(values.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a positive integer, got ${values.concurrency}`);
      const config = {
        ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] as string } : {}),
        ...(values.offline ? { offline: true } : {}),
      };
      const request = {
        repo: positionals[0],
        type: values.dataset ? ('dataset' as const) : ('model' as const),
        revision: values.revision as string,
        include: (values.include as string[] | undefined) ?? [],
        exclude: (values.exclude as string[] | undefined) ?? [],
      };
      const result = await downloadRepo({ ...request, config, concurrency });
      if (result.warning) io.stderr(`warning: ${result.warning}\n`);
      if (values['run-dir']) {
        await writeManifest(values['run-dir'] as string, {
          command: ['ipt', 'download', positionals[0]],
          config: request,
          seeds: {},
          inputs: [manifestInputOf(result)],
          startedAt,
          totals: { files: result.files.length, bytes: result.files.reduce((s, f) => s + f.bytes, 0), bytesDownloaded: result.bytesDownloaded },
        });
      }
      if (values.json) {
        io.stdout(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      const bytes = result.files.reduce((s, f) => s + f.bytes, 0);
      io.stdout(
        `${result.type} ${result.repo} @ ${result.revision} = ${result.commit}\n` +
          `${result.files.length} files, ${formatBytes(bytes)} (${formatBytes(result.bytesDownloaded)} downloaded now${result.fromCache ? ', from the cache only' : ''})\n` +
          `${result.snapshotDir}\n`,
      );
    },
  },
  {
    name: 'corpus sample',
    summary: 'Print a seeded sample of documents from a raw-text source as JSON lines.',
    description:
      'SOURCE is "brown" (the embedded Brown corpus), a local shard file or folder (.jsonl, .jsonl.gz, .json, .parquet, .txt), ' +
      'or hf:<dataset repo> (shards are downloaded into the HF cache as reading reaches them; --scan stops early).',
    options: {
      n: { type: 'string', value: 'N', default: '10', description: 'documents to sample' },
      seed: { type: 'string', value: 'S', default: '0', description: 'sampling seed' },
      scan: { type: 'string', value: 'M', description: 'read at most M documents (the sample is drawn from those)' },
      genre: { type: 'string', multiple: true, value: 'G', description: 'brown: only this genre' },
      include: { type: 'string', multiple: true, value: 'GLOB', description: 'folder or hf: read only matching shard files' },
      exclude: { type: 'string', multiple: true, value: 'GLOB', description: 'folder or hf: skip matching shard files' },
      revision: { type: 'string', value: 'REV', description: 'hf: branch, tag or commit' },
      'text-field': { type: 'string', value: 'F', default: 'text', description: 'the field that holds the text' },
      'on-error': { type: 'string', value: 'throw|skip', default: 'throw', description: 'a corrupt line or row: stop with an error, or skip and count it' },
      out: { type: 'string', value: 'FILE', description: 'write the sample to FILE instead of stdout' },
      'run-dir': { type: 'string', value: 'DIR', description: 'write sample.jsonl and manifest.json into DIR' },
    },
    positionals: [{ name: 'SOURCE', description: 'brown | PATH | hf:ORG/NAME' }],
    examples: ['ipt corpus sample brown --n 5 --genre news', 'ipt corpus sample hf:instruction-pretrain/general-instruction-augmented-corpora --include part-0/shard/00000.txt --n 1'],
    async run({ values, positionals }, io) {
      const startedAt = new Date();
      const n = Number(values.n);
      const seed = Number(values.seed);
      const scan = values.scan === undefined ? undefined : Number(values.scan);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive integer, got ${values.n}`);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
      if (scan !== undefined && (!Number.isInteger(scan) || scan < 1)) throw new UsageError(`--scan must be a positive integer, got ${values.scan}`);
      const onError = values['on-error'];
      if (onError !== 'throw' && onError !== 'skip') throw new UsageError(`--on-error must be throw or skip, got ${onError}`);
      const sourceOptions = {
        genres: values.genre as string[] | undefined,
        include: values.include as string[] | undefined,
        exclude: values.exclude as string[] | undefined,
        revision: values.revision as string | undefined,
        textField: values['text-field'] as string,
        onError: onError as 'throw' | 'skip',
      };
      const sample = await sampleCorpus(openCorpus(positionals[0], sourceOptions), { n, seed, scan });
      const jsonl = sample.documents.map((d) => JSON.stringify(d)).join('\n') + (sample.documents.length ? '\n' : '');
      if (values['run-dir']) {
        const runDir = values['run-dir'] as string;
        writeFileAtomic(`${runDir}/sample.jsonl`, jsonl);
        await writeManifest(runDir, {
          command: ['ipt', 'corpus', 'sample', positionals[0]],
          config: { source: positionals[0], n, scan, ...sourceOptions },
          seeds: { sample: seed },
          inputs: [sample.input],
          outputs: ['sample.jsonl'],
          startedAt,
          totals: { scanned: sample.scanned, sampled: sample.documents.length, skipped: sample.stats.skipped },
        });
      }
      if (values.out) writeFileAtomic(values.out as string, jsonl);
      else if (!values['run-dir']) io.stdout(jsonl);
      io.stderr(`sampled ${sample.documents.length} of ${sample.scanned} documents from ${positionals[0]}${sample.stats.skipped ? `; skipped ${sample.stats.skipped} corrupt lines/rows` : ''}\n`);
      for (const issue of sample.stats.issues.slice(0, 5)) io.stderr(`  ${issue.file}${issue.line !== undefined ? ':' + issue.line : issue.row !== undefined ? ' row ' + issue.row : ''}: ${issue.message}\n`);
    },
  },
  {
    name: 'corpus chunk',
    summary: 'Cut documents of a raw-text source into contexts within a token budget (JSON lines).',
    description: 'Cuts fall between paragraphs, else sentences, else words; token counts come from the tiny tokenizer or --tokenizer DIR (a tokenizer.json folder).',
    options: {
      'max-tokens': { type: 'string', value: 'N', default: '512', description: 'token budget of a context' },
      'min-tokens': { type: 'string', value: 'N', default: '1', description: 'drop shorter contexts' },
      tokenizer: { type: 'string', value: 'DIR', description: 'folder with tokenizer.json (default: the tiny byte-level tokenizer)' },
      dedup: { type: 'boolean', description: 'drop near-duplicate contexts (MinHash over 5-word shingles)' },
      'dedup-threshold': { type: 'string', value: 'J', default: '0.8', description: 'estimated Jaccard similarity that counts as a near-duplicate' },
      seed: { type: 'string', value: 'S', default: '0', description: 'MinHash seed' },
      limit: { type: 'string', value: 'N', description: 'only the first N documents' },
      genre: { type: 'string', multiple: true, value: 'G', description: 'brown: only this genre' },
      include: { type: 'string', multiple: true, value: 'GLOB', description: 'folder or hf: read only matching shard files' },
      'text-field': { type: 'string', value: 'F', default: 'text', description: 'the field that holds the text' },
      out: { type: 'string', value: 'FILE', description: 'write contexts to FILE instead of stdout' },
      'run-dir': { type: 'string', value: 'DIR', description: 'write contexts.jsonl and manifest.json into DIR' },
    },
    positionals: [{ name: 'SOURCE', description: 'brown | PATH | hf:ORG/NAME' }],
    examples: ['ipt corpus chunk brown --max-tokens 512 --dedup --run-dir runs/contexts'],
    async run({ values, positionals }, io) {
      const startedAt = new Date();
      const int = (name: string, min: number) => {
        const v = Number(values[name]);
        if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${values[name]}`);
        return v;
      };
      const maxTokens = int('max-tokens', 1);
      const minTokens = int('min-tokens', 0);
      const seed = int('seed', 0);
      const limit = values.limit === undefined ? Infinity : int('limit', 1);
      const threshold = Number(values['dedup-threshold']);
      if (!(threshold > 0 && threshold <= 1)) throw new UsageError(`--dedup-threshold must be in (0, 1], got ${values['dedup-threshold']}`);
      const source = openCorpus(positionals[0], { genres: values.genre as string[] | undefined, include: values.include as string[] | undefined, textField: values['text-field'] as string });
      const docs: CorpusDocument[] = [];
      for await (const d of source.documents()) {
        docs.push(d);
        if (docs.length >= limit) break;
      }
      const stats: ChunkStats = { documents: 0, contexts: 0, tokens: 0, droppedShort: 0, droppedDuplicates: 0 };
      const contexts = chunkDocuments(docs, {
        maxTokens,
        minTokens,
        tokenizer: values.tokenizer as string | undefined,
        dedup: values.dedup ? { threshold, seed } : false,
        stats,
      });
      const jsonl = contexts.map((c) => JSON.stringify(c)).join('\n') + (contexts.length ? '\n' : '');
      if (values['run-dir']) {
        const runDir = values['run-dir'] as string;
        writeFileAtomic(`${runDir}/contexts.jsonl`, jsonl);
        const inputs: ManifestInput[] = [source.manifestInput()];
        await writeManifest(runDir, {
          command: ['ipt', 'corpus', 'chunk', positionals[0]],
          config: { source: positionals[0], maxTokens, minTokens, tokenizer: values.tokenizer ?? 'tiny', dedup: values.dedup ? { threshold } : false, limit: values.limit ?? null },
          seeds: { dedup: seed },
          inputs,
          outputs: ['contexts.jsonl'],
          startedAt,
          totals: { ...stats },
        });
      }
      if (values.out) writeFileAtomic(values.out as string, jsonl);
      else if (!values['run-dir']) io.stdout(jsonl);
      io.stderr(`${stats.documents} documents -> ${stats.contexts} contexts, ${stats.tokens} tokens (max ${maxTokens})${stats.droppedDuplicates ? `; dropped ${stats.droppedDuplicates} near-duplicates` : ''}${stats.droppedShort ? `; dropped ${stats.droppedShort} short` : ''}\n`);
    },
  },
];

export function listCommands(): readonly Command[] {
  return commands;
}

function usageLine(cmd: Command): string {
  const pos = (cmd.positionals ?? []).map((p) => {
    const name = p.variadic ? `${p.name}...` : p.name;
    return p.optional ? `[${name}]` : name;
  });
  return ['ipt', cmd.name, Object.keys(cmd.options).length ? '[options]' : '', ...pos].filter(Boolean).join(' ');
}

export function commandHelp(cmd: Command): string {
  const lines = [`Usage: ${usageLine(cmd)}`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(24)} ${p.description}`);
  }
  const opts = Object.entries(cmd.options);
  lines.push('', 'Options:');
  for (const [name, o] of opts) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${Array.isArray(o.default) ? o.default.join(', ') : o.default})` : '';
    lines.push(`  ${flag.padEnd(24)} ${o.description}${o.multiple ? ' (repeatable)' : ''}${def}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(24)} show this help`);
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'ipt: the Instruction Pre-Training kit (Cheng et al., 2024, arXiv 2406.14491)',
    '',
    'Usage: ipt <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    'Run `ipt <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

/** The command whose (possibly multi-word) name is the longest prefix of argv. */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const target = argv[0] === 'help' && argv.length > 1 ? findCommand(argv.slice(1)) : undefined;
    io.stdout(target ? commandHelp(target.cmd) : mainHelp());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr(`ipt: unknown command "${argv.join(' ')}"\n\n${mainHelp()}`);
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(cmd));
    return 0;
  }
  let parsed: CommandArgs;
  try {
    const options = Object.fromEntries(
      Object.entries(cmd.options).map(([name, o]) => [
        name,
        Object.fromEntries(Object.entries({ type: o.type, short: o.short, multiple: o.multiple, default: o.default }).filter(([, v]) => v !== undefined)),
      ]),
    );
    const result = parseArgs({ args: rest, options: options as never, allowPositionals: true, strict: true });
    parsed = { values: result.values as CommandArgs['values'], positionals: result.positionals };
    const required = (cmd.positionals ?? []).filter((p) => !p.optional).length;
    const variadic = (cmd.positionals ?? []).some((p) => p.variadic);
    if (parsed.positionals.length < required || (!variadic && parsed.positionals.length > (cmd.positionals ?? []).length)) {
      throw new UsageError(`expected ${usageLine(cmd)}`);
    }
  } catch (err) {
    io.stderr(`ipt ${cmd.name}: ${(err as Error).message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
  try {
    return (await cmd.run(parsed, io)) ?? 0;
  } catch (err) {
    const e = err as Error;
    io.stderr(`ipt ${cmd.name}: ${e.message}\n`);
    if (process.env.IPT_DEBUG) io.stderr(`${e.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

function defaultIo(): Io {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: () => readFileSync(0, 'utf8'),
  };
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`ipt: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
