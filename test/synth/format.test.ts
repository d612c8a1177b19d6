// The synthesizer contract, string for string, and the multi-round chaining.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cookRead,
  cookCompre,
  cookDemonstration,
  parseComprehension,
  planRound,
  collectRound,
  splitIntoRounds,
  estimateTokens,
  pyStrip,
  inheritedDemonstrations,
  type Chain,
  type Pair,
  type RoundItem,
} from '../../lib/synth/format.js';

describe('cookRead / cookCompre', () => {
  test('a text is prompted as "<s> <CON> {text} </CON>\\n\\n"', () => {
    assert.equal(cookRead('The cat sat.'), '<s> <CON> The cat sat. </CON>\n\n');
  });
  test('the text is inserted verbatim, leading and trailing spaces included', () => {
    assert.equal(cookRead('  two spaces '), '<s> <CON>   two spaces  </CON>\n\n');
  });
  test('an empty text is just "<s>"', () => {
    assert.equal(cookRead(''), '<s>');
  });
  test('pairs are "<QUE> q <ANS> a </END>" joined by a blank line', () => {
    assert.equal(
      cookCompre([
        { question: 'Who sat?', answer: 'The cat' },
        { question: 'Where?', answer: 'On the mat' },
      ]),
      '<QUE> Who sat? <ANS> The cat </END>\n\n<QUE> Where? <ANS> On the mat </END>',
    );
  });
  test('cookCompre refuses an empty list, as the released code asserts', () => {
    assert.throws(() => cookCompre([]), /at least one pair/);
  });
  test('a demonstration is cookRead + pairs + "</s>"', () => {
    assert.equal(
      cookDemonstration({ context: 'T', pairs: [{ question: 'Q', answer: 'A' }] }),
      '<s> <CON> T </CON>\n\n<QUE> Q <ANS> A </END></s>',
    );
  });
  test('multiple choice and chain of thought live inside the strings', () => {
    const pairs: Pair[] = [
      { question: 'Which colour?\nOptions:\n- red\n- blue', answer: 'red' },
      { question: "How many legs?\nLet's think step by step.", answer: 'A cat has four.\nTherefore, the answer is 4' },
    ];
    const text = cookCompre(pairs);
    assert.equal(
      text,
      "<QUE> Which colour?\nOptions:\n- red\n- blue <ANS> red </END>\n\n<QUE> How many legs?\nLet's think step by step. <ANS> A cat has four.\nTherefore, the answer is 4 </END>",
    );
    assert.deepEqual(parseComprehension(text), pairs);
  });
});

