// Where the kit lives on disk: its root folder (package.json, data/, node_modules/), found
// from this module's own location so the CLI, the tests and notebooks agree whatever the cwd.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from './files.js';

const KIT_NAME = 'ipt-kit';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((readJson(pkg) as { name?: string }).name === KIT_NAME) return dir;
      } catch {
        // a broken package.json further down is not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${KIT_NAME} folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path under the kit's data/ folder (taxonomy, labelled examples, fixtures). */
export function dataPath(...parts: string[]): string {
  return join(projectRoot(), 'data', ...parts);
}
