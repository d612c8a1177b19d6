// Pre-training templates: grouping and order, every family reachable, nothing lost (contexts, questions,
// options, answers, reasoning), determinism per seed, and no template placeholder in any output.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FAMILIES,
  renderChain,
  toPretrainTexts,
  renderChains,
  chainSeed,
  pairParts,
  renderMultipleChoice,
  templateInventory,
  itemLabel,
  type Family,
} from '../../lib/templates/render.js';
import { compile, fill, S, SLOT_NAMES, TemplateError } from '../../lib/templates/compile.js';
import * as tables from '../../lib/templates/tables.js';
import type { Chain, Pair } from '../../lib/synth/format.js';
import { makeChains } from '../bench/_chains.js';

const TEXTS = [
  'Honeybees tell their nestmates where food is by dancing. The angle of the run matches the sun. Each second of waggling stands for about a kilometre',
  'The library opened in 1887 above the post office. It held 900 books. A grant paid for a brick building in 1903',
  'Bread rises because yeast releases carbon dioxide. Gluten traps the gas. Salt slows fermentation down',
  'Ünïcödé text — with “quotes”, emoji 🐝 and 漢字. It still counts. Nothing special happens',
];

/** What must be visible for a pair, computed independently of the renderer (split, as the released code does). */
function expectedPieces(p: Pair): string[] {
  let q = p.question;
  let a = p.answer;
  const pieces: string[] = [];
  const suffix = "\nLet's think step by step.";
  const marker = '\nTherefore, the answer is ';
  if (q.endsWith(suffix) && a.split(marker).length === 2) {
    const [r0, f0] = a.split(marker);
    let r = r0.trim();
    if (r.endsWith('.')) r = r.slice(0, -1);
    const stem = q.slice(0, -suffix.length).trim();
    if (r && f0.trim() && stem) {
      pieces.push(r);
      a = f0.trim();
      q = stem;
    }
  }
  const parts = q.split('\nOptions:\n- ');
  if (parts.length === 2 && parts[0].trim()) {
    pieces.push(parts[0], ...parts[1].split('\n- '), a.trim());
  } else {
    pieces.push(q, a);
  }
  return pieces;
}

function assertNothingLost(chain: Chain, seed: number, family?: Family): void {
  const rendered = renderChain(chain, seed, { family });
  const covered = rendered.flatMap((r) => r.entries);
  assert.deepEqual(
    covered,
    chain.map((_, i) => i),
    'every entry is in exactly one text, in order',
  );
  for (const r of rendered) {
    let from = 0;
    for (const i of r.entries) {
      const e = chain[i];
      const at = r.text.indexOf(e.context, r.family === 'inverted' ? 0 : from);
      assert.ok(at !== -1, `context of entry ${i} missing (family ${r.family}, seed ${seed})`);
      from = at + e.context.length;
      for (const p of e.pairs) {
        for (const piece of expectedPieces(p)) {
          assert.ok(
            r.text.includes(piece),
            `missing ${JSON.stringify(piece)} of ${JSON.stringify(p)} in ${r.family} text (seed ${seed}):\n${r.text}`,
          );
        }
      }
    }
  }
}

const BRACES = /[{}]/;

