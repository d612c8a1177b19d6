// ONNX Runtime sessions on the execution provider a user asked for: `cpu` (default), `webgpu`
// (bundled in onnxruntime-node 1.30 on Linux x64; Dawn over Vulkan, so any Vulkan-capable GPU),
// `cuda` (its libraries come from outside npm: `npm run setup:cuda`), or `auto` (cuda, then webgpu,
// then cpu). ONNX Runtime throws at session creation when a provider cannot start and never falls
// back by itself; here an explicit provider that fails throws an error saying what is missing and
// what to install, and only `auto` moves on to the next one.

import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';

export type ProviderChoice = 'cpu' | 'webgpu' | 'cuda' | 'auto';
export type Provider = Exclude<ProviderChoice, 'auto'>;
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['cpu', 'webgpu', 'cuda', 'auto'];

export type SessionSettings = {
  provider?: ProviderChoice;
  /** Intra-op threads; default: every core (2 threads halve prefill on 2 cores: env/engines.md, "Facts the engine relies on"). */
  threads?: number;
  /** CUDA device index. */
  deviceId?: number;
};

export type OpenedSession = {
  session: ort.InferenceSession;
  provider: Provider;
  /** Why providers tried before the one that started were skipped (for `auto`). */
  skipped: Array<{ provider: Provider; reason: string }>;
  options: ort.InferenceSession.SessionOptions;
};

/** A provider that cannot start, with the steps that would make it start. */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly provider: Provider,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

export function parseProvider(value: string | undefined): ProviderChoice {
  const v = (value ?? 'cpu').toLowerCase();
  if (!(PROVIDER_CHOICES as readonly string[]).includes(v)) {
    throw new Error(`unknown execution provider "${value}": use one of ${PROVIDER_CHOICES.join(', ')}`);
  }
  return v as ProviderChoice;
}

/** Session options measured for the kit (env/engines.md, "Facts the engine relies on"): full graph optimisation, one intra-op thread per core, sequential execution. */
export function sessionOptions(
  provider: Provider,
  settings: SessionSettings = {},
): ort.InferenceSession.SessionOptions {
  const threads = settings.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const eps: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda'
      ? [{ name: 'cuda', deviceId: settings.deviceId ?? 0 }, 'cpu']
      : provider === 'webgpu'
        ? ['webgpu', 'cpu']
        : ['cpu'];
  return {
    executionProviders: eps,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    logSeverityLevel: 3,
    // Idle worker threads wait instead of spinning: same speed here, less CPU taken from neighbours.
    extra: { session: { 'intra_op.allow_spinning': '0' } },
  };
}

function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(root, 'bin', 'napi-v6', process.platform, process.arch);
}

function hasSharedLibrary(name: string): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':'),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/usr/local/lib',
  ];
  if (dirs.some((d) => d && existsSync(join(d, name)))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes(Buffer.from(name));
  } catch {
    return false;
  }
}

const CUDA_HELP =
  'To use CUDA: run `npm run setup:cuda` (it downloads the CUDA provider libraries of onnxruntime-node 1.30 from NuGet), ' +
  "and install NVIDIA's CUDA 12 runtime, cuBLAS and cuDNN 9 so that libcudart.so.12, libcublas.so.12 and libcudnn.so.9 are on the library path " +
  '(see env/engines.md). Or use --provider cpu, or --provider auto to fall back to the CPU.';

const WEBGPU_HELP =
  "WebGPU runs on Vulkan here: install the Vulkan loader and your GPU's Vulkan driver " +
  '(Debian/Ubuntu: `apt-get install libvulkan1 mesa-vulkan-drivers` for AMD/Intel GPUs, or the NVIDIA driver with its Vulkan ICD), ' +
  'then `vulkaninfo --summary` (package vulkan-tools) should list the GPU. Or use --provider cpu, or --provider auto to fall back to the CPU.';

