// The rule-based synthesizer: every kind on a literal text (exact pairs for a seed), answers backed
// by the text on the whole Brown corpus, determinism, the synthesizer format round trip, and the
// CompletionEngine on prompts with demonstrations.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  RULE_KINDS,
  analyze,
  mineTasks,
  minePairs,
  ruleKindOfQuestion,
  ruleSynthesizer,
  synthesizerOutput,
  type RuleKind,
} from '../../lib/synth/rules.js';
import {
  collectRound,
  cookCompre,
  cookDemonstration,
  cookRead,
  parseComprehension,
  parsePrompt,
  planRound,
  type Chain,
  type Pair,
} from '../../lib/synth/format.js';
import { final, unsupported } from './support.js';

const TEXT = [
  'The Fulton County Grand Jury said Friday that the city election was conducted fairly. The jury praised the City Executive Committee for its careful work on the election. However, the jury said the county purchasing office should be combined with the city office.',
  'Mayor William Hartsfield has served the city of Atlanta since 1937, and he will retire next year. The new airport will open in 1962 because the old runway is too short for jets. The jury counted 3,745 ballots in the Atlanta precincts. As a result, the count took the jurors two full days.',
  'The jury also asked the Legislature to study the election laws of Georgia. In other words, the jury wants the state lawmakers to rewrite the election code. The jurors were tired, so they went home early on Saturday.',
].join('\n\n');

/** A short biography and a news paragraph: the entity kinds (who, where, when, what) are tested on it. */
const FACT_TEXT = [
  'Anna Kowalski was born in Lisbon in March 1975. She studied physics at Oxford University. She works for Siemens in Munich, and she lives in Freising.',
  'John Smith, the president of Acme Corporation, said the plant would close in 1962. Dr. Ellen Park is the director of the Ames Laboratory. The committee met in Washington on Tuesday.',
].join('\n\n');
const FACT_KINDS = new Set<RuleKind>(['who', 'where', 'when', 'what']);
const textOf = (kind: RuleKind) => (FACT_KINDS.has(kind) ? FACT_TEXT : TEXT);