describe('grouping and order', () => {
  const pair = (q: string, a: string): Pair => ({ question: q, answer: a });
  const chain: Chain = [
    { context: 'Alpha text.', pairs: [pair('qa1?', 'aa1'), pair('qa2?', 'aa2')], inheritFromPrev: false },
    { context: 'Beta text.', pairs: [pair('qb1?', 'ab1')], inheritFromPrev: true },
    { context: 'Gamma raw text.', pairs: [], inheritFromPrev: false },
    { context: 'Delta text.', pairs: [pair('qd1?', 'ad1')], inheritFromPrev: false },
    { context: 'Epsilon text.', pairs: [pair('qe1?', 'ae1'), pair('qe2?', 'ae2')], inheritFromPrev: true },
  ];
  test('consecutive inherited entries make one text; entries without pairs stay raw; order kept', () => {
    for (let seed = 0; seed < 50; seed++) {
      const r = renderChain(chain, seed);
      assert.deepEqual(
        r.map((x) => x.entries),
        [[0, 1], [2], [3, 4]],
      );
      assert.equal(r[1].text, 'Gamma raw text.');
      assert.equal(r[1].family, 'raw');
      assert.ok(r[0].text.indexOf('Alpha text.') < r[0].text.indexOf('Beta text.'));
      assert.ok(r[2].text.indexOf('Delta text.') < r[2].text.indexOf('Epsilon text.'));
      assertNothingLost(chain, seed);
    }
  });
  test('an entry that does not inherit starts a new text', () => {
    const split: Chain = chain.map((e) => ({ ...e, inheritFromPrev: false }));
    assert.deepEqual(
      renderChain(split, 1).map((x) => x.entries),
      [[0], [1], [2], [3], [4]],
    );
  });
  test('an "inherited" entry after an entry without pairs cannot join it (hand-made chains)', () => {
    const odd: Chain = [
      { context: 'raw', pairs: [], inheritFromPrev: false },
      { context: 'x', pairs: [pair('q?', 'a')], inheritFromPrev: true },
    ];
    assert.deepEqual(
      renderChain(odd, 1).map((x) => x.entries),
      [[0], [1]],
    );
  });
  test('empty chain gives no texts; a chain of raw texts gives the texts unchanged', () => {
    assert.deepEqual(toPretrainTexts([], 1), []);
    const raw: Chain = TEXTS.map((context) => ({ context, pairs: [], inheritFromPrev: false }));
    assert.deepEqual(toPretrainTexts(raw, 1), TEXTS);
  });
});

describe('families', () => {
  const chains = makeChains(TEXTS, 300, 11, { maxPairs: 5 });
  test('every family is reachable with the default mix, and raw text too', () => {
    const seen = new Set<string>();
    chains.forEach((c, i) => renderChain(c, chainSeed(5, i)).forEach((r) => seen.add(r.family)));
    assert.deepEqual([...seen].sort(), [...FAMILIES, 'raw'].sort());
  });
  test('classic dominates the default mix; two-pair families only with >= 2 pairs per entry', () => {
    const many: Chain = [
      {
        context: 'c',
        pairs: [
          { question: 'q1', answer: 'a1' },
          { question: 'q2', answer: 'a2' },
        ],
        inheritFromPrev: false,
      },
    ];
    const one: Chain = [{ context: 'c', pairs: [{ question: 'q1', answer: 'a1' }], inheritFromPrev: false }];
    const count = (chain: Chain) => {
      const n: Record<string, number> = {};
      for (let s = 0; s < 4000; s++) {
        const f = renderChain(chain, s)[0].family;
        n[f] = (n[f] ?? 0) + 1;
      }
      return n;
    };
    const m = count(many);
    assert.ok(m.classic / 4000 > 0.7 && m.classic / 4000 < 0.82, `classic share ${m.classic / 4000}`);
    for (const f of FAMILIES) assert.ok((m[f] ?? 0) > 60, `${f} drawn ${m[f]} times`);
    const o = count(one);
    assert.deepEqual(Object.keys(o).sort(), ['classic', 'dialog', 'inverted']);
  });
  test('a forced family is used for every few-shot text, and loses nothing', () => {
    for (const family of FAMILIES) {
      chains.slice(0, 60).forEach((c, i) => {
        for (const r of renderChain(c, i, { family })) assert.ok(r.family === family || r.family === 'raw');
        assertNothingLost(c, i, family);
      });
    }
  });
  test('weights can switch families off', () => {
    const w = { classic: 0, dialog: 0, numbered: 0, inline: 0, nextTurn: 0, inverted: 1 };
    chains
      .slice(0, 30)
      .forEach((c, i) =>
        renderChain(c, i, { weights: w }).forEach((r) => assert.ok(r.family === 'inverted' || r.family === 'raw')),
      );
  });
  test('an unknown family is refused', () => {
    assert.throws(() => toPretrainTexts([], 1, { family: 'sonnet' as Family }), /unknown template family "sonnet"/);
  });
  test('layouts look as intended (inverted: questions first; classic: text first)', () => {
    const c: Chain = [
      {
        context: 'CONTEXT-XYZ',
        pairs: [
          { question: 'QUESTION-1?', answer: 'ANSWER-1' },
          { question: 'QUESTION-2?', answer: 'ANSWER-2' },
        ],
        inheritFromPrev: false,
      },
    ];
    for (let s = 0; s < 40; s++) {
      const inv = toPretrainTexts(c, s, { family: 'inverted' })[0];
      assert.ok(inv.indexOf('ANSWER-2') < inv.indexOf('CONTEXT-XYZ'), inv);
      for (const f of ['classic', 'dialog', 'inline', 'nextTurn'] as const) {
        const t = toPretrainTexts(c, s, { family: f })[0];
        assert.ok(t.indexOf('CONTEXT-XYZ') < t.indexOf('QUESTION-1?'), `${f}: ${t}`);
      }
      const num = toPretrainTexts(c, s, { family: 'numbered' })[0];
      assert.ok(num.indexOf('QUESTION-2?') < num.indexOf('ANSWER-1'), `numbered: questions before answers\n${num}`);
    }
  });
});