/** Explains why `provider` failed to start, with what to install. */
export function explainProviderFailure(provider: Provider, err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const first =
    raw
      .split('\n')
      .find((l) => l.trim().length > 0)
      ?.trim() ?? raw;
  if (provider === 'cuda') {
    const dir = ortBinaryDir();
    const missing = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].filter(
      (f) => !existsSync(join(dir, f)),
    );
    const what = missing.length
      ? `onnxruntime-node's CUDA provider is not installed (${missing.join(', ')} missing in ${dir})`
      : `the CUDA provider is installed but could not start (${first}); usually the CUDA 12 / cuDNN 9 libraries are missing or there is no usable NVIDIA GPU (check nvidia-smi)`;
    return `cannot start the CUDA execution provider: ${what}. ${CUDA_HELP}`;
  }
  if (provider === 'webgpu') {
    const listed = ort.listSupportedBackends().some((b) => b.name === 'webgpu');
    if (!listed)
      return `cannot start WebGPU: this onnxruntime-node build (${process.platform}/${process.arch}) does not include it. Use --provider cpu or cuda.`;
    const what = !hasSharedLibrary('libvulkan.so.1')
      ? 'the Vulkan loader libvulkan.so.1 is not installed'
      : /adapter/i.test(raw)
        ? 'no GPU adapter was found (no Vulkan driver for a GPU, or no GPU)'
        : first;
    return `cannot start the WebGPU execution provider: ${what}. ${WEBGPU_HELP}`;
  }
  return `cannot create an ONNX Runtime CPU session: ${first}`;
}

/** A reason not to try `provider` at all (libraries certainly absent), or undefined. */
function missingPrerequisite(provider: Provider): string | undefined {
  if (provider === 'cuda' && !existsSync(join(ortBinaryDir(), 'libonnxruntime_providers_cuda.so')))
    return 'provider library missing';
  if (provider === 'webgpu' && !hasSharedLibrary('libvulkan.so.1')) return 'libvulkan.so.1 missing';
  return undefined;
}

/**
 * Opens `model` (a path or the bytes of an .onnx file) on the chosen provider. `auto` tries cuda,
 * webgpu and cpu in turn and reports why it skipped each one that failed.
 */
export async function openSession(model: string | Uint8Array, settings: SessionSettings = {}): Promise<OpenedSession> {
  const choice = settings.provider ?? 'cpu';
  const order: Provider[] = choice === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [choice];
  const skipped: OpenedSession['skipped'] = [];
  for (const provider of order) {
    const options = sessionOptions(provider, settings);
    // Libraries certainly absent: fail (or skip, for auto) without trying, because a failed attempt
    // makes ONNX Runtime and Dawn print errors of their own to stderr (Dawn's from native code that no
    // log level reaches; ONNX Runtime's only with a process-wide ort.env.logLevel).
    const precheck = missingPrerequisite(provider);
    if (precheck) {
      const message = explainProviderFailure(provider, new Error(precheck));
      if (choice !== 'auto') throw new ProviderUnavailableError(provider, message);
      skipped.push({ provider, reason: message });
      continue;
    }
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options);
      return { session, provider, skipped, options };
    } catch (err) {
      if (provider === 'cpu') throw new Error(explainProviderFailure('cpu', err), { cause: err });
      const message = explainProviderFailure(provider, err);
      if (choice !== 'auto') throw new ProviderUnavailableError(provider, message, err);
      skipped.push({ provider, reason: message });
    }
  }
  throw new Error('unreachable: the cpu provider is always tried last');
}

/** Tries every provider on a tiny in-memory model: which start here, and why the others do not. */
export async function probeProviders(): Promise<Array<{ provider: Provider; ok: boolean; message?: string }>> {
  const { buildGptOnnx, seededGptWeights } = await import('./onnx-gpt.js');
  const cfg = { vocabSize: 8, contextLength: 4, width: 8, heads: 1, layers: 1, mlpRatio: 1, layerNormEps: 1e-5 };
  const bytes = buildGptOnnx({ cfg, weights: seededGptWeights(cfg, 1) });
  const out: Array<{ provider: Provider; ok: boolean; message?: string }> = [];
  for (const provider of ['cpu', 'webgpu', 'cuda'] as const) {
    try {
      const { session } = await openSession(bytes, { provider, threads: 1 });
      await session.release();
      out.push({ provider, ok: true });
    } catch (err) {
      out.push({ provider, ok: false, message: (err as Error).message });
    }
  }
  return out;
}
