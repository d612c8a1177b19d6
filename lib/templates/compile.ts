// Template strings -> literal/slot parts, compiled once at module load. Filling is a single pass over
// the parts, so a value that itself contains "{answer}" is copied as is and never substituted again.
// Compilation rejects unknown slots, unbalanced braces and missing required slots, so no template of
// the kit can print a placeholder or leave an answer out.

export const SLOT_NAMES = [
  'context',
  'question',
  'answer',
  'options',
  'reasoning',
  'pairs',
  'questions',
  'answers',
  'dialog',
  'turn',
  'input',
  'output',
  'n',
  'label',
  'text',
] as const;
export type SlotName = (typeof SLOT_NAMES)[number];

/** Slot indices into the values array passed to `fill`. */
export const S: { readonly [K in SlotName]: number } = Object.fromEntries(SLOT_NAMES.map((n, i) => [n, i])) as never;

export type Template = {
  readonly source: string;
  /** lits.length === slots.length + 1; text = lits[0] + v[slots[0]] + lits[1] + ... */
  readonly lits: readonly string[];
  readonly slots: readonly number[];
};

export class TemplateError extends Error {}

/** Parses `source` once; `where` names the table row in error messages. */
export function compile(source: string, allowed: readonly SlotName[], where: string): Template {
  const lits: string[] = [];
  const slots: number[] = [];
  let lit = '';
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{', i);
    const close = source.indexOf('}', i);
    if (close !== -1 && (open === -1 || close < open)) {
      throw new TemplateError(
        `${where}: stray "}" at ${close} in ${JSON.stringify(source)}; templates may not contain literal braces`,
      );
    }
    if (open === -1) {
      lit += source.slice(i);
      break;
    }
    const end = source.indexOf('}', open + 1);
    if (end === -1) throw new TemplateError(`${where}: unclosed "{" at ${open} in ${JSON.stringify(source)}`);
    const name = source.slice(open + 1, end);
    if (!(allowed as readonly string[]).includes(name)) {
      throw new TemplateError(
        `${where}: unknown slot {${name}} in ${JSON.stringify(source)}; allowed here: ${allowed.map((a) => `{${a}}`).join(' ')}`,
      );
    }
    lits.push(lit + source.slice(i, open));
    lit = '';
    slots.push(S[name as SlotName]);
    i = end + 1;
  }
  lits.push(lit);
  return { source, lits, slots };
}

/** The slot names a template uses, in order of appearance. */
export function slotsOf(t: Template): SlotName[] {
  return t.slots.map((s) => SLOT_NAMES[s]);
}

/** Throws unless the templates together use every required slot. */
export function requireSlots(templates: readonly Template[], required: readonly SlotName[], where: string): void {
  const used = new Set(templates.flatMap(slotsOf));
  const missing = required.filter((r) => !used.has(r));
  if (missing.length > 0) {
    throw new TemplateError(
      `${where}: ${templates.map((t) => JSON.stringify(t.source)).join(' + ')} lacks ${missing.map((m) => `{${m}}`).join(' ')}`,
    );
  }
}

/** One pass: literals and values interleaved; values are never scanned for slots. */
export function fill(t: Template, values: readonly string[]): string {
  const { lits, slots } = t;
  let out = lits[0];
  for (let i = 0; i < slots.length; i++) out += values[slots[i]] + lits[i + 1];
  return out;
}