const EXPECTED: Record<RuleKind, Pair[]> = {
  fill_blank: [
    {
      question:
        'Fill in the blank in this sentence from the text: "The new ____ will open in 1962 because the old runway is too short for jets."\nOptions:\n- mayor\n- grand\n- words\n- airport',
      answer: 'airport',
    },
    {
      question:
        'Fill in the blank in this sentence from the text: "The jurors were tired, so they went home ____ on Saturday."',
      answer: 'early',
    },
  ],
  next_sentence: [
    {
      question:
        'Which sentence comes just before "As a result, the count took the jurors two full days." in the text?\nOptions:\n- The jury counted 3,745 ballots in the Atlanta precincts.\n- In other words, the jury wants the state lawmakers to rewrite the election code.\n- The new airport will open in 1962 because the old runway is too short for jets.',
      answer: 'The jury counted 3,745 ballots in the Atlanta precincts.',
    },
    {
      question:
        'What does the text say right before "In other words, the jury wants the state lawmakers to rewrite the election code."?',
      answer: 'The jury also asked the Legislature to study the election laws of Georgia.',
    },
  ],
  completion: [
    {
      question: 'Complete this sentence from the text: "The Fulton County Grand Jury said Friday ..."',
      answer: 'that the city election was conducted fairly.',
    },
    {
      question: 'Complete this sentence from the text: "Mayor William Hartsfield has served the city ..."',
      answer: 'of Atlanta since 1937, and he will retire next year.',
    },
  ],
  word_to_text: [
    {
      question: 'Write a sentence in the style of news reportage that uses the words state, lawmakers and wants.',
      answer: 'In other words, the jury wants the state lawmakers to rewrite the election code.',
    },
    {
      question: 'Compose a sentence in the style of news reportage containing these words: city, fairly and conducted.',
      answer: 'The Fulton County Grand Jury said Friday that the city election was conducted fairly.',
    },
  ],
  ordering: [
    {
      question:
        'Which of these two sentences comes first in the text?\nOptions:\n- In other words, the jury wants the state lawmakers to rewrite the election code.\n- Mayor William Hartsfield has served the city of Atlanta since 1937, and he will retire next year.',
      answer: 'Mayor William Hartsfield has served the city of Atlanta since 1937, and he will retire next year.',
    },
    {
      question:
        'Which of these two sentences comes first in the text?\nOptions:\n- The jurors were tired, so they went home early on Saturday.\n- The jury praised the City Executive Committee for its careful work on the election.',
      answer: 'The jury praised the City Executive Committee for its careful work on the election.',
    },
  ],
  yes_no: [
    {
      question:
        'Does the text support the following statement? "However, the jury said the county purchasing office should be combined with the city office."\nOptions:\n- Yes\n- No',
      answer: 'Yes',
    },
    {
      question:
        'Does the text support the following statement? "The jury counted 3,745 ballots in the Fulton County Grand Jury precincts."\nLet\'s think step by step.',
      answer:
        'The text says "The jury counted 3,745 ballots in the Atlanta precincts." The statement has "Fulton County Grand Jury" where the text has "Atlanta".\nTherefore, the answer is No',
    },
  ],
  nli: [
    {
      question:
        'Sentence 1: "The jury counted 3,745 ballots in the Atlanta precincts"\nSentence 2: "The count took the jurors two full days"\nWhich word or phrase links sentence 2 to sentence 1 in the text?',
      answer: 'As a result',
    },
    {
      question:
        'Sentence 1: "The jury also asked the Legislature to study the election laws of Georgia"\nSentence 2: "The jury wants the state lawmakers to rewrite the election code"\nIn the text, how is sentence 2 related to sentence 1?\nOptions:\n- The second adds a further point to the first.\n- The second is a conclusion drawn from the first.\n- The second says the first in other words.\n- The second gives an example of the first.\n- The second contrasts with the first.',
      answer: 'The second says the first in other words.',
    },
  ],
  cause_effect: [
    {
      question: 'According to the text, what is the cause of this: "The new airport will open in 1962"?',
      answer: 'the old runway is too short for jets',
    },
    {
      question: 'According to the text, what is the cause of this: "They went home early on Saturday"?',
      answer: 'The jurors were tired',
    },
  ],
  paraphrase: [
    {
      question:
        'How does the text say this in other words? "The jury also asked the Legislature to study the election laws of Georgia."',
      answer: 'the jury wants the state lawmakers to rewrite the election code.',
    },
  ],
  number: [
    {
      question:
        'Which number goes in the blank, according to the text? "The jury counted ____ ballots in the Atlanta precincts."',
      answer: '3,745',
    },
    {
      question:
        'What number is missing from this sentence of the text? "The new airport will open in ____ because the old runway is too short for jets."\nOptions:\n- 3,745\n- 1937\n- 1962',
      answer: '1962',
    },
  ],
  counting: [
    {
      question: 'How many times does the word "jury" appear in the text?\nLet\'s think step by step.',
      answer:
        'The word "jury" appears in "County Grand Jury said Friday", "fairly. The jury praised the", "However, the jury said the", "jets. The jury counted 3,745", "The jury also asked" and "words, the jury wants the": that is 6 times.\nTherefore, the answer is 6',
    },
    {
      question: 'How many times is the word "office" used in the text?',
      answer: '2',
    },
  ],
  topic: [
    {
      question:
        "Which of these words does the text use most often?\nOptions:\n- jury\n- study\n- Georgia\n- Friday\nLet's think step by step.",
      answer:
        '"jury" appears 6 times, while "study", "Georgia" and "Friday" appear once each.\nTherefore, the answer is jury',
    },
  ],
  genre: [
    {
      question:
        'What kind of text is this?\nOptions:\n- mystery fiction\n- general fiction\n- news reportage\n- review',
      answer: 'news reportage',
    },
  ],
  who: [
    {
      question:
        'According to the text, who was born in Lisbon in March 1975?\nOptions:\n- Anna Kowalski\n- Dr. Ellen Park\n- John Smith',
      answer: 'Anna Kowalski',
    },
    {
      question:
        'According to the text, who works for Siemens in Munich?\nOptions:\n- John Smith\n- Dr. Ellen Park\n- Anna Kowalski',
      answer: 'Anna Kowalski',
    },
  ],
  where: [
    {
      question: 'Where did the committee meet?\nOptions:\n- Munich\n- Oxford University\n- Washington\n- Lisbon',
      answer: 'Washington',
    },
    { question: 'Which organization does Anna Kowalski work for?', answer: 'Siemens' },
  ],
  when: [{ question: 'When was Anna Kowalski born in Lisbon?', answer: 'March 1975' }],
  what: [
    { question: 'What is Dr. Ellen Park, according to the text?', answer: 'the director of the Ames Laboratory' },
    { question: 'What is John Smith, according to the text?', answer: 'the president of Acme Corporation' },
  ],
};

