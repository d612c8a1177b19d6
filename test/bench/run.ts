// `npm run bench -- <name> [args]`: runs test/bench/<name>.ts, which prints its progress and returns
// its figures; the last line printed here is one JSON object {"bench": "<name>", ...figures}.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

export type Bench = { run(args: string[]): Promise<Record<string, unknown>> };

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\nbenchmarks: ${available.join(', ')}`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.js`)).href)) as Bench;
const figures = await mod.run(args);
process.stdout.write(JSON.stringify({ bench: name, ...figures }) + '\n');
