// ipt commands for raw text: Hugging Face downloads, corpus samples and chunking into contexts.

import { formatBytes } from '../repro/progress.js';
import { writeFileAtomic } from '../repro/files.js';
import { downloadRepo, manifestInputOf } from '../hub/download.js';
import { openCorpus, sampleCorpus, type CorpusDocument } from '../corpus/source.js';
import { chunkDocuments, type ChunkStats } from '../corpus/chunk.js';
import { writeManifest, type ManifestInput } from '../repro/manifest.js';
import { UsageError, type Command } from './command.js';

export const corpusCommands: Command[] = [
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
      'cache-dir': {
        type: 'string',
        value: 'DIR',
        description: 'hub cache folder (default: from HF_HUB_CACHE / HF_HOME)',
      },
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
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new UsageError(`--concurrency must be a positive integer, got ${values.concurrency}`);
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
      for (const w of result.warning?.split('\n') ?? []) io.stderr(`warning: ${w}\n`);
      if (values['run-dir']) {
        await writeManifest(values['run-dir'] as string, {
          command: ['ipt', 'download', positionals[0]],
          config: request,
          seeds: {},
          inputs: [manifestInputOf(result)],
          startedAt,
          totals: {
            files: result.files.length,
            bytes: result.files.reduce((s, f) => s + f.bytes, 0),
            bytesDownloaded: result.bytesDownloaded,
          },
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
      include: {
        type: 'string',
        multiple: true,
        value: 'GLOB',
        description: 'folder or hf: read only matching shard files',
      },
      exclude: {
        type: 'string',
        multiple: true,
        value: 'GLOB',
        description: 'folder or hf: skip matching shard files',
      },
      revision: { type: 'string', value: 'REV', description: 'hf: branch, tag or commit' },
      'text-field': { type: 'string', value: 'F', default: 'text', description: 'the field that holds the text' },
      'on-error': {
        type: 'string',
        value: 'throw|skip',
        default: 'throw',
        description: 'a corrupt line or row: stop with an error, or skip and count it',
      },
      out: { type: 'string', value: 'FILE', description: 'write the sample to FILE instead of stdout' },
      'run-dir': { type: 'string', value: 'DIR', description: 'write sample.jsonl and manifest.json into DIR' },
    },
    positionals: [{ name: 'SOURCE', description: 'brown | PATH | hf:ORG/NAME' }],
    examples: [
      'ipt corpus sample brown --n 5 --genre news',
      'ipt corpus sample hf:instruction-pretrain/general-instruction-augmented-corpora --include part-0/shard/00000.txt --n 1',
    ],
    async run({ values, positionals }, io) {
      const startedAt = new Date();
      const n = Number(values.n);
      const seed = Number(values.seed);
      const scan = values.scan === undefined ? undefined : Number(values.scan);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive integer, got ${values.n}`);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
      if (scan !== undefined && (!Number.isInteger(scan) || scan < 1))
        throw new UsageError(`--scan must be a positive integer, got ${values.scan}`);
      const onError = values['on-error'];
      if (onError !== 'throw' && onError !== 'skip')
        throw new UsageError(`--on-error must be throw or skip, got ${onError}`);
      const sourceOptions = {
        genres: values.genre as string[] | undefined,
        include: values.include as string[] | undefined,
        exclude: values.exclude as string[] | undefined,
        revision: values.revision as string | undefined,
        textField: values['text-field'] as string,
        onError: onError as 'throw' | 'skip',
      };
      const sample = await sampleCorpus(openCorpus(positionals[0], sourceOptions), { n, seed, scan });
      if (sample.documents.length === 0) {
        const skipped = sample.stats.skipped ? ` (${sample.stats.skipped} corrupt lines/rows skipped)` : '';
        throw new Error(`${positionals[0]} holds no documents${skipped}; nothing was written`);
      }
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
      io.stderr(
        `sampled ${sample.documents.length} of ${sample.scanned} documents from ${positionals[0]}${sample.stats.skipped ? `; skipped ${sample.stats.skipped} corrupt lines/rows` : ''}\n`,
      );
      for (const issue of sample.stats.issues.slice(0, 5))
        io.stderr(
          `  ${issue.file}${issue.line !== undefined ? ':' + issue.line : issue.row !== undefined ? ' row ' + issue.row : ''}: ${issue.message}\n`,
        );
    },
  },
  {
    name: 'corpus chunk',
    summary: 'Cut documents of a raw-text source into contexts within a token budget (JSON lines).',
    description:
      'Cuts fall between paragraphs, else sentences, else words; token counts come from the tiny tokenizer or --tokenizer DIR (a tokenizer.json folder).',
    options: {
      'max-tokens': { type: 'string', value: 'N', default: '512', description: 'token budget of a context' },
      'min-tokens': { type: 'string', value: 'N', default: '1', description: 'drop shorter contexts' },
      tokenizer: {
        type: 'string',
        value: 'DIR',
        description: 'folder with tokenizer.json (default: the tiny byte-level tokenizer)',
      },
      dedup: { type: 'boolean', description: 'drop near-duplicate contexts (MinHash over 5-word shingles)' },
      'dedup-threshold': {
        type: 'string',
        value: 'J',
        default: '0.8',
        description: 'estimated Jaccard similarity that counts as a near-duplicate',
      },
      seed: { type: 'string', value: 'S', default: '0', description: 'MinHash seed' },
      limit: { type: 'string', value: 'N', description: 'only the first N documents' },
      genre: { type: 'string', multiple: true, value: 'G', description: 'brown: only this genre' },
      include: {
        type: 'string',
        multiple: true,
        value: 'GLOB',
        description: 'folder or hf: read only matching shard files',
      },
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
        if (!Number.isInteger(v) || v < min)
          throw new UsageError(`--${name} must be an integer >= ${min}, got ${values[name]}`);
        return v;
      };
      const maxTokens = int('max-tokens', 1);
      const minTokens = int('min-tokens', 0);
      if (minTokens > maxTokens)
        throw new UsageError(
          `--min-tokens (${minTokens}) is above --max-tokens (${maxTokens}): no context could be kept`,
        );
      const seed = int('seed', 0);
      const limit = values.limit === undefined ? Infinity : int('limit', 1);
      const threshold = Number(values['dedup-threshold']);
      if (!(threshold > 0 && threshold <= 1))
        throw new UsageError(`--dedup-threshold must be in (0, 1], got ${values['dedup-threshold']}`);
      const source = openCorpus(positionals[0], {
        genres: values.genre as string[] | undefined,
        include: values.include as string[] | undefined,
        textField: values['text-field'] as string,
      });
      const docs: CorpusDocument[] = [];
      for await (const d of source.documents()) {
        docs.push(d);
        if (docs.length >= limit) break;
      }
      if (docs.length === 0) throw new Error(`${positionals[0]} holds no documents; nothing was written`);
      const stats: ChunkStats = { documents: 0, contexts: 0, tokens: 0, droppedShort: 0, droppedDuplicates: 0 };
      const contexts = chunkDocuments(docs, {
        maxTokens,
        minTokens,
        tokenizer: values.tokenizer as string | undefined,
        dedup: values.dedup ? { threshold, seed } : false,
        stats,
      });
      if (contexts.length === 0) {
        throw new Error(
          `no context was kept from ${stats.documents} documents (${stats.droppedShort} shorter than --min-tokens ${minTokens}, ${stats.droppedDuplicates} near-duplicates); nothing was written`,
        );
      }
      const jsonl = contexts.map((c) => JSON.stringify(c)).join('\n') + (contexts.length ? '\n' : '');
      if (values['run-dir']) {
        const runDir = values['run-dir'] as string;
        writeFileAtomic(`${runDir}/contexts.jsonl`, jsonl);
        const inputs: ManifestInput[] = [source.manifestInput()];
        await writeManifest(runDir, {
          command: ['ipt', 'corpus', 'chunk', positionals[0]],
          config: {
            source: positionals[0],
            maxTokens,
            minTokens,
            tokenizer: values.tokenizer ?? 'tiny',
            dedup: values.dedup ? { threshold } : false,
            limit: values.limit ?? null,
          },
          seeds: { dedup: seed },
          inputs,
          outputs: ['contexts.jsonl'],
          startedAt,
          totals: { ...stats },
        });
      }
      if (values.out) writeFileAtomic(values.out as string, jsonl);
      else if (!values['run-dir']) io.stdout(jsonl);
      io.stderr(
        `${stats.documents} documents -> ${stats.contexts} contexts, ${stats.tokens} tokens (max ${maxTokens})${stats.droppedDuplicates ? `; dropped ${stats.droppedDuplicates} near-duplicates` : ''}${stats.droppedShort ? `; dropped ${stats.droppedShort} short` : ''}\n`,
      );
    },
  },
];