// ---------------------------------------------------------------------------------------------

describe('each rule kind on a literal text', () => {
  for (const kind of RULE_KINDS) {
    test(`${kind}: exact pairs for seed 7, each backed by the text`, () => {
      const mined = mineTasks(textOf(kind), { seed: 7, kinds: [kind], maxPairs: 2, minPairs: 2, genre: 'news' });
      assert.deepEqual(
        mined.map((p) => ({ question: p.question, answer: p.answer })),
        EXPECTED[kind],
      );
      assert.ok(mined.length > 0);
      for (const p of mined) {
        assert.equal(p.kind, kind);
        assert.equal(unsupported(textOf(kind), p, 'news'), undefined, p.question);
        assert.equal(ruleKindOfQuestion(p.question), kind);
      }
    });
  }

  test('genre needs a known genre; patterns need their cue words', () => {
    assert.deepEqual(mineTasks(TEXT, { seed: 7, kinds: ['genre'] }), []);
    const noCues =
      'The committee met on a cold morning in the old hall. Its members read the long report aloud to each other. The chairman thanked the members for their patience and closed the meeting.';
    for (const kind of ['nli', 'cause_effect', 'paraphrase', 'number'] as const)
      assert.deepEqual(mineTasks(noCues, { seed: 1, kinds: [kind] }), [], kind);
  });

  test('a corrupted statement swaps a number from elsewhere in the text, or negates', () => {
    const text =
      'The jury counted 3,745 ballots in the precincts. The new airport will open in 1962 after a long delay. The mayor has served the city well for many years.';
    const noes = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      for (const p of mineTasks(text, { seed, kinds: ['yes_no'], maxPairs: 3 })) {
        assert.equal(unsupported(text, p), undefined, p.question);
        if (final(p.answer) === 'No') noes.add(/"([^"]*)"/.exec(p.question)![1]);
      }
    }
    assert.ok(noes.has('The jury counted 1962 ballots in the precincts.'), [...noes].join('\n'));
    assert.ok(noes.has('The new airport will open in 3,745 after a long delay.'));
    assert.ok(noes.has('The mayor has not served the city well for many years.'));
  });
});