describe('nothing is lost', () => {
  test('every context, question, option and answer of generated chains appears (default mix)', () => {
    makeChains(TEXTS, 400, 3).forEach((c, i) => assertNothingLost(c, chainSeed(9, i)));
  });
  test('chain of thought is written reasoning first, then the final answer', () => {
    const pair: Pair = {
      question: "How far?\nLet's think step by step.",
      answer: 'REASON-ONE and REASON-TWO.\nTherefore, the answer is FINAL-42',
    };
    const c: Chain = [{ context: 'ctx', pairs: [pair, { question: 'q?', answer: 'a' }], inheritFromPrev: false }];
    for (const family of FAMILIES) {
      for (let s = 0; s < 30; s++) {
        const t = toPretrainTexts(c, s, { family })[0];
        const r = t.indexOf('REASON-ONE and REASON-TWO');
        assert.ok(r !== -1 && t.indexOf('FINAL-42', r) !== -1, `${family}: ${t}`);
        assert.ok(!t.includes("Let's think step by step."), 'the request is re-rendered, not copied');
        assert.ok(!t.includes('Therefore, the answer is FINAL-42'), 'the answer is re-rendered, not copied');
      }
    }
  });
  test('malformed markup stays a plain pair, copied verbatim', () => {
    const bad: Pair[] = [
      { question: "No marker\nLet's think step by step.", answer: 'just an answer' },
      {
        question: "Two markers\nLet's think step by step.",
        answer: 'a\nTherefore, the answer is b\nTherefore, the answer is c',
      },
      { question: "Empty reasoning\nLet's think step by step.", answer: '\nTherefore, the answer is x' },
      { question: 'Q\nOptions:\n- a\nOptions:\n- b', answer: 'a' },
      { question: '\nOptions:\n- a\n- b', answer: 'a' },
    ];
    for (const p of bad) {
      assert.equal(pairParts(p).options, undefined);
      const c: Chain = [{ context: 'ctx', pairs: [p], inheritFromPrev: false }];
      for (let s = 0; s < 20; s++) {
        const t = toPretrainTexts(c, s)[0];
        assert.ok(t.includes(p.question) && t.includes(p.answer), t);
      }
    }
  });
  test('pairParts reads options and chain of thought as the contract writes them', () => {
    assert.deepEqual(pairParts({ question: 'Which?\nOptions:\n- red\n- blue', answer: 'red' }), {
      stem: 'Which?',
      options: ['red', 'blue'],
      reasoning: undefined,
      final: 'red',
    });
    assert.deepEqual(
      pairParts({
        question: "Which?\nOptions:\n- 3\n- 4\nLet's think step by step.",
        answer: 'Two and two.\nTherefore, the answer is 4',
      }),
      {
        stem: 'Which?',
        options: ['3', '4'],
        reasoning: 'Two and two',
        final: '4',
      },
    );
  });
});

