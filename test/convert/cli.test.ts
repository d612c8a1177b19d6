// ipt convert from the command line: what it writes, what it refuses (before writing anything), a
// killed conversion leaving nothing that looks complete, a Hub repo fetched with only the files it
// needs, and transformers.js loading the folder it writes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { projectRoot } from '../../lib/repro/project.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { FakeHub } from '../hub/fake-hub.js';
import { llamaConfig, llamaWeights, writeCheckpoint } from './hf-checkpoint.js';
import { llamaGreedy, refConfig } from './llama-reference.js';
import { runCli as run } from '../cli-io.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-convert-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function checkpoint(name: string, config = llamaConfig()): string {
  const dir = join(root, name);
  writeCheckpoint(dir, config, llamaWeights(config, 2).weights, { shards: ['BF16', 'BF16'] });
  return dir;
}

test('ipt convert writes the Optimum layout and says where it went; an existing folder needs --force', async () => {
  const src = checkpoint('cli-src');
  const out = join(root, 'cli-out');
  let r = await run(['convert', src, '--out', out, '--dtype', 'int4', '--block-size', '16']);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^MistralForCausalLM -> .*cli-out \(int4, [\d.]+ [KM]B\) in [\d.]+ s, \d+ MB\/s of checkpoint\nrun it: ipt synthesize --engine onnx:/,
  );
  assert.deepEqual(readdirSync(out).sort(), [
    'config.json',
    'generation_config.json',
    'manifest.json',
    'onnx',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.ipt_convert, { source: 'checkpoint', dtype: 'int4' });
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.config.blockSize, 16);
  assert.deepEqual(
    manifest.inputs[0].files.map((f: { path: string }) => f.path),
    ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
  );
  r = await run(['convert', src, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /already exists and is not empty: choose another --out, or pass --force to replace it/);
  r = await run(['convert', src, '--out', out, '--force']);
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).ipt_convert.dtype, 'fp32');
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.')),
    [],
    'no staging or old folder left',
  );
});

test('unsupported checkpoints are refused with what is unsupported, before anything is written', async () => {
  const cases: Array<[string, (c: Record<string, unknown>) => void, RegExp]> = [
    [
      'arch',
      (c) => (c.architectures = ['Qwen2ForCausalLM']),
      /architecture Qwen2ForCausalLM is not supported; the converter handles LlamaForCausalLM, MistralForCausalLM and GPT2LMHeadModel/,
    ],
    [
      'yarn',
      (c) => (c.rope_scaling = { rope_type: 'yarn', factor: 4 }),
      /rope_scaling of type "yarn" is not supported \(only "llama3"/,
    ],
    ['bias', (c) => (c.attention_bias = true), /attention_bias: true is not supported/],
    ['act', (c) => (c.hidden_act = 'gelu'), /hidden_act "gelu" is not supported/],
  ];
  for (const [name, edit, message] of cases) {
    const src = checkpoint(`bad-${name}`);
    const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    edit(config);
    writeFileSync(join(src, 'config.json'), JSON.stringify(config));
    const out = join(root, `bad-${name}-out`);
    const r = await run(['convert', src, '--out', out]);
    assert.equal(r.code, 1, name);
    assert.match(r.err, message, name);
    assert.equal(existsSync(out), false, `${name}: nothing written`);
  }
  // weights that do not match config.json
  const src = checkpoint('bad-shape');
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
  writeFileSync(join(src, 'config.json'), JSON.stringify({ ...config, intermediate_size: 96 }));
  let r = await run(['convert', src, '--out', join(root, 'bad-shape-out')]);
  assert.match(
    r.err,
    /the weights do not match config\.json: model\.layers\.0\.mlp\.gate_proj\.weight has shape \[64,32\], config\.json implies \[96,32\]/,
  );
  // PyTorch weights only
  const bin = join(root, 'bin-only');
  mkdirSync(bin);
  writeFileSync(join(bin, 'config.json'), JSON.stringify(llamaConfig()));
  writeFileSync(join(bin, 'pytorch_model.bin'), 'x');
  r = await run(['convert', bin, '--out', join(root, 'bin-out')]);
  assert.match(r.err, /has only PyTorch \.bin weights; the converter reads safetensors/);
  r = await run(['convert', src, '--out', join(root, 'x'), '--dtype', 'int8']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--dtype must be one of fp32, fp16, int4, got "int8"/);
  r = await run(['convert', join(root, 'nowhere'), '--out', join(root, 'x')]);
  assert.match(r.err, /is neither a folder here nor a Hub repo id/);
});

test(
  'a killed conversion leaves no folder that looks complete; the next run cleans up and finishes',
  { timeout: 180_000 },
  async () => {
    // big enough that converting takes a moment: 4 layers of width 512 (about 17M parameters)
    const src = checkpoint(
      'kill-src',
      llamaConfig({ hidden: 512, intermediate: 1536, layers: 4, heads: 8, kvHeads: 2 }),
    );
    const out = join(root, 'kill-out');
    const child = spawn(
      process.execPath,
      [join(projectRoot(), 'dist/lib/cli.js'), 'convert', src, '--out', out, '--dtype', 'fp16'],
      { stdio: 'ignore' },
    );
    const exited = new Promise((ok) => child.once('exit', ok));
    // kill it once its staging folder has begun to fill
    for (let i = 0; i < 2000; i++) {
      const staging = readdirSync(root).find((n) => n.startsWith('.kill-out.partial-'));
      if (staging && existsSync(join(root, staging, 'onnx'))) break;
      await new Promise((ok) => setTimeout(ok, 5));
    }
    child.kill('SIGKILL');
    await exited;
    assert.equal(existsSync(out), false, 'no output folder after the kill');
    assert.ok(
      readdirSync(root).some((n) => n.startsWith('.kill-out.partial-')),
      'only a hidden staging folder remains',
    );
    const r = await run(['convert', src, '--out', out, '--dtype', 'fp16']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('.kill-out')),
      [],
      "the dead run's staging folder is removed",
    );
    assert.ok(existsSync(join(out, 'onnx', 'model.onnx')));
  },
);