describe('entity questions (who, where, when, what)', () => {
  const BIO =
    'Marco Bellini was born on June 3, 1982, in Turin. He graduated from the University of Padua in 2004. He works as a chemist at Bayer. He lives in Cologne.';

  test('a biography: each fact asked the way it is stated, answers are spans, pronouns resolved to the one person named', () => {
    const seen = new Map<string, string>();
    for (let seed = 0; seed < 40; seed++) {
      for (const p of mineTasks(BIO, { seed, kinds: ['who', 'where', 'when', 'what'], maxPairs: 8, minPairs: 8 })) {
        assert.equal(unsupported(BIO, p), undefined, p.question);
        assert.equal(ruleKindOfQuestion(p.question), p.kind, p.question);
        seen.set(p.question.split('\nOptions:')[0], p.answer);
      }
    }
    const want: Record<string, string> = {
      'When was Marco Bellini born?': 'June 3, 1982',
      'On what date was Marco Bellini born?': 'June 3, 1982',
      'Who was born on June 3, 1982, in Turin?': 'Marco Bellini',
      'Where did Marco Bellini graduate from?': 'University of Padua',
      'In what year did Marco Bellini graduate from the University of Padua?': '2004',
      'What does Marco Bellini work as?': 'a chemist',
      'Where does Marco Bellini work as a chemist?': 'Bayer',
      'Where does Marco Bellini live?': 'Cologne',
      'Who lives in Cologne?': 'Marco Bellini',
    };
    for (const [question, answer] of Object.entries(want)) assert.equal(seen.get(question), answer, question);
  });

  test('a biography in other wordings: possessives, "is employed by", "has a job at", hobbies', () => {
    const bio =
      "Gina Watson's hometown is Portland. She is employed by Honda. She attended Emory. She was born in the year 1981. Her favorite pastime is hiking. She focused on music. She has a job at Honda. His degree is in law.";
    const seen = new Map<string, string>();
    for (let seed = 0; seed < 60; seed++) {
      for (const p of mineTasks(bio, { seed, kinds: ['who', 'where', 'when', 'what'], maxPairs: 8, minPairs: 8 })) {
        assert.equal(unsupported(bio, p), undefined, p.question);
        seen.set(p.question.split('\nOptions:')[0], p.answer);
      }
    }
    const want: Record<string, string> = {
      "What is Gina Watson's hometown?": 'Portland',
      'Where is Gina Watson employed?': 'Honda',
      'Which institution did Gina Watson attend?': 'Emory',
      'In what year was Gina Watson born?': '1981',
      "What is Gina Watson's favorite pastime?": 'hiking',
      'What did Gina Watson focus on?': 'music',
      'Where does Gina Watson have a job?': 'Honda',
      "What is Gina Watson's degree in?": 'law',
      'Who focused on music?': 'Gina Watson',
    };
    for (const [question, answer] of Object.entries(want))
      assert.equal(seen.get(question), answer, `${question} (asked: ${[...seen.keys()].join(' | ')})`);
  });

  test('pronouns are not resolved when two people could be meant; "he" alone names no one', () => {
    const two = 'Anna Kowalski was born in Lisbon. Peter Brandt was born in Hamburg. She works for Siemens.';
    const pairs = mineTasks(two, { seed: 3, kinds: ['who', 'where', 'when', 'what'], maxPairs: 8 });
    assert.ok(pairs.length > 0);
    assert.ok(
      pairs.every((p) => !p.question.includes('Siemens') && p.answer !== 'Siemens'),
      JSON.stringify(pairs),
    );
    assert.deepEqual(
      mineTasks('He works for Siemens in Munich. He was born in Lisbon in 1975.', {
        seed: 1,
        kinds: ['who', 'where', 'when', 'what'],
      }),
      [],
    );
  });

  test('no entity question on text without such facts', () => {
    const none = [
      'The committee met on a cold morning in the old hall. Its members read the long report aloud to each other. The chairman thanked the members for their patience and closed the meeting.',
      'It was late. They walked home slowly, talking about nothing at all, and the rain kept falling on the empty streets.',
      'Letters came regularly from home. Nobody answered them.',
    ];
    for (const text of none)
      for (let seed = 0; seed < 5; seed++)
        assert.deepEqual(mineTasks(text, { seed, kinds: ['who', 'where', 'when', 'what'] }), [], text);
  });

  test('deterministic per (text, seed), and the old kinds keep their candidates', () => {
    const a = mineTasks(FACT_TEXT, { seed: 5, maxPairs: 8 });
    assert.deepEqual(mineTasks(FACT_TEXT, { seed: 5, maxPairs: 8 }), a);
    assert.ok(a.some((p) => FACT_KINDS.has(p.kind)));
    // a kind's own candidates do not depend on which other kinds are mined
    const onlyOld = mineTasks(TEXT, { seed: 7, kinds: ['fill_blank'], maxPairs: 2, minPairs: 2 });
    assert.deepEqual(
      onlyOld.map((p) => ({ question: p.question, answer: p.answer })),
      EXPECTED.fill_blank,
    );
  });

  test("multiple-choice distractors are of the answer's type and from outside the fact's sentences", () => {
    let mc = 0;
    for (let seed = 0; seed < 30; seed++) {
      for (const p of mineTasks(FACT_TEXT, { seed, kinds: ['who', 'where', 'when'], maxPairs: 8 })) {
        if (!p.multipleChoice) continue;
        mc++;
        const options = p.question.split('\nOptions:\n- ')[1].split('\n- ');
        assert.ok(options.includes(p.answer));
        if (p.kind === 'when')
          assert.ok(
            options.every((o) => /\d{4}/.test(o)),
            p.question,
          );
        if (p.kind === 'who')
          assert.ok(
            options.every((o) => ['Anna Kowalski', 'John Smith', 'Dr. Ellen Park'].includes(o)),
            p.question,
          );
        assert.equal(unsupported(FACT_TEXT, p), undefined, p.question);
      }
    }
    assert.ok(mc > 5, `${mc} multiple-choice entity questions`);
  });
});

