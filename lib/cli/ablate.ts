// ipt commands for the kit's main job: the Instruction Pre-Training ablation on the embedded default.

import { controlledSummary } from '../ablation/controlled-report.js';
import { join } from 'node:path';
import { loadAblationConfig, PROFILES } from '../ablation/config.js';
import { describePlan } from '../ablation/plan.js';
import { runAblation } from '../ablation/pipeline.js';
import { textTable } from '../report/html.js';
import { formatEstimate, formatGain } from '../ablation/results.js';
import { computeResults } from '../ablation/outputs.js';
import { intOption, UsageError, type Command } from './command.js';

export const ablateCommands: Command[] = [
  {
    name: 'ablate',
    summary:
      'Run the Instruction Pre-Training ablation: synthesize, render, pre-train every arm and seed, evaluate, report.',
    description: [
      'Arms: vanilla pre-training, instruction pre-training with the rule-based and the tiny synthesizer (M = 1 and 2),',
      'and Mix PT, at one token budget and several seeds; then domain-adaptive continual pre-training and instruction',
      'tuning. Every stage is cached in the run folder by the hash of its inputs: a re-run after a change recomputes',
      'only what changed, and a run stopped at any point resumes. The run folder ends with report.html,',
      'results/results.json and results.csv, corpora.json (for ipt export) and manifest.json.',
      `Profiles: ${Object.keys(PROFILES).join(', ')}; --config FILE overrides any field of the profile (JSON).`,
    ].join('\n'),
    options: {
      profile: {
        type: 'string',
        value: 'NAME',
        default: 'default',
        description: `built-in sizes: ${Object.keys(PROFILES).join(' (about 12 min on 2 cores), ')} (toy sizes, the same code paths)`,
      },
      config: {
        type: 'string',
        value: 'FILE',
        description:
          'JSON with fields to override, e.g. {"seeds": [1, 2, 3, 4], "pretrain": {"train": {"steps": 400}}}',
      },
      out: { type: 'string', value: 'DIR', description: 'run folder (default: runs/ablation-<profile>)' },
      threads: {
        type: 'string',
        value: 'N',
        description: 'kernel threads (default: the number of cores; results do not depend on it)',
      },
      'dry-run': { type: 'boolean', description: 'print the resolved config and the plan, run nothing' },
    },
    examples: [
      'ipt ablate',
      'ipt ablate --profile ci --out runs/ci',
      'ipt ablate --config more-seeds.json --out runs/more-seeds',
    ],
    async run({ values }, io) {
      const profile = String(values.profile ?? 'default');
      if (!PROFILES[profile])
        throw new UsageError(`--profile must be one of ${Object.keys(PROFILES).join(', ')}, got "${profile}"`);
      const config = loadAblationConfig({
        profile,
        file: typeof values.config === 'string' ? values.config : undefined,
      });
      const out = typeof values.out === 'string' ? values.out : join('runs', `ablation-${profile}`);
      const plan = describePlan(config);
      for (const line of plan.lines) io.stderr(line + '\n');
      if (values['dry-run'] === true) {
        io.stdout(JSON.stringify(config, null, 2) + '\n');
        return 0;
      }
      io.stderr(`Run folder: ${out}\n\n`);
      const started = performance.now();
      const command = [
        'ipt',
        'ablate',
        '--profile',
        profile,
        '--out',
        out,
        ...(typeof values.config === 'string' ? ['--config', values.config] : []),
      ];
      const { outcome, records } = await runAblation({
        config,
        outDir: out,
        threads: intOption(values, 'threads'),
        command,
        log: (l) => io.stderr(l + '\n'),
      });
      if (!outcome.complete || !records) return 1;
      const results = computeResults(records, outcome.stages);
      if (results.controlled && records.controlled)
        io.stdout('\n' + controlledSummary(results.controlled, records.controlled) + '\n');
      io.stdout(
        '\n' +
          textTable(
            results.pretrain.summary.map((r) => ({
              benchmark: `${r.group} ${r.shots}-shot${r.headline ? '' : ' (all tasks)'}`,
              tasks: r.tasks.length,
              arm: r.arm,
              chance: r.chance.toFixed(3),
              'score [95%]': formatEstimate(r.score),
              'gain vs vanilla [95%]': formatGain(r.gain),
            })),
          ) +
          '\n\n' +
          results.headline +
          '\n',
      );
      const minutes = (performance.now() - started) / 60000;
      io.stdout(
        `\n${outcome.stages.filter((s) => !s.cached).length} of ${outcome.stages.length} stages ran in ${minutes.toFixed(1)} min.\n`,
      );
      io.stdout(`Report: ${join(out, 'report.html')}\nResults: ${join(out, 'results', 'results.csv')}\n`);
    },
  },
];