test(
  'from the Hub: only config, tokenizer and the safetensors the index names are fetched',
  { timeout: 120_000 },
  async () => {
    const config = llamaConfig();
    const src = join(root, 'hub-src');
    const stored = writeCheckpoint(src, config, llamaWeights(config, 4).weights, { shards: ['BF16', 'F32'] });
    const files = readdirSync(src).map((path) => ({
      path,
      content: readFileSync(join(src, path)),
      lfs: path.endsWith('.safetensors'),
    }));
    files.push(
      { path: 'pytorch_model.bin', content: Buffer.alloc(2048), lfs: true },
      { path: 'consolidated.safetensors', content: Buffer.alloc(2048), lfs: true },
      { path: 'README.md', content: Buffer.from('# tiny'), lfs: false },
    );
    const hub = await FakeHub.start([{ type: 'model', id: 'org/tiny-mistral', commits: [files] }]);
    const env = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE };
    try {
      process.env.HF_ENDPOINT = hub.url;
      process.env.HF_HUB_CACHE = join(root, 'hf-cache');
      const out = join(root, 'hub-out');
      const r = await run(['convert', 'org/tiny-mistral', '--out', out]);
      assert.equal(r.code, 0, r.err);
      const fetched = hub.requests
        .filter((q) => q.method === 'GET' && /\/resolve\//.test(q.url))
        .map((q) => decodeURIComponent(q.url.split('/').pop()!));
      assert.deepEqual([...new Set(fetched)].sort(), [
        'config.json',
        'generation_config.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      assert.equal(manifest.inputs[0].commit, hub.commit('model', 'org/tiny-mistral'));
      const lm = await OnnxCausalLM.load(out, { threads: 1 });
      try {
        assert.deepEqual(await lm.generate([[1, 40, 41, 42]], { maxNewTokens: 5, stopTokenIds: [] }), [
          llamaGreedy(refConfig(config), stored, [1, 40, 41, 42], 5),
        ]);
      } finally {
        await lm.close();
      }
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await hub.close();
    }
  },
);

test(
  'transformers.js loads the converted folder and generates the same greedy tokens',
  { timeout: 120_000 },
  async () => {
    const config = llamaConfig();
    const src = join(root, 'tjs-src');
    const stored = writeCheckpoint(src, config, llamaWeights(config, 6).weights, { shards: ['BF16'] });
    const out = join(root, 'tjs-out');
    assert.equal((await run(['convert', src, '--out', out])).code, 0);
    const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = root;
    const model = await AutoModelForCausalLM.from_pretrained('tjs-out', { dtype: 'fp32' });
    const prompt = [1, 40, 41, 42, 100, 7];
    const ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
    const generated = (await model.generate({ input_ids: ids, max_new_tokens: 6, do_sample: false })) as {
      tolist(): bigint[][];
    };
    await model.dispose();
    assert.deepEqual(
      generated.tolist()[0].slice(prompt.length).map(Number),
      llamaGreedy(refConfig(config), stored, prompt, 6),
    );
  },
);
