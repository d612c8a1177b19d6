// The rules over the whole Brown corpus, cut into 1-2 KB texts: no crash, a sane number of pairs per
// text, every answer backed by its text, the synthesizer format round trip, and throughput.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBrown } from '../../lib/corpus/brown.js';
import { contextsOf } from '../../lib/corpus/chunk.js';
import { RULE_KINDS, mineTasks, ruleKindOfQuestion, synthesizerOutput } from '../../lib/synth/rules.js';
import { parseComprehension } from '../../lib/synth/format.js';
import { unsupported } from './support.js';

test('mining all of Brown: pairs per text, kinds, support, round trip, speed', (t) => {
  const texts = loadBrown().flatMap((d) => contextsOf(d.text).map((text) => ({ id: d.id, genre: d.genre, text })));
  const started = performance.now();
  const mined = texts.map((x) => mineTasks(x.text, { seed: 1, genre: x.genre }));
  const seconds = (performance.now() - started) / 1000;
  const kinds: Record<string, number> = {};
  let pairs = 0;
  const failures: string[] = [];
  mined.forEach((list, i) => {
    pairs += list.length;
    const plain = list.map((p) => ({ question: p.question, answer: p.answer }));
    if (JSON.stringify(parseComprehension(synthesizerOutput(plain), { deduplicate: true })) !== JSON.stringify(plain))
      failures.push(`${texts[i].id}: round trip`);
    for (const p of list) {
      kinds[p.kind] = (kinds[p.kind] ?? 0) + 1;
      const why = unsupported(texts[i].text, p, texts[i].genre);
      if (why) failures.push(`${texts[i].id} ${p.kind}: ${why}\n  Q: ${p.question}\n  A: ${p.answer}`);
      if (ruleKindOfQuestion(p.question) !== p.kind)
        failures.push(`${texts[i].id} ${p.kind}: question not recognised as its kind`);
    }
  });
  const perText = pairs / texts.length;
  t.diagnostic(
    `${texts.length} texts, ${pairs} pairs (${perText.toFixed(2)}/text) in ${seconds.toFixed(2)} s = ${(texts.length / seconds).toFixed(0)} texts/s`,
  );
  t.diagnostic(`kinds ${JSON.stringify(kinds)}`);
  assert.deepEqual(failures.slice(0, 10), []);
  assert.ok(texts.length > 4000);
  assert.ok(perText >= 3.5 && perText <= 6, `pairs per text ${perText}`);
  assert.ok(mined.filter((l) => l.length < 3).length < texts.length * 0.01, 'texts with fewer than 3 pairs');
  for (const k of RULE_KINDS) assert.ok((kinds[k] ?? 0) > 0, `kind ${k} never mined`);
  assert.ok(seconds < 60, `mining took ${seconds} s`);
});
