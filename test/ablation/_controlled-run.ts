// Child process of the controlled-experiment tests: runs the experiment's CI profile in a run folder
// (argv[2]) through the stage cache, and writes its records to records.json there. A test kills it
// midway and runs it again.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runStage } from '../../lib/repro/stages.js';
import { CONTROLLED_CI } from '../../lib/ablation/controlled-config.js';
import { runControlled, type StageRunner } from '../../lib/ablation/controlled.js';

const outDir = process.argv[2];
const stage: StageRunner = (name, version, key, run) => runStage(join(outDir, 'stages'), { name, version, key, run });
const records = await runControlled({ config: CONTROLLED_CI, stage, outDir, threads: 1, progress: 'silent' });
writeFileSync(join(outDir, 'records.json'), JSON.stringify(records));
