#!/usr/bin/env node
// Installs node-llama-cpp (llama.cpp for Node, prebuilt binaries from npm) into env/llama for the
// kit's gguf: engine. It is an opt-in because its binaries are large: the CPU build for this
// machine adds about 80 MB; --gpu adds every build npm serves for this OS (CUDA and Vulkan on
// Linux and Windows: about 730 MB in all). The version is pinned by env/llama/package-lock.json.
//
//   node env/setup-llama.mjs              CPU build (what `npm test` installs when it is missing)
//   node env/setup-llama.mjs --gpu        CPU, CUDA and Vulkan builds
//   node env/setup-llama.mjs --if-missing do nothing when it is already installed
//
// Install scripts are not run (node-llama-cpp's would try to download and compile llama.cpp when no
// prebuilt binary fits; the kit only uses prebuilt ones). Exit 0 when installed, 1 when npm failed.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'llama');
const args = new Set(process.argv.slice(2));
const pinned = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['node-llama-cpp'];

const PLATFORM_PACKAGES = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-arm': 'linux-armv7l',
  'darwin-arm64': 'mac-arm64-metal',
  'darwin-x64': 'mac-x64',
  'win32-x64': 'win-x64',
  'win32-arm64': 'win-arm64',
};
const platformPackage = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];

function installedVersion(name) {
  const pkg = join(dir, 'node_modules', ...name.split('/'), 'package.json');
  return existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).version : undefined;
}

const present =
  installedVersion('node-llama-cpp') === pinned &&
  (!platformPackage || installedVersion(`@node-llama-cpp/${platformPackage}`) === pinned);
if (args.has('--if-missing') && present && !args.has('--gpu')) process.exit(0);
if (!platformPackage) {
  console.error(
    `env/setup-llama: node-llama-cpp has no prebuilt binary for ${process.platform}-${process.arch}; the gguf: engine is not available here`,
  );
  process.exit(1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const common = ['--prefix', dir, '--ignore-scripts', '--no-audit', '--no-fund'];
function run(step) {
  const r = spawnSync(npm, step, { stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0;
}
const started = Date.now();
console.error(
  `env/setup-llama: installing node-llama-cpp ${pinned} (${args.has('--gpu') ? 'CPU, CUDA and Vulkan builds' : `CPU build for ${platformPackage}`}) into env/llama`,
);
const ok = args.has('--gpu')
  ? run(['ci', ...common])
  : run(['ci', '--omit=optional', ...common]) &&
    run(['install', '--no-save', '--omit=optional', ...common, `@node-llama-cpp/${platformPackage}@${pinned}`]);
if (!ok) {
  console.error(
    'env/setup-llama: npm could not install node-llama-cpp (no network, or no npm registry?); the gguf: engine and its tests are unavailable until `npm run setup:llama` succeeds',
  );
  process.exit(1);
}
console.error(`env/setup-llama: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
