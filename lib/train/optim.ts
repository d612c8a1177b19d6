// The optimizer: AdamW with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW
// semantics), a linear-warmup + cosine learning-rate schedule, and clipping of the global
// gradient norm. Decay applies to matrices and embeddings, not to biases or LayerNorm gains
// (the nanoGPT convention).

import type { GPTModel } from './model.js';

export type OptimizerConfig = {
  /** Peak learning rate, reached after warmup. */
  lr: number;
  /** Learning rate at the last step (the cosine decays from lr to minLr). */
  minLr: number;
  warmupSteps: number;
  /** Total optimizer steps (the schedule's length). */
  steps: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  gradClip: number;
};

/** Learning rate for optimizer step `step` (0-based). */
export function learningRate(step: number, c: Pick<OptimizerConfig, 'lr' | 'minLr' | 'warmupSteps' | 'steps'>): number {
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  const span = Math.max(1, c.steps - c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / span);
  return c.minLr + 0.5 * (c.lr - c.minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Whether a tensor gets weight decay: matrices and embeddings do, vectors (biases, LayerNorm) do not. */
export function decays(shape: number[]): boolean {
  return shape.length >= 2;
}

/** sqrt(sum of squared gradients), summed in an order that does not depend on the threads. */
export function gradientNorm(model: GPTModel): number {
  return Math.sqrt(model.ops.sumOfSquares(model.grads, model.numParams));
}

/** The factor applied to the gradients so their norm is at most `clip`. */
export function clipScale(norm: number, clip: number): number {
  return clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1;
}

/** One AdamW update of every tensor; `t` is the 1-based step count (bias correction). */
export function adamwUpdate(model: GPTModel, t: number, lr: number, c: OptimizerConfig, gradScale: number): void {
  const bc1 = 1 - Math.pow(c.beta1, t);
  const bc2 = 1 - Math.pow(c.beta2, t);
  for (const tensor of model.tensors) {
    const offset = tensor.ptr - model.params; // same offset in every flat region
    model.ops.adamw(tensor.ptr, model.grads + offset, model.moment1 + offset, model.moment2 + offset, tensor.size, {
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      decay: 1 - lr * (decays(tensor.shape) ? c.weightDecay : 0),
      stepSize: lr / bc1,
      sqrtBc2: Math.sqrt(bc2),
      gscale: gradScale,
    });
  }
}