describe('mining', () => {
  test('deterministic per (text, seed); another seed gives other pairs', () => {
    const a = mineTasks(TEXT, { seed: 3, genre: 'news' });
    assert.deepEqual(mineTasks(TEXT, { seed: 3, genre: 'news' }), a);
    assert.notDeepEqual(mineTasks(TEXT, { seed: 4, genre: 'news' }), a);
  });

  test('pair count lies in [minPairs, maxPairs] and kinds are mixed', () => {
    for (let seed = 0; seed < 20; seed++) {
      const mined = mineTasks(TEXT, { seed, genre: 'news', minPairs: 4, maxPairs: 8 });
      assert.ok(mined.length >= 4 && mined.length <= 8, `${mined.length}`);
      assert.ok(new Set(mined.map((p) => p.kind)).size >= Math.min(4, mined.length));
    }
    assert.equal(mineTasks(TEXT, { seed: 1, maxPairs: 1 }).length, 1);
    assert.deepEqual(mineTasks(TEXT, { seed: 1, maxPairs: 0 }), []);
  });

  test('empty, tiny and marker-laden texts give few or no pairs and never a broken one', () => {
    assert.deepEqual(minePairs('', { seed: 1 }), []);
    assert.deepEqual(minePairs('   \n\n ', { seed: 1 }), []);
    assert.deepEqual(minePairs('Hello.', { seed: 1 }), []);
    const nasty =
      'The parser reads <QUE> and <ANS> markers in the input stream today. </END> ends a pair in the released format of the model. Each pair is then split on those markers by the code.';
    for (const p of minePairs(nasty, { seed: 2, maxPairs: 8 }))
      for (const m of ['<QUE>', '<ANS>', '</END>']) assert.ok(!p.question.includes(m) && !p.answer.includes(m));
  });

  test('maxSentenceChars keeps long sentences out of questions and answers', () => {
    let seen = 0;
    for (let seed = 0; seed < 10; seed++) {
      for (const p of mineTasks(TEXT, { seed, genre: 'news', maxPairs: 8, maxSentenceChars: 80 })) {
        seen++;
        for (const e of p.evidence) assert.ok(e.length <= 80, `${p.kind}: ${e}`);
      }
    }
    assert.ok(seen > 20);
    const long = mineTasks(TEXT, { seed: 1, kinds: ['completion'], maxPairs: 8, maxSentenceChars: 320 });
    assert.ok(long.some((p) => p.evidence[0].length > 80));
  });

  test('bad options get clear errors', () => {
    assert.throws(() => mineTasks(TEXT, { seed: 1, kinds: ['riddles' as RuleKind] }), /unknown rule kind "riddles"/);
    assert.throws(() => mineTasks(TEXT, { seed: 1, maxPairs: -1 }), /maxPairs/);
  });

  test('outputs parse back to exactly the mined pairs', () => {
    const pairs = minePairs(TEXT, { seed: 5, genre: 'news', maxPairs: 8 });
    assert.deepEqual(parseComprehension(synthesizerOutput(pairs)), pairs);
    assert.deepEqual(parseComprehension(synthesizerOutput(pairs), { deduplicate: true }), pairs);
    assert.equal(synthesizerOutput([]), '');
    assert.deepEqual(parseComprehension(''), []);
  });

  test('the analysis finds names, numbers and content words', () => {
    const a = analyze(TEXT);
    assert.deepEqual(
      a.sentences[0].entities.map((e) => e.text),
      ['Fulton County Grand Jury', 'Friday'],
    );
    assert.deepEqual(
      a.sentences[4].numbers.map((n) => n.text),
      ['1962'],
    );
    assert.deepEqual(
      a.sentences[5].numbers.map((n) => n.text),
      ['3,745'],
    );
    assert.equal(a.counts.get('jury'), 6);
    assert.equal(a.display.get('georgia'), 'Georgia');
  });
});