describe('multiple choice', () => {
  test('the answer stays recoverable: its label or its text names the right option', () => {
    const options = ['opt-alpha', 'opt-beta', 'opt-gamma', 'opt-delta'];
    const styles = new Set<string>();
    for (let s = 0; s < 500; s++) {
      const mc = renderMultipleChoice(options, 'opt-gamma', s);
      assert.equal(mc.options[mc.chosen], 'opt-gamma');
      for (const o of options) assert.ok(mc.list.includes(o));
      assert.ok(
        mc.answer.includes('opt-gamma') || (mc.label !== undefined && mc.answer.includes(mc.label)),
        JSON.stringify(mc),
      );
      if (mc.label !== undefined) {
        assert.ok(mc.list.includes(mc.label), `label ${mc.label} shown in the list`);
        assert.equal(mc.label, itemLabelOf(mc));
      }
      styles.add(mc.list.replace(/opt-\w+/g, '_'));
    }
    assert.ok(styles.size > 100, `only ${styles.size} option styles`);
  });
  test('options are shuffled; sometimes a "none" option is added as a distractor', () => {
    const orders = new Set<string>();
    let extra = 0;
    for (let s = 0; s < 300; s++) {
      const mc = renderMultipleChoice(['a1', 'b2', 'c3'], 'b2', s);
      orders.add(mc.options.slice(0, 3).join());
      if (mc.options.length === 4) {
        extra++;
        assert.notEqual(mc.chosen, 3);
      }
    }
    assert.equal(orders.size, 6);
    assert.ok(extra > 10 && extra < 60, `${extra} distractors in 300`);
  });
  test('a "none of the above" answer becomes the last option, in its own words', () => {
    for (let s = 0; s < 50; s++) {
      const mc = renderMultipleChoice(['x', 'y'], 'None of the above', s);
      assert.equal(mc.options[mc.chosen], 'None of the above');
      assert.equal(mc.chosen, mc.options.length - 1);
    }
  });
  test('an answer that is none of the options is kept verbatim', () => {
    const mc = renderMultipleChoice(['x', 'y'], 'something else entirely', 1);
    assert.equal(mc.chosen, -1);
    assert.equal(mc.answer, 'something else entirely');
  });
  test('labels: letters, numbers and roman numerals beyond the first few', () => {
    assert.deepEqual(
      [0, 1, 25, 26, 27].map((i) => itemLabel('upper', i)),
      ['A', 'B', 'Z', 'AA', 'AB'],
    );
    assert.deepEqual(
      [0, 3, 8, 39].map((i) => itemLabel('romanLower', i)),
      ['i', 'iv', 'ix', 'xl'],
    );
    assert.equal(itemLabel('arabic', 99), '100');
  });
});

/** The label of the chosen option, found in the rendered list right before its text. */
function itemLabelOf(mc: ReturnType<typeof renderMultipleChoice>): string | undefined {
  const at = mc.list.indexOf(mc.options[mc.chosen]);
  const before = mc.list.slice(Math.max(0, at - 12), at);
  const labels = ['upper', 'lower', 'arabic', 'romanUpper', 'romanLower'] as const;
  for (const c of labels) {
    const l = itemLabel(c, mc.chosen);
    if (l === mc.label && before.includes(l)) return l;
  }
  return undefined;
}

describe('determinism', () => {
  const chains = makeChains(TEXTS, 50, 21);
  test('same chain and seed give identical texts', () => {
    chains.forEach((c, i) => assert.deepEqual(toPretrainTexts(c, i), toPretrainTexts(structuredClone(c), i)));
    assert.deepEqual(renderChains(chains, 4), renderChains(structuredClone(chains), 4));
  });
  test('different seeds give different layouts', () => {
    const c = chains.find((x) => x.some((e) => e.pairs.length > 1))!;
    const outs = new Set(Array.from({ length: 20 }, (_, s) => toPretrainTexts(c, s).join('\u0000')));
    assert.ok(outs.size >= 15, `${outs.size} distinct renderings of 20`);
  });
  test('the input chain is not modified', () => {
    const copy = structuredClone(chains);
    renderChains(chains, 8);
    assert.deepEqual(chains, copy);
  });
  test('renderChains gives chain i the seed chainSeed(seed, i)', () => {
    assert.deepEqual(
      renderChains(chains.slice(0, 5), 3),
      chains.slice(0, 5).flatMap((c, i) => toPretrainTexts(c, chainSeed(3, i))),
    );
  });
});

