// Whether the llama.cpp tests run: node-llama-cpp is an opt-in install (npm test installs it when the
// npm registry is reachable). Where it is absent they are skipped with the reason, unless
// IPT_REQUIRE_LLAMA=1 (CI sets it), which makes its absence a failure instead.
import { findNodeLlamaCpp } from '../../lib/engine/llama-module.js';

export const LLAMA_SKIP: string | false =
  findNodeLlamaCpp() || process.env.IPT_REQUIRE_LLAMA === '1'
    ? false
    : 'node-llama-cpp is not installed (npm run setup:llama); set IPT_REQUIRE_LLAMA=1 to fail instead';