describe('parseComprehension', () => {
  test('parses complete pairs', () => {
    assert.deepEqual(parseComprehension('<QUE> a? <ANS> b </END>\n\n<QUE> c? <ANS> d </END>'), [
      { question: 'a?', answer: 'b' },
      { question: 'c?', answer: 'd' },
    ]);
  });
  test('drops an incomplete last pair (no closing </END>)', () => {
    assert.deepEqual(parseComprehension('<QUE> a? <ANS> b </END>\n\n<QUE> c? <ANS> half an ans'), [
      { question: 'a?', answer: 'b' },
    ]);
  });
  test('drops the trailing piece even when it looks complete but lacks </END>', () => {
    assert.deepEqual(parseComprehension('<QUE> a? <ANS> b </END> <QUE> c? <ANS> d'), [{ question: 'a?', answer: 'b' }]);
  });
  test('keeps the last pair when the output ends exactly with </END>', () => {
    assert.deepEqual(parseComprehension('<QUE> a? <ANS> b </END>'), [{ question: 'a?', answer: 'b' }]);
  });
  test('trailing whitespace after the last </END> makes the last piece count as incomplete text (dropped, harmless)', () => {
    assert.deepEqual(parseComprehension('<QUE> a? <ANS> b </END>\n'), [{ question: 'a?', answer: 'b' }]);
  });
  test('a piece without <ANS> is dropped', () => {
    assert.deepEqual(parseComprehension('<QUE> no answer marker </END><QUE> x <ANS> y </END>'), [
      { question: 'x', answer: 'y' },
    ]);
  });
  test('a piece with two <ANS> is dropped', () => {
    assert.deepEqual(parseComprehension('<QUE> q <ANS> a <ANS> b </END><QUE> x <ANS> y </END>'), [
      { question: 'x', answer: 'y' },
    ]);
  });
  test('an empty (whitespace-only) answer is dropped', () => {
    assert.deepEqual(parseComprehension('<QUE> q <ANS>   \n </END><QUE> x <ANS> y </END>'), [
      { question: 'x', answer: 'y' },
    ]);
  });
  test('text before <QUE> drops the pair', () => {
    assert.deepEqual(parseComprehension('junk <QUE> q <ANS> a </END><QUE> x <ANS> y </END>'), [
      { question: 'x', answer: 'y' },
    ]);
  });
  test('whitespace before <QUE> is fine', () => {
    assert.deepEqual(parseComprehension('\n\n  <QUE> q <ANS> a </END>'), [{ question: 'q', answer: 'a' }]);
  });
  test('every <QUE> inside the question is removed, as Python str.replace does', () => {
    assert.deepEqual(parseComprehension('<QUE> q <QUE>r <ANS> a </END>'), [{ question: 'q r', answer: 'a' }]);
  });
  test('an empty question is allowed (the released code only checks the answer)', () => {
    assert.deepEqual(parseComprehension('<QUE> <ANS> a </END>'), [{ question: '', answer: 'a' }]);
  });
  test('duplicates ignoring case are dropped only with deduplicate', () => {
    const out = '<QUE> What is X? <ANS> 1 </END>\n\n<QUE> what is x? <ANS> 2 </END>\n\n<QUE> Other <ANS> 3 </END>';
    assert.equal(parseComprehension(out).length, 3);
    assert.deepEqual(parseComprehension(out, { deduplicate: true }), [
      { question: 'What is X?', answer: '1' },
      { question: 'Other', answer: '3' },
    ]);
  });
  test('unicode passes through unchanged', () => {
    assert.deepEqual(parseComprehension("<QUE> Qu'est-ce que «ça» ? 🐈‍⬛ <ANS> 猫です </END>"), [
      { question: "Qu'est-ce que «ça» ? 🐈‍⬛", answer: '猫です' },
    ]);
  });
  test('unicode case folding is used for duplicates', () => {
    assert.equal(
      parseComprehension('<QUE> ÉTÉ? <ANS> a </END><QUE> été? <ANS> b </END>', { deduplicate: true }).length,
      1,
    );
  });
  test('empty output gives no pairs', () => {
    assert.deepEqual(parseComprehension(''), []);
    assert.deepEqual(parseComprehension('</END>'), []);
    assert.deepEqual(parseComprehension('   '), []);
  });
  test('strips Python whitespace, not JavaScript whitespace', () => {
    // U+001C (file separator) is whitespace to Python's strip(), not to String.prototype.trim()
    assert.deepEqual(parseComprehension('<QUE> q\u001c <ANS> a\u001c </END>'), [{ question: 'q', answer: 'a' }]);
    // U+FEFF (BOM) is whitespace to trim() but not to Python's strip()
    assert.deepEqual(parseComprehension('<QUE> q <ANS> a\ufeff </END>'), [{ question: 'q', answer: 'a\ufeff' }]);
    assert.equal(pyStrip('\u0085\u3000x\u00a0'), 'x');
  });
  test('never throws on arbitrary strings, including marker soup', () => {
    const markers = fc.constantFrom('<QUE>', '<ANS>', '</END>', ' ', '\n', 'x', '', '<CON>', '</s>');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.array(markers).map((a) => a.join('')),
        ),
        (s) => {
          const pairs = parseComprehension(s, { deduplicate: true });
          assert.ok(Array.isArray(pairs));
          for (const p of pairs) assert.ok(p.answer.length > 0);
        },
      ),
      { numRuns: 2000 },
    );
  });
  test('parseComprehension(cookCompre(pairs)) returns pairs for well-formed pairs', () => {
    const clean = fc
      .string({
        unit: fc.constantFrom('a', 'B', ' ', '\n', '?', 'é', '猫', '-', ':', '<', '>', '/', '\t'),
        maxLength: 40,
      })
      .map(pyStrip)
      .filter((s) => !s.includes('<QUE>') && !s.includes('<ANS>') && !s.includes('</END>'));
    const pair = fc
      .tuple(
        clean,
        clean.filter((s) => s.length > 0),
      )
      .map(([question, answer]) => ({ question, answer }));
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 6 }), (pairs) => {
        assert.deepEqual(parseComprehension(cookCompre(pairs)), pairs);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('splitIntoRounds', () => {
  test('cuts N texts into M consecutive slices of ceil(N/M)', () => {
    assert.deepEqual(splitIntoRounds([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6], [7]]);
    assert.deepEqual(splitIntoRounds([1, 2, 3, 4], 1), [[1, 2, 3, 4]]);
  });
  test('drops empty trailing slices instead of planning empty rounds', () => {
    assert.deepEqual(splitIntoRounds([1, 2, 3, 4, 5], 4), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(splitIntoRounds([], 3), []);
  });
  test('rejects a non-positive round count', () => {
    assert.throws(() => splitIntoRounds([1], 0), /positive integer/);
  });
});

const budget = { maxModelLen: 4096, maxNewTokens: 400 };

describe('planRound / collectRound', () => {
  test('first round: every text gets its own prompt and an empty chain', () => {
    const items = planRound([], ['A', 'B'], budget);
    assert.deepEqual(items, [
      { text: 'A', prompt: '<s> <CON> A </CON>\n\n', chain: [] },
      { text: 'B', prompt: '<s> <CON> B </CON>\n\n', chain: [] },
    ]);
  });

  test('second round continues chain i with its demonstration', () => {
    const r1 = collectRound(planRound([], ['A', 'B'], budget), ['<QUE> qa <ANS> aa </END>', 'garbage']);
    assert.deepEqual(r1, [
      [{ context: 'A', pairs: [{ question: 'qa', answer: 'aa' }], inheritFromPrev: false }],
      [{ context: 'B', pairs: [], inheritFromPrev: false }],
    ]);
    const items = planRound(r1, ['C', 'D'], budget);
    assert.equal(items[0].prompt, '<s> <CON> A </CON>\n\n<QUE> qa <ANS> aa </END></s><s> <CON> C </CON>\n\n');
    assert.equal(items[0].chain[0].followedByNext, true);
    // chain 1's last entry has no pairs: nothing to demonstrate
    assert.equal(items[1].prompt, '<s> <CON> D </CON>\n\n');
    assert.equal(items[1].chain[0].followedByNext, false);
    // inputs are not mutated
    assert.equal(r1[0][0].followedByNext, undefined);
  });

  test('a new entry inherits only if its predecessor was followed and it produced pairs', () => {
    const r1 = collectRound(planRound([], ['A', 'B'], budget), ['<QUE> q <ANS> a </END>', '<QUE> q <ANS> a </END>']);
    const r2 = collectRound(planRound(r1, ['C', 'D'], budget), ['<QUE> q2 <ANS> a2 </END>', 'no pairs here']);
    assert.equal(r2[0][1].inheritFromPrev, true);
    assert.equal(r2[1][1].inheritFromPrev, false);
  });

  test('demonstrations accumulate back through inherited entries', () => {
    const r1 = collectRound(planRound([], ['A'], budget), ['<QUE> q1 <ANS> a1 </END>']);
    const r2 = collectRound(planRound(r1, ['B'], budget), ['<QUE> q2 <ANS> a2 </END>']);
    const items = planRound(r2, ['C'], budget);
    assert.equal(
      items[0].prompt,
      '<s> <CON> A </CON>\n\n<QUE> q1 <ANS> a1 </END></s>' +
        '<s> <CON> B </CON>\n\n<QUE> q2 <ANS> a2 </END></s>' +
        '<s> <CON> C </CON>\n\n',
    );
    assert.equal(
      inheritedDemonstrations(r2[0]),
      '<s> <CON> A </CON>\n\n<QUE> q1 <ANS> a1 </END></s><s> <CON> B </CON>\n\n<QUE> q2 <ANS> a2 </END></s>',
    );
  });

  test('a prompt over maxModelLen - maxNewTokens starts afresh and marks the chain not followed', () => {
    const r1 = collectRound(planRound([], ['one two three four'], budget), ['<QUE> q <ANS> a </END>']);
    const prompt = '<s> <CON> one two three four </CON>\n\n<QUE> q <ANS> a </END></s><s> <CON> five </CON>\n\n';
    const words = prompt.split(' ').length;
    const exact = planRound(r1, ['five'], { maxModelLen: words * 1.5 + 10, maxNewTokens: 10 });
    assert.equal(exact[0].prompt, prompt, 'a prompt exactly at the budget fits');
    const tight = planRound(r1, ['five'], { maxModelLen: words * 1.5 + 9, maxNewTokens: 10 });
    assert.equal(tight[0].prompt, '<s> <CON> five </CON>\n\n');
    assert.equal(tight[0].chain[0].followedByNext, false);
  });

  test('the default token count is the released estimate: pieces on single spaces times 1.5', () => {
    assert.equal(estimateTokens('a b  c'), 6);
    assert.equal(estimateTokens(''), 1.5);
  });

  test('countTokens from a real tokenizer replaces the estimate', () => {
    const r1 = collectRound(planRound([], ['A'], budget), ['<QUE> q <ANS> a </END>']);
    const calls: string[] = [];
    const countTokens = (s: string) => (calls.push(s), s.length);
    const tight = planRound(r1, ['B'], { maxModelLen: 100, maxNewTokens: 50, countTokens });
    assert.deepEqual(calls, ['<s> <CON> A </CON>\n\n<QUE> q <ANS> a </END></s><s> <CON> B </CON>\n\n']);
    assert.equal(tight[0].prompt, '<s> <CON> B </CON>\n\n');
    const roomy = planRound(r1, ['B'], { maxModelLen: 100 + calls[0].length, maxNewTokens: 100, countTokens });
    assert.equal(roomy[0].prompt, calls[0]);
  });

  test('collectRound refuses a wrong number of outputs', () => {
    assert.throws(() => collectRound(planRound([], ['A'], budget), []), /1 items/);
  });

  test('leftover chains are kept, not followed, and put in front of the first items', () => {
    const r1 = collectRound(planRound([], ['A', 'B', 'C'], budget), [
      '<QUE> qa <ANS> x </END>',
      '<QUE> qb <ANS> x </END>',
      '<QUE> qc <ANS> x </END>',
    ]);
    const items = planRound(r1, ['D'], budget);
    assert.equal(items.length, 1);
    assert.deepEqual(
      items[0].chain.map((e) => [e.context, e.followedByNext]),
      [
        ['B', false],
        ['C', false],
        ['A', true],
      ],
    );
    const r2 = collectRound(items, ['<QUE> qd <ANS> y </END>']);
    assert.deepEqual(
      r2[0].map((e) => e.context),
      ['B', 'C', 'A', 'D'],
    );
    assert.equal(r2[0][3].inheritFromPrev, true);
  });

  test('planRound refuses to drop chains when a round has no texts', () => {
    const r1 = collectRound(planRound([], ['A'], budget), ['x']);
    assert.throws(() => planRound(r1, [], budget), /no texts/);
  });
});

/** Runs M rounds over texts with a scripted synthesizer; returns the final chains and the prompts seen. */
function runRounds(texts: string[], rounds: number, answer: (item: RoundItem, round: number) => string) {
  let chains: Chain[] = [];
  const prompts: string[][] = [];
  splitIntoRounds(texts, rounds).forEach((slice, r) => {
    const items = planRound(chains, slice, budget);
    prompts.push(items.map((i) => i.prompt));
    chains = collectRound(
      items,
      items.map((item) => answer(item, r)),
    );
  });
  return { chains, prompts };
}

describe('multi-round synthesis keeps every text exactly once', () => {
  const scripted = (item: RoundItem, r: number) =>
    item.text.endsWith('7')
      ? 'no pairs'
      : `<QUE> What is ${item.text}? <ANS> ${item.text} in round ${r} </END>\n\n<QUE> what is ${item.text.toUpperCase()}? <ANS> dup </END>`;

  for (const rounds of [1, 2, 3, 4]) {
    for (const n of [1, 2, 5, 7, 8, 13]) {
      test(`M=${rounds}, N=${n}`, () => {
        const texts = Array.from({ length: n }, (_, i) => `text ${i}`);
        const { chains, prompts } = runRounds(texts, rounds, scripted);
        const contexts = chains.flat().map((e) => e.context);
        assert.deepEqual([...contexts].sort(), [...texts].sort(), 'every text once');
        for (const e of chains.flat()) {
          if (e.context.endsWith('7')) assert.deepEqual(e.pairs, []);
          else assert.equal(e.pairs.length, 1, 'duplicates are removed');
        }
        // chains keep round order: an entry synthesized in a later round never precedes its predecessor
        const sliceOf = new Map(splitIntoRounds(texts, rounds).flatMap((s, r) => s.map((t) => [t, r] as const)));
        for (const chain of chains) {
          for (let i = 1; i < chain.length; i++) {
            if (chain[i].inheritFromPrev)
              assert.ok(sliceOf.get(chain[i - 1].context)! < sliceOf.get(chain[i].context)!);
          }
        }
        // a round r > 0 prompt carries its chain's current few-shot group as demonstrations: counted here
        // independently, from which texts the script gives pairs (all but those ending in 7)
        const slices = splitIntoRounds(texts, rounds);
        let group: number[] = []; // per chain: entries in its trailing group of inherited entries with pairs
        slices.forEach((slice, r) => {
          assert.equal(prompts[r].length, slice.length);
          const next: number[] = [];
          slice.forEach((text, i) => {
            const demos = group[i] ?? 0;
            assert.equal(prompts[r][i].split('</s>').length - 1, demos, `round ${r} text ${i}: demonstrations`);
            assert.ok(prompts[r][i].endsWith(cookRead(text)));
            const hasPairs = !text.endsWith('7');
            next.push(hasPairs ? demos + 1 : 0);
          });
          group = next;
        });
      });
    }
  }

  test('a round with fewer texts than chains (N=7, M=3 -> 3,3,1) keeps all chains', () => {
    const texts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const { chains } = runRounds(texts, 3, (item) => `<QUE> ${item.text}? <ANS> yes </END>`);
    assert.equal(chains.length, 1);
    assert.deepEqual(
      chains[0].map((e) => e.context),
      ['b', 'e', 'c', 'f', 'a', 'd', 'g'],
    );
    assert.deepEqual(
      chains[0].map((e) => e.inheritFromPrev),
      [false, true, false, true, false, true, true],
    );
  });

  test('property: any N, any M, any outputs -> every text exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.constantFrom('', 'junk', '<QUE> q <ANS> a </END>', '<QUE> q <ANS> a </END>\n\n<QUE> r <ANS> b </END>'),
          { minLength: 1 },
        ),
        (n, rounds, outputs) => {
          const texts = Array.from({ length: n }, (_, i) => `t${i}`);
          let k = 0;
          const { chains } = runRounds(texts, rounds, () => outputs[k++ % outputs.length]);
          assert.deepEqual(
            chains
              .flat()
              .map((e) => e.context)
              .sort(),
            [...texts].sort(),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
