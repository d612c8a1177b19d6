// The same GPT written in TensorFlow.js ops, used only as a gradient oracle: tfjs' autodiff on
// its CPU backend gives the loss and every gradient from the same weights and batch.
import * as tf from '@tensorflow/tfjs';
import { gptTensorSpecs, type GPTConfig, type GPTWeights } from '../../lib/engine/gpt.js';

export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`tfjs backend is ${tf.getBackend()}, not cpu`);
}

export function tfjsBackend(): string {
  return tf.getBackend();
}

function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), w), b);
}

function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Loss sum_i weights_i * CE_i and the gradient of every tensor, by name. */
export function tfjsLossAndGrads(
  cfg: GPTConfig,
  weights: GPTWeights,
  batch: { B: number; T: number; inputs: Int32Array; targets: Int32Array; weights: Float32Array },
): { loss: number; grads: GPTWeights } {
  const { B, T } = batch;
  const { width: C, heads: H, vocabSize: V, layers: L, layerNormEps: eps } = cfg;
  const hs = C / H;
  return tf.tidy(() => {
    const vars: Record<string, tf.Variable> = {};
    for (const s of gptTensorSpecs(cfg))
      vars[s.name] = tf.variable(tf.tensor(weights[s.name], s.shape, 'float32'), true, s.name);
    const ids = tf.tensor1d(batch.inputs, 'int32');
    const oneHot = tf.oneHot(tf.tensor1d(batch.targets, 'int32'), V).toFloat();
    const w = tf.tensor1d(batch.weights);
    const maskValues = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskValues[i * T + j] = -1e9;
    const causal = tf.tensor(maskValues, [T, T]);
    const positions = tf.tensor1d(
      Array.from({ length: B * T }, (_, i) => i % T),
      'int32',
    );
    const { value, grads } = tf.variableGrads(() => {
      const p = (n: string) => vars[n];
      let x: tf.Tensor = tf.add(tf.gather(p('wte.weight'), ids), tf.gather(p('wpe.weight'), positions)); // [BT, C]
      const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, hs]), [0, 2, 1, 3]);
      for (let l = 0; l < L; l++) {
        const q = (n: string) => p(`h.${l}.${n}`);
        const h1 = layerNorm(x, q('ln_1.weight'), q('ln_1.bias'), eps);
        const qkv = tf.add(tf.matMul(h1, q('attn.c_attn.weight')), q('attn.c_attn.bias'));
        const [Q, K, Vv] = tf.split(qkv, 3, 1).map(heads);
        const scores = tf.add(tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(hs)), causal);
        const y = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), Vv), [0, 2, 1, 3]), [B * T, C]);
        x = tf.add(x, tf.add(tf.matMul(y, q('attn.c_proj.weight')), q('attn.c_proj.bias')));
        const h2 = layerNorm(x, q('ln_2.weight'), q('ln_2.bias'), eps);
        const f = gelu(tf.add(tf.matMul(h2, q('mlp.c_fc.weight')), q('mlp.c_fc.bias')));
        x = tf.add(x, tf.add(tf.matMul(f, q('mlp.c_proj.weight')), q('mlp.c_proj.bias')));
      }
      const xf = layerNorm(x, p('ln_f.weight'), p('ln_f.bias'), eps);
      const logits = tf.matMul(xf, p('wte.weight'), false, true); // [BT, V]
      const logp = tf.logSoftmax(logits);
      const ce = tf.neg(tf.sum(tf.mul(oneHot, logp), 1));
      return tf.sum(tf.mul(ce, w)) as tf.Scalar;
    });
    const out: GPTWeights = {};
    for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    for (const v of Object.values(vars)) v.dispose();
    return { loss, grads: out };
  });
}