describe('no placeholder ever leaks', () => {
  test('inputs without braces give outputs without braces, in every family', () => {
    const chains = makeChains(TEXTS, 200, 5);
    for (const family of [undefined, ...FAMILIES]) {
      chains.forEach((c, i) =>
        toPretrainTexts(c, i, { family }).forEach((t) => assert.ok(!BRACES.test(t), `brace in ${family}: ${t}`)),
      );
    }
  });
  test('slot-like text in the input is copied once, never substituted', () => {
    // Render each chain twice: as is, and with the input's braces swapped for other characters. The
    // layout draws do not depend on braces, so the swapped rendering must hold no brace at all (the
    // templates add none) and, swapped back, must equal the first byte for byte (no value was
    // substituted into, anywhere).
    const swap = (s: string) => s.replace(/\{/g, '\u2983').replace(/\}/g, '\u2984');
    const unswap = (s: string) => s.replace(/\u2983/g, '{').replace(/\u2984/g, '}');
    const swapChain = (c: Chain): Chain =>
      c.map((e) => ({
        ...e,
        context: swap(e.context),
        pairs: e.pairs.map((p) => ({ question: swap(p.question), answer: swap(p.answer) })),
      }));
    const slotty = SLOT_NAMES.map((n) => `{${n}}`);
    const word = fc.constantFrom(...slotty, '{', '}', '{{answer}}', 'x', ' ', '\n', '- ', 'é', 'None of the above');
    const text = fc.array(word, { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
    const pairArb = fc.oneof(
      fc.record({ question: text, answer: text }),
      fc
        .tuple(text, fc.array(text, { minLength: 1, maxLength: 4 }), text)
        .map(([q, o, a]) => ({ question: `Q${q}\nOptions:\n- ${o.join('\n- ')}`, answer: a })),
      fc
        .tuple(text, fc.array(text, { minLength: 1, maxLength: 4 }), fc.nat(3))
        .map(([q, o, k]) => ({ question: `Q${q}\nOptions:\n- ${o.join('\n- ')}`, answer: o[k % o.length] })),
      fc.tuple(text, text, text).map(([q, r, a]) => ({
        question: `Q${q}\nLet's think step by step.`,
        answer: `R${r}\nTherefore, the answer is A${a}`,
      })),
    );
    const entry = fc.record({
      context: text,
      pairs: fc.array(pairArb, { maxLength: 4 }),
      inheritFromPrev: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 4 }),
        fc.integer(),
        fc.constantFrom(undefined, ...FAMILIES),
        (chain, seed, family) => {
          const plain = toPretrainTexts(chain, seed, { family });
          const swapped = toPretrainTexts(swapChain(chain), seed, { family });
          for (const t of swapped) assert.ok(!BRACES.test(t), `a template wrote a brace: ${JSON.stringify(t)}`);
          assert.deepEqual(swapped.map(unswap), plain);
        },
      ),
      { numRuns: 600 },
    );
  });
  test('fill is single-pass', () => {
    const t = compile('{question} -> {answer}', ['question', 'answer'], 'test');
    const v = new Array<string>(SLOT_NAMES.length).fill('');
    v[S.question] = '{answer}';
    v[S.answer] = '{question}';
    assert.equal(fill(t, v), '{answer} -> {question}');
  });
  test('the compiler rejects unknown slots, stray braces and missing required slots', () => {
    assert.throws(
      () => compile('Hello {nam}', ['context'], 'row'),
      (e: Error) => e instanceof TemplateError && /unknown slot \{nam\}/.test(e.message),
    );
    assert.throws(() => compile('a } b', [], 'row'), /stray "}"/);
    assert.throws(() => compile('a { b', ['context'], 'row'), /unclosed "\{"/);
    assert.deepEqual(compile('x{context}y{context}', ['context'], 'row').lits, ['x', 'y', '']);
  });
});

