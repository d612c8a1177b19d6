// The task-category taxonomy: families of categories, each with a description, kept as data in
// data/tasks/taxonomy.json so that people can read and extend it without touching code. The
// classifier, the LM judge and the coverage report all speak in these ids.

import { dataPath } from '../repro/project.js';
import { readJson } from '../repro/files.js';

export type Category = { id: string; name: string; description: string; family: string };
export type Family = { id: string; name: string; description: string; categories: Category[] };
export type Taxonomy = {
  name: string;
  version: number;
  description: string;
  families: Family[];
  /** The label for "nothing fits"; its family id is also "other". */
  other: Category;
};

export const OTHER = 'other';

export function defaultTaxonomyPath(): string {
  return dataPath('tasks', 'taxonomy.json');
}

function req(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`${where}: "${key}" must be a non-empty string`);
  return v;
}

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Validates a parsed taxonomy file: ids are kebab-case and unique, every family has categories. */
export function parseTaxonomy(json: unknown, source = 'taxonomy'): Taxonomy {
  if (!json || typeof json !== 'object') throw new Error(`${source}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.families) || o.families.length === 0)
    throw new Error(`${source}: "families" must be a non-empty array`);
  const seen = new Set<string>([OTHER]);
  const families: Family[] = o.families.map((f, i) => {
    const fo = f as Record<string, unknown>;
    const where = `${source}: families[${i}]`;
    const id = req(fo, 'id', where);
    if (!ID.test(id) || seen.has(id)) throw new Error(`${where}: id "${id}" is not kebab-case or is used twice`);
    seen.add(id);
    if (!Array.isArray(fo.categories) || fo.categories.length === 0)
      throw new Error(`${where}: "categories" must be a non-empty array`);
    const categories = fo.categories.map((c, j) => {
      const co = c as Record<string, unknown>;
      const cw = `${where}.categories[${j}]`;
      const cid = req(co, 'id', cw);
      if (!ID.test(cid) || seen.has(cid)) throw new Error(`${cw}: id "${cid}" is not kebab-case or is used twice`);
      seen.add(cid);
      return { id: cid, name: req(co, 'name', cw), description: req(co, 'description', cw), family: id };
    });
    return { id, name: req(fo, 'name', where), description: req(fo, 'description', where), categories };
  });
  const other = (o.other ?? {}) as Record<string, unknown>;
  return {
    name: typeof o.name === 'string' ? o.name : source,
    version: typeof o.version === 'number' ? o.version : 1,
    description: typeof o.description === 'string' ? o.description : '',
    families,
    other: {
      id: OTHER,
      name: typeof other.name === 'string' ? other.name : 'Other',
      description: typeof other.description === 'string' ? other.description : 'Nothing in the taxonomy fits.',
      family: OTHER,
    },
  };
}

export function loadTaxonomy(path: string = defaultTaxonomyPath()): Taxonomy {
  return parseTaxonomy(readJson(path, { fix: 'restore data/tasks/taxonomy.json from the kit' }), path);
}

/** Every category in taxonomy order, without "other". */
export function categories(tax: Taxonomy): Category[] {
  return tax.families.flatMap((f) => f.categories);
}

/** The category record for an id; "other" included. Throws on an unknown id. */
export function category(tax: Taxonomy, id: string): Category {
  if (id === OTHER) return tax.other;
  for (const f of tax.families) for (const c of f.categories) if (c.id === id) return c;
  throw new Error(`unknown task category "${id}" (see ${tax.name})`);
}

export function hasCategory(tax: Taxonomy, id: string): boolean {
  return id === OTHER || tax.families.some((f) => f.categories.some((c) => c.id === id));
}

export function familyOf(tax: Taxonomy, categoryId: string): string {
  return category(tax, categoryId).family;
}
