// Environment variables read as Python's huggingface_hub reads them; repo names and cache folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { homedir, tmpdir } from 'node:os';
import { envFlag, hubCacheDir, hubConfig, hubToken, scrubToken } from '../../lib/hub/config.js';
import { downloadCommand, parseRepo, repoFolderName, resolveUrl } from '../../lib/hub/repo.js';
import { fileFilter, isLiteralPath } from '../../lib/hub/globs.js';

test('the cache folder: HF_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub', () => {
  assert.equal(hubCacheDir({}), join(homedir(), '.cache', 'huggingface', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  assert.equal(hubCacheDir({ HF_HOME: '/h', XDG_CACHE_HOME: '/x' }), '/h/hub');
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
  assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/legacy', HF_HOME: '/h' }), '/legacy');
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '~/hf' }), join(homedir(), 'hf'));
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '  ', HF_HOME: '/h' }), '/h/hub');
});

test('HF_HUB_OFFLINE, HF_ENDPOINT and the token sources', () => {
  for (const v of ['1', 'true', 'YES', 'on']) assert.equal(envFlag(v), true, v);
  for (const v of [undefined, '', '0', 'false', 'no']) assert.equal(envFlag(v), false, String(v));
  const cfg = hubConfig({}, { HF_ENDPOINT: 'http://mirror.local:8080/', HF_HUB_OFFLINE: '1', HF_HOME: '/nonexistent' });
  assert.deepEqual(cfg, {
    endpoint: 'http://mirror.local:8080',
    token: undefined,
    offline: true,
    cacheDir: '/nonexistent/hub',
  });
  assert.equal(hubConfig({}, { HF_HOME: '/nonexistent' }).endpoint, 'https://huggingface.co');
  const home = mkdtempSync(join(tmpdir(), 'ipt-hfhome-'));
  try {
    assert.equal(hubToken({ HF_HOME: home }), undefined);
    writeFileSync(join(home, 'token'), 'hf_fromTokenFile\n');
    assert.equal(hubToken({ HF_HOME: home }), 'hf_fromTokenFile');
    assert.equal(hubToken({ HF_HOME: home, HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }), 'hf_legacy');
    assert.equal(hubToken({ HF_HOME: home, HF_TOKEN: 'hf_env', HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }), 'hf_env');
    assert.equal(hubConfig({ token: undefined }, { HF_HOME: home, HF_TOKEN: 'hf_env' }).token, undefined);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  assert.equal(scrubToken('Bearer hf_secret123 failed', 'hf_secret123'), 'Bearer [redacted] failed');
});

test('repo ids, cache folder names and URLs', () => {
  assert.deepEqual(parseRepo('instruction-pretrain/instruction-synthesizer'), {
    type: 'model',
    id: 'instruction-pretrain/instruction-synthesizer',
  });
  assert.deepEqual(parseRepo('datasets/org/name'), { type: 'dataset', id: 'org/name' });
  assert.deepEqual(parseRepo('hf:org/name', 'dataset'), { type: 'dataset', id: 'org/name' });
  assert.deepEqual(parseRepo('gpt2'), { type: 'model', id: 'gpt2' });
  for (const bad of ['../etc', 'a/b/c', 'org/..', 'org/a--b', '', 'org/na me'])
    assert.throws(() => parseRepo(bad), /not a hub repo id/, bad);
  assert.equal(repoFolderName({ type: 'model', id: 'org/name' }), 'models--org--name');
  assert.equal(repoFolderName({ type: 'dataset', id: 'org/name' }), 'datasets--org--name');
  assert.equal(repoFolderName({ type: 'model', id: 'gpt2' }), 'models--gpt2');
  assert.equal(
    resolveUrl('https://huggingface.co', { type: 'dataset', id: 'o/n' }, 'refs/pr/1', 'a b/c.txt'),
    'https://huggingface.co/datasets/o/n/resolve/refs%2Fpr%2F1/a%20b/c.txt',
  );
  assert.equal(
    downloadCommand({ type: 'dataset', id: 'o/n' }, 'v1', ['*.jsonl']),
    "ipt download o/n --dataset --revision v1 --include '*.jsonl'",
  );
});

test('globs: bare patterns match file names anywhere, "dir/" takes a folder, excludes win', () => {
  const paths = [
    'config.json',
    'a/b/config.json',
    'model.safetensors',
    'fp16/model.safetensors',
    '.gitattributes',
    'data/x.jsonl',
    'data/sub/y.jsonl',
  ];
  const sel = (inc: string[], exc: string[] = []) => paths.filter(fileFilter(inc, exc));
  assert.deepEqual(sel([]), paths);
  assert.deepEqual(sel(['*.json']), ['config.json', 'a/b/config.json']);
  assert.deepEqual(sel(['*.safetensors'], ['fp16/']), ['model.safetensors']);
  assert.deepEqual(sel(['data/*.jsonl']), ['data/x.jsonl']);
  assert.deepEqual(sel(['data/**/*.jsonl']), ['data/x.jsonl', 'data/sub/y.jsonl']);
  assert.deepEqual(sel(['data/']), ['data/x.jsonl', 'data/sub/y.jsonl']);
  assert.deepEqual(sel(['*'], ['*.json', '.*']), [
    'model.safetensors',
    'fp16/model.safetensors',
    'data/x.jsonl',
    'data/sub/y.jsonl',
  ]);
  assert.equal(isLiteralPath('a/b.json'), true);
  assert.equal(isLiteralPath('*.json'), false);
  assert.equal(isLiteralPath('data/'), false);
});
