// ipt commands for the engines: serve a model over the OpenAI-compatible API, list execution providers.

import { synthesize } from '../synth/driver.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import { serveCompletions } from '../engine/serve.js';
import { parseProvider, probeProviders } from '../engine/providers.js';
import { intOption, requireOption, type Command } from './command.js';

export const engineCommands: Command[] = [
  {
    name: 'serve',
    summary: 'Serve an ONNX model folder over the OpenAI-compatible /v1/completions API (for a workshop, or for tests).',
    options: {
      model: { type: 'string', value: 'DIR', description: 'model folder (config.json, tokenizer.json, onnx/model*.onnx)' },
      port: { type: 'string', value: 'P', default: '8000', description: 'port (0 picks a free one)' },
      host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'address to listen on (0.0.0.0 to share it on the network)' },
      name: { type: 'string', value: 'ID', description: 'model id clients use (default: the folder name)' },
      provider: { type: 'string', value: 'EP', default: 'cpu', description: 'cpu, webgpu, cuda, or auto (tries cuda, webgpu, cpu)' },
      threads: { type: 'string', value: 'N', description: 'intra-op threads (default: all cores)' },
      'batch-size': { type: 'string', value: 'N', default: '8', description: 'prompts per generation batch' },
      quiet: { type: 'boolean', description: 'no line per request' },
    },
    examples: ['ipt serve --model models/synth --port 8000', 'ipt synthesize --input brown --engine openai:http://127.0.0.1:8000/v1 --out runs/x'],
    async run({ values }, io) {
      const dir = requireOption(values, 'model');
      const lm = await OnnxCausalLM.load(dir, {
        provider: parseProvider(values.provider as string | undefined),
        threads: intOption(values, 'threads'),
        batchSize: intOption(values, 'batch-size'),
      });
      const name = (values.name as string | undefined) ?? dir.replace(/\/+$/, '').split('/').pop() ?? 'model';
      const server = await serveCompletions(lm, {
        port: intOption(values, 'port', 0) ?? 8000,
        host: (values.host as string | undefined) ?? '127.0.0.1',
        modelName: name,
        maxModelLen: lm.contextLength,
        log: values.quiet ? undefined : (line) => io.stderr(`${line}\n`),
      });
      io.stdout(`ipt serve: ${name} (${lm.name}, ${lm.provider}) at ${server.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await lm.close();
      io.stderr('ipt serve: stopped\n');
    },
  },
  {
    name: 'providers',
    summary: 'Show which ONNX Runtime execution providers (cpu, webgpu, cuda) start on this machine, and what to install for the others.',
    options: {},
    async run(_args, io) {
      for (const p of await probeProviders()) io.stdout(`${p.provider.padEnd(7)} ${p.ok ? 'ok' : `unavailable: ${p.message}`}\n`);
    },
  },
];