describe('inventory', () => {
  test('dozens of templates per family and per pair table', () => {
    const inv = templateInventory();
    assert.deepEqual(Object.keys(inv.families).sort(), [...FAMILIES].sort());
    for (const [f, n] of Object.entries(inv.families)) assert.ok(n >= 20, `${f}: ${n}`);
    for (const k of ['pairs.plain', 'pairs.options', 'pairs.cot', 'pairs.optionsCot', 'options.start', 'options.item'])
      assert.ok(inv.tables[k] >= 20, `${k}: ${inv.tables[k]}`);
    assert.equal(inv.tables['pairs.plain'], tables.QA.length);
    assert.equal(inv.families.inline, tables.INLINE_LAYOUTS.length);
  });
  test('the tables hold no duplicate rows', () => {
    for (const [name, rows] of Object.entries({
      QA: tables.QA,
      QA_OPTIONS: tables.QA_OPTIONS,
      QA_COT: tables.QA_COT,
      QA_OPTIONS_COT: tables.QA_OPTIONS_COT,
      CLASSIC_READ_STARTS: tables.CLASSIC_READ_STARTS,
      CLASSIC_COMPRE_STARTS: tables.CLASSIC_COMPRE_STARTS,
      NUMBERED_LAYOUTS: tables.NUMBERED_LAYOUTS,
      INLINE_LAYOUTS: tables.INLINE_LAYOUTS,
      NEXT_TURN_LAYOUTS: tables.NEXT_TURN_LAYOUTS,
      INVERTED_QA_STARTS: tables.INVERTED_QA_STARTS,
      INVERTED_TEXT_STARTS: tables.INVERTED_TEXT_STARTS,
      DIALOG_SPEAKERS: tables.DIALOG_SPEAKERS,
      OPTION_ITEMS: tables.OPTION_ITEMS,
      OPTION_STARTS: tables.OPTION_STARTS,
      NUMBERED_ITEMS: tables.NUMBERED_ITEMS,
    })) {
      const keys = (rows as readonly unknown[]).map((r) => JSON.stringify(r));
      assert.equal(new Set(keys).size, keys.length, `${name} has duplicate rows`);
    }
  });
});

describe('golden output', () => {
  // Pins the exact rendering of one chain: a change here means every rendered corpus changes. Update the
  // expected strings only when tables or draw order change on purpose.
  const chain: Chain = [
    {
      context: 'The kettle boiled at 100 degrees.',
      inheritFromPrev: false,
      pairs: [
        { question: 'At what temperature did the kettle boil?', answer: '100 degrees' },
        { question: 'What boiled?\nOptions:\n- The kettle\n- The pan', answer: 'The kettle' },
        {
          question: "How much hotter than 80 degrees?\nLet's think step by step.",
          answer: 'It boiled at 100. 100 minus 80 is 20.\nTherefore, the answer is 20 degrees',
        },
      ],
    },
    { context: 'No pairs here.', inheritFromPrev: false, pairs: [] },
  ];
  test('seed 42 and seed 43, exactly', () => {
    assert.deepEqual(toPretrainTexts(chain, 42), [
      'The kettle boiled at 100 degrees. A few questions about it:\n\nQ: At what temperature did the kettle boil?\n---\nA: 100 degrees\n\nWhich option answers this? What boiled?\nCandidates are:\n> The kettle\n> The pan\nThe option: The kettle\n\n[Q] How much hotter than 80 degrees?\n[A] It boiled at 100. 100 minus 80 is 20.\nAnswer: 20 degrees',
      'No pairs here.',
    ]);
    assert.deepEqual(toPretrainTexts(chain, 43), [
      'The kettle boiled at 100 degrees.\nQ: At what temperature did the kettle boil? A: 100 degrees\nStudent: What boiled?\nSelect from these:\n~ The pan\n~ The kettle\nTeacher: The right one is The kettle\nWork out the answer. How much hotter than 80 degrees?\nIt boiled at 100. 100 minus 80 is 20. Answer: 20 degrees',
      'No pairs here.',
    ]);
  });
});