describe('ruleSynthesizer as a CompletionEngine', () => {
  const texts = [
    TEXT,
    'The committee met on a cold morning in the old hall. Its members read the long report aloud to each other. The chairman thanked the members for their patience and closed the meeting. Nobody asked a question because everyone wanted to go home.',
    'A third text follows here with a few plain sentences. It was written for the test of the engine on demonstrations. The engine must find this text and not the one before it.',
  ];
  const genres = new Map([[TEXT, 'news']]);
  const engine = ruleSynthesizer({ seed: 11, genreOf: (t) => genres.get(t) });
  const expected = (text: string) => synthesizerOutput(minePairs(text, { seed: 11, genre: genres.get(text) }));

  test('answers plain prompts with the mined pairs of each text', async () => {
    const out = await engine.complete(texts.map(cookRead), { maxNewTokens: 4096 });
    assert.deepEqual(
      out.map((c) => c.text),
      texts.map(expected),
    );
    assert.ok(out.every((c) => c.finishReason === 'stop'));
    assert.equal(engine.name, 'rules@v2');
  });

  test('finds the current text behind demonstrations from planRound, and chains collect its pairs', async () => {
    const first = planRound([], [texts[0], texts[1]], { maxModelLen: 100000, maxNewTokens: 1000 });
    const round1 = collectRound(
      first,
      (
        await engine.complete(
          first.map((i) => i.prompt),
          { maxNewTokens: 4096 },
        )
      ).map((c) => c.text),
    );
    const second = planRound(round1, [texts[2], texts[1]], { maxModelLen: 100000, maxNewTokens: 1000 });
    assert.ok(second[0].prompt.startsWith(cookDemonstration(round1[0][0])), 'the first prompt carries a demonstration');
    const outputs = (
      await engine.complete(
        second.map((i) => i.prompt),
        { maxNewTokens: 4096 },
      )
    ).map((c) => c.text);
    assert.deepEqual(outputs, [expected(texts[2]), expected(texts[1])]);
    const chains: Chain[] = collectRound(second, outputs);
    assert.deepEqual(
      chains[0].map((e) => e.context),
      [texts[0], texts[2]],
    );
    assert.deepEqual(chains[0][1].pairs, minePairs(texts[2], { seed: 11 }));
    assert.equal(chains[0][1].inheritFromPrev, true);
  });

  test('the same text gets the same pairs in any batch, position or prompt', async () => {
    const demo = cookDemonstration({ context: texts[1], pairs: [{ question: 'Q', answer: 'A' }] });
    const batch = await engine.complete([cookRead(texts[2]), demo + cookRead(texts[0]), cookRead(texts[0])], {
      maxNewTokens: 4096,
    });
    assert.equal(batch[1].text, batch[2].text);
    assert.equal((await engine.complete([cookRead(texts[2])], { maxNewTokens: 4096 }))[0].text, batch[0].text);
  });

  test('an empty text gets an output with no pairs; a bad prompt a clear error', async () => {
    const [empty] = await engine.complete([cookRead('')], { maxNewTokens: 100 });
    assert.deepEqual(parseComprehension(empty.text), []);
    await assert.rejects(
      engine.complete(['<s> <CON> no end'], { maxNewTokens: 100 }),
      /prompt 0 is not a synthesizer prompt/,
    );
  });

  test('maxNewTokens keeps whole pairs only', async () => {
    const all = minePairs(TEXT, { seed: 11, genre: 'news' });
    const budget = Math.ceil(cookCompre(all.slice(0, 2)).split(' ').length * 1.5);
    const [c] = await engine.complete([cookRead(TEXT)], { maxNewTokens: budget });
    assert.deepEqual(parseComprehension(c.text), all.slice(0, 2));
    assert.equal(c.finishReason, 'length');
  });

  test('a prompt with a forced question gets the mined answer', async () => {
    const [pair] = minePairs(TEXT, { seed: 11, genre: 'news' });
    const prompt = `${cookRead(TEXT)}<QUE> ${pair.question} <ANS>`;
    assert.deepEqual(parsePrompt(prompt), { context: TEXT, question: pair.question });
    assert.equal((await engine.complete([prompt], { maxNewTokens: 100 }))[0].text, ` ${pair.answer} </END>`);
    assert.equal(
      (await engine.complete([`${cookRead(TEXT)}<QUE> Who? <ANS>`], { maxNewTokens: 100 }))[0].text,
      ' </END>',
    );
  });

  test('parsePrompt takes the last text and rejects anything else', () => {
    assert.deepEqual(parsePrompt('<s>'), { context: '' });
    assert.deepEqual(parsePrompt(cookRead('a <CON> b')), { context: 'a <CON> b' });
    const demos =
      cookDemonstration({ context: 'one', pairs: [{ question: 'q', answer: 'a' }] }) +
      cookDemonstration({ context: 'two', pairs: [{ question: 'q', answer: 'a' }] });
    assert.deepEqual(parsePrompt(demos + cookRead('three')), { context: 'three' });
    assert.equal(parsePrompt('hello'), undefined);
    assert.equal(parsePrompt(demos), undefined);
  });
});
