#!/usr/bin/env bash
# Opt-in CUDA for the ONNX engine (`npm run setup:cuda`). onnxruntime-node 1.30 ships its CPU and
# WebGPU providers in the npm package; the CUDA provider's libraries are too large for npm and come
# from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0). The project's .npmrc skips that download
# so a plain `npm install` works offline; this script runs onnxruntime-node's own installer with
# the CUDA flag, then checks the NVIDIA libraries the provider loads. Needs network access to
# api.nuget.org (a proxy is honoured through GLOBAL_AGENT_HTTPS_PROXY). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT=node_modules/onnxruntime-node
if [ ! -d "$ORT" ]; then
  echo "setup-cuda: $ORT is missing: run npm install first" >&2
  exit 1
fi
BIN="$ORT/bin/napi-v6/linux/x64"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "setup-cuda: the CUDA provider download is for Linux x64; on $(uname -s)-$(uname -m) onnxruntime-node needs nothing extra (or has no CUDA build)" >&2
  exit 1
fi

if [ -f "$BIN/libonnxruntime_providers_cuda.so" ]; then
  echo "setup-cuda: CUDA provider libraries already in $BIN"
else
  echo "setup-cuda: downloading the CUDA provider of onnxruntime-node from NuGet ..."
  # The environment variable wins over the project's `onnxruntime-node-install=skip`.
  if ! ONNXRUNTIME_NODE_INSTALL=cuda12 node "$ORT/script/install.js"; then
    echo "setup-cuda: the download from api.nuget.org failed (see the error above): this machine needs network access to NuGet, or a proxy in GLOBAL_AGENT_HTTPS_PROXY" >&2
    exit 1
  fi
fi
for f in libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
  [ -f "$BIN/$f" ] || { echo "setup-cuda: $BIN/$f is still missing; the download failed" >&2; exit 1; }
done

# The provider links against CUDA 12 and cuDNN 9 from the system (not installed by this script).
missing=()
for lib in libcudart.so.12 libcublas.so.12 libcublasLt.so.12 libcufft.so.11 libcudnn.so.9; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib" && ! compgen -G "${LD_LIBRARY_PATH:-/nonexistent}/$lib" >/dev/null; then
    missing+=("$lib")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-cuda: not found on the library path: ${missing[*]}"
  echo "  Install NVIDIA's CUDA 12 runtime, cuBLAS, cuFFT and cuDNN 9 (see env/engines.md), or point LD_LIBRARY_PATH at them."
fi
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; else echo "setup-cuda: nvidia-smi not found: is the NVIDIA driver installed?"; fi

echo "setup-cuda: checking which execution providers start:"
node dist/lib/cli.js providers || echo "setup-cuda: run npm run build, then node dist/lib/cli.js providers"
echo "setup-cuda: for llama.cpp's CUDA build (--engine gguf:...), run: npm run setup:llama -- --gpu"
