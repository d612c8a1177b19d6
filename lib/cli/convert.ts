// ipt convert: Hugging Face checkpoints into model folders the kit's engines run, with no Python.

import { convertCheckpoint } from '../convert/convert.js';
import { ONNX_DTYPES, type OnnxDtype } from '../convert/onnx-weights.js';
import { INT4_BLOCK_SIZES } from '../convert/int4.js';
import { convertToGguf, GGUF_DTYPES, type GgufDtype } from '../convert/to-gguf.js';
import { formatBytes } from '../repro/progress.js';
import { intOption, requireOption, UsageError, type Command } from './command.js';

function choice<T extends string>(value: unknown, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly unknown[]).includes(value))
    throw new UsageError(`--${option} must be one of ${allowed.join(', ')}, got "${String(value)}"`);
  return value as T;
}

export const convertCommands: Command[] = [
  {
    name: 'convert',
    summary:
      'Convert a Hugging Face checkpoint (Llama, Mistral, GPT-2; safetensors) to ONNX for the onnx: engine, or to GGUF for llama.cpp.',
    description:
      'SRC is a local checkpoint folder or a Hub model repo id; from the Hub only config, tokenizer and safetensors files are\n' +
      'downloaded (into the standard Hugging Face cache). ONNX output is a folder in the Optimum layout (onnx/model.onnx, with\n' +
      'onnx/model.onnx_data beside it when the weights exceed 1 GiB, config.json, generation_config.json, tokenizer files) that\n' +
      "transformers.js, Optimum and `--engine onnx:DIR` load, plus the kit's faster onnx/model_kv_delta.onnx over the same weights.\n" +
      "fp16 halves the size for GPUs; int4 quantizes every linear layer in blocks (ONNX Runtime's MatMulNBits, float32\n" +
      'activations), about a quarter of fp16. GGUF output (--format gguf, --out FILE.gguf) is for `--engine gguf:FILE` and needs a\n' +
      "byte-level BPE tokenizer.json (GPT-2 style, as the kit's own models have). Tensors are converted one at a time; the output\n" +
      'appears only when complete (a killed conversion leaves nothing that looks finished).',
    options: {
      out: { type: 'string', value: 'DIR|FILE', description: 'the model folder (onnx) or .gguf file to write' },
      format: { type: 'string', value: 'F', default: 'onnx', description: 'onnx or gguf' },
      dtype: {
        type: 'string',
        value: 'T',
        description: `onnx: ${ONNX_DTYPES.join(', ')} (default fp32); gguf: ${GGUF_DTYPES.join(', ')} (default f32)`,
      },
      'block-size': {
        type: 'string',
        value: 'N',
        default: '32',
        description: `int4: values per quantization block (${INT4_BLOCK_SIZES.join(', ')})`,
      },
      revision: { type: 'string', value: 'REV', description: 'Hub branch, tag or commit (default main)' },
      force: { type: 'boolean', description: 'replace an existing output' },
    },
    positionals: [
      { name: 'SRC', description: 'checkpoint folder, or Hub repo id such as instruction-pretrain/InstructLM-500M' },
    ],
    examples: [
      'ipt convert instruction-pretrain/instruction-synthesizer --dtype int4 --out models/synth-int4',
      'ipt convert instruction-pretrain/InstructLM-500M --out models/instructlm-500m',
      'ipt convert runs/my-gpt/model --format gguf --dtype q8_0 --out models/my-gpt-q8_0.gguf',
    ],
    async run({ values, positionals }, io) {
      const source = positionals[0];
      if (!source) throw new UsageError('SRC is required: a checkpoint folder or a Hub repo id');
      const out = requireOption(values, 'out');
      const format = choice(values.format ?? 'onnx', ['onnx', 'gguf'] as const, 'format');
      const command = [
        'ipt',
        'convert',
        source,
        ...Object.entries(values).flatMap(([k, v]) =>
          v === undefined ? [] : typeof v === 'boolean' ? (v ? [`--${k}`] : []) : [`--${k}`, String(v)],
        ),
      ];
      if (format === 'gguf') {
        const dtype = choice((values.dtype as string | undefined) ?? 'f32', GGUF_DTYPES, 'dtype') as GgufDtype;
        const r = await convertToGguf({
          source,
          out,
          dtype,
          revision: values.revision as string | undefined,
          force: values.force === true,
        });
        io.stdout(
          `${r.spec.architecture} -> ${r.out} (GGUF ${dtype}, ${formatBytes(r.outputBytes)}) in ${r.seconds.toFixed(1)} s\n`,
        );
        return;
      }
      const dtype = choice((values.dtype as string | undefined) ?? 'fp32', ONNX_DTYPES, 'dtype') as OnnxDtype;
      const blockSize = intOption(values, 'block-size') ?? 32;
      if (!(INT4_BLOCK_SIZES as readonly number[]).includes(blockSize))
        throw new UsageError(
          `--block-size must be one of ${INT4_BLOCK_SIZES.join(', ')}, got "${String(values['block-size'])}"`,
        );
      const r = await convertCheckpoint({
        source,
        out,
        dtype,
        blockSize,
        revision: values.revision as string | undefined,
        force: values.force === true,
        command,
      });
      const mbps = r.sourceBytes / 2 ** 20 / Math.max(r.seconds, 1e-3);
      io.stdout(
        `${r.spec.architecture} -> ${r.out} (${dtype}${r.external ? ', weights in onnx/model.onnx_data' : ''}, ${formatBytes(r.outputBytes)}) ` +
          `in ${r.seconds.toFixed(1)} s, ${mbps.toFixed(0)} MB/s of checkpoint\nrun it: ipt synthesize --engine onnx:${out} ...\n`,
      );
    },
  },
];
