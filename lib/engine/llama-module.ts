// node-llama-cpp (llama.cpp for Node, prebuilt CPU, CUDA and Vulkan binaries on npm) is an opt-in
// install: its binaries add about 730 MB to `npm install` (CUDA builds alone 540 MB), so the kit's
// default install leaves it out and `npm run setup:llama` puts a pinned version into env/llama
// (CPU build, about 80 MB; `-- --gpu` adds the CUDA and Vulkan builds). This module finds it there
// (or in the project's node_modules, if someone installed it there), and declares the small part of
// its API the kit uses, so the kit compiles without it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../repro/project.js';

export type LlamaGpu = 'cuda' | 'vulkan' | 'metal' | false;
export type LlamaLogLevel = 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';

export type ProbabilityOutput = { next: { token?: number | null; probabilities?: Map<number, number> } };
export type ControlledItem = number | [number, { generateNext?: { probabilities?: boolean } }];

export interface LlamaSequence {
  evaluate(
    tokens: number[],
    options?: {
      temperature?: number;
      topP?: number;
      topK?: number;
      minP?: number;
      seed?: number;
      yieldEogToken?: boolean;
    },
  ): AsyncGenerator<number, void, void | number | number[]>;
  controlledEvaluate(input: ControlledItem[]): Promise<Array<ProbabilityOutput | undefined>>;
  clearHistory(): Promise<void>;
  dispose(): void;
}

export interface LlamaContext {
  getSequence(): LlamaSequence;
  readonly contextSize: number;
  dispose(): Promise<void>;
}

export interface LlamaModel {
  tokenize(text: string, specialTokens?: boolean): number[];
  detokenize(tokens: readonly number[], specialTokens?: boolean): string;
  isEogToken(token: number | undefined): boolean;
  readonly tokens: { readonly bos: number | null; readonly eos: number | null };
  readonly trainContextSize: number;
  readonly fileInfo: { readonly metadata: { readonly general?: { readonly architecture?: string } } };
  createContext(options: {
    contextSize?: number;
    sequences?: number;
    batchSize?: number;
    threads?: number;
    flashAttention?: boolean;
    experimentalKvCacheKeyType?: 'F32' | 'F16';
    experimentalKvCacheValueType?: 'F32' | 'F16';
  }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}

export interface Llama {
  readonly gpu: LlamaGpu;
  readonly cpuMathCores: number;
  readonly buildType: 'localBuild' | 'prebuilt';
  readonly llamaCppRelease: { readonly release: string };
  loadModel(options: { modelPath: string; gpuLayers?: 'auto' | 'max' | number }): Promise<LlamaModel>;
  getGpuDeviceNames(): Promise<string[]>;
  dispose(): Promise<void>;
}

export interface NodeLlamaCpp {
  getLlama(options: {
    gpu?: 'auto' | LlamaGpu;
    build?: 'never';
    logLevel?: LlamaLogLevel;
    logger?: (level: LlamaLogLevel, message: string) => void;
    maxThreads?: number;
    progressLogs?: boolean;
    skipDownload?: boolean;
  }): Promise<Llama>;
  getLlamaGpuTypes(include: 'supported' | 'allValid'): Promise<LlamaGpu[]>;
}

/** Said whenever node-llama-cpp is needed and absent. */
export const LLAMA_INSTALL_HELP =
  'node-llama-cpp is not installed (an opt-in: it adds 80 MB for the CPU build, 730 MB with CUDA and Vulkan): ' +
  'run `npm run setup:llama` (CPU) or `npm run setup:llama -- --gpu` (adds the CUDA and Vulkan builds); see env/engines.md';

export class LlamaNotInstalledError extends Error {
  constructor() {
    super(LLAMA_INSTALL_HELP);
    this.name = 'LlamaNotInstalledError';
  }
}

/** The entry file of node-llama-cpp installed in `dir` (a folder holding node_modules), or undefined. */
function entryIn(dir: string): string | undefined {
  const pkg = join(dir, 'node_modules', 'node-llama-cpp', 'package.json');
  if (!existsSync(pkg)) return undefined;
  const json = JSON.parse(readFileSync(pkg, 'utf8')) as { exports?: { '.'?: { import?: string } }; main?: string };
  return join(dir, 'node_modules', 'node-llama-cpp', json.exports?.['.']?.import ?? json.main ?? 'dist/index.js');
}

/** Where node-llama-cpp is installed: env/llama (npm run setup:llama) first, then the project's own node_modules. */
export function findNodeLlamaCpp(root = projectRoot()): string | undefined {
  return entryIn(join(root, 'env', 'llama')) ?? entryIn(root);
}

/** node-llama-cpp (Node caches the import); LlamaNotInstalledError when it is not installed. */
export async function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  const entry = findNodeLlamaCpp();
  if (!entry) throw new LlamaNotInstalledError();
  return (await import(pathToFileURL(entry).href)) as NodeLlamaCpp;
}
