// An independent check, kind by kind, that a mined pair's answer is backed by its context: written
// from the rules' stated semantics, not from their code, and shared by the rule tests.
import { COT_ANSWER_MARKER, COT_QUESTION_SUFFIX } from '../../lib/synth/format.js';
import { genreName, optionsOf, type MinedPair } from '../../lib/synth/rules.js';
import { splitSentences } from '../../lib/corpus/sentences.js';

const RELATIONS: Array<[RegExp, string]> = [
  [/^(Therefore|Thus|Hence|Consequently|Accordingly|As a result),/, 'conclusion'],
  [/^(However|Nevertheless|Nonetheless|On the other hand|In contrast|Instead),|^(But|Yet) /, 'contrasts'],
  [/^(Moreover|Furthermore|In addition|Besides|Likewise|Similarly),/, 'adds'],
  [/^(For example|For instance),/, 'example'],
  [/^(In other words|That is),/, 'other words'],
];

export function final(answer: string): string {
  const at = answer.lastIndexOf(COT_ANSWER_MARKER);
  return at < 0 ? answer : answer.slice(at + COT_ANSWER_MARKER.length);
}

export function wordCount(text: string, word: string): number {
  const w = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (text.match(new RegExp(`(?<![A-Za-z]|[A-Za-z]['’-])${w}(?![A-Za-z]|['’-][A-Za-z])`, 'gi')) ?? []).length;
}

/** Adjacent in the context: `b` follows `a` after whitespace only. */
function adjacent(context: string, a: string, b: string): boolean {
  for (let i = context.indexOf(a); i >= 0; i = context.indexOf(a, i + 1)) {
    if (
      /^\s+$/.test(context.slice(i + a.length, context.indexOf(b, i + a.length))) &&
      context.indexOf(b, i + a.length) >= 0
    )
      return true;
  }
  return false;
}

function blankedFrom(question: string, sentence: string, answer: string): boolean {
  for (let i = sentence.indexOf(answer); i >= 0; i = sentence.indexOf(answer, i + 1)) {
    if (question.includes(`"${sentence.slice(0, i)}____${sentence.slice(i + answer.length)}"`)) return true;
  }
  return false;
}

/** Why the pair is not supported by the context, or undefined when it is. */
export function unsupported(context: string, p: MinedPair, genre?: string): string | undefined {
  const f = final(p.answer);
  const options = optionsOf(p.question);
  const [e0, e1] = p.evidence;
  for (const e of p.evidence) if (!context.includes(e)) return `evidence not in context: ${e}`;
  if (p.multipleChoice !== (options !== undefined)) return 'multipleChoice flag';
  if (options && !options.includes(f)) return 'answer is not an option';
  if (p.chainOfThought !== (p.question.endsWith(COT_QUESTION_SUFFIX) && p.answer.includes(COT_ANSWER_MARKER)))
    return 'chainOfThought flag';
  switch (p.kind) {
    case 'fill_blank':
    case 'number':
      if (p.kind === 'number' && !/\d/.test(f)) return 'not a number';
      return blankedFrom(p.question, e0, f) ? undefined : 'question is not the evidence with the answer blanked';
    case 'next_sentence': {
      if (!adjacent(context, e0, e1)) return 'evidence sentences not adjacent';
      const before = /^(Which sentence comes just before|What does the text say right before) /.test(p.question);
      const [given, answer] = before ? [e1, e0] : [e0, e1];
      return f === answer && p.question.includes(`"${given}"`) ? undefined : 'wrong neighbour';
    }
    case 'completion': {
      const m = /"(.*) \.\.\."$/s.exec(p.question);
      if (!m) return 'no prefix';
      return e0.startsWith(m[1]) && e0.endsWith(f) && e0.slice(m[1].length).trim() === f
        ? undefined
        : 'prefix + answer is not the sentence';
    }
    case 'word_to_text': {
      const m = /(?:the words|these words:) (.+)\.$/.exec(p.question);
      if (!m || f !== e0) return 'answer is not the evidence sentence';
      const words = m[1].split(/, | and /);
      return words.length === 3 && words.every((w) => wordCount(f, w) > 0)
        ? undefined
        : `words missing from the sentence: ${words}`;
    }
    case 'ordering': {
      if (!options || options.length !== 2 || !options.every((o) => context.includes(o)))
        return 'options not sentences of the text';
      const [first, later] = [...options].sort((x, y) => context.indexOf(x) - context.indexOf(y));
      const want = /comes first/.test(p.question) ? first : later;
      if (f !== want) return 'wrong order';
      if (p.chainOfThought) {
        const index = splitSentences(context).map((s) => s.text);
        const nums = [...p.answer.matchAll(/is sentence (\d+)/g)].map((m) => Number(m[1]));
        if (nums[0] !== index.indexOf(first) + 1 || nums[1] !== index.indexOf(later) + 1) return 'sentence numbers';
      }
      return undefined;
    }
    case 'yes_no': {
      const statement = /"([^"]*)"/.exec(p.question)![1];
      if (f === 'Yes') return statement === e0 ? undefined : 'Yes, but the statement is not the sentence';
      if (f !== 'No') return 'not yes or no';
      if (context.includes(statement)) return 'No, but the statement is in the text';
      let pre = 0;
      while (pre < statement.length && statement[pre] === e0[pre]) pre++;
      let suf = 0;
      while (
        suf < statement.length - pre &&
        suf < e0.length - pre &&
        statement[statement.length - 1 - suf] === e0[e0.length - 1 - suf]
      )
        suf++;
      const changed = [statement.slice(pre, statement.length - suf), e0.slice(pre, e0.length - suf)];
      // one change: a span swapped for a name or number from elsewhere in the text, or a negation; titles
      // such as "the Justice Department's Information Director" run past 40 characters
      return changed.every((c) => c.length <= 60) ? undefined : `more than one change: ${changed}`;
    }
    case 'nli': {
      let relation = 'contrasts';
      let connective = 'but';
      if (e1 !== undefined) {
        if (!adjacent(context, e0, e1)) return 'evidence sentences not adjacent';
        const found = RELATIONS.find(([re]) => re.test(e1));
        if (!found) return 'no connective';
        relation = found[1];
        connective = found[0].exec(e1)![0].replace(/[, ]+$/, '');
      } else if (!e0.includes(', but ')) return 'no ", but"';
      return f === connective || (options !== undefined && f.includes(relation))
        ? undefined
        : `answer does not follow from "${connective}"`;
    }
    case 'cause_effect': {
      const askCause = /^(What reason|According to the text, what is the cause)/.test(p.question);
      if (e1 !== undefined) {
        // "A. As a result, B.": A is the cause, B the result
        if (
          !adjacent(context, e0, e1) ||
          !/^(As a result|Consequently|Therefore|Because of this|For this reason),/.test(e1)
        )
          return 'no connective between the sentences';
        return (askCause ? e0.includes(f) : e1.includes(f) && !e0.includes(f)) ? undefined : 'cause and effect swapped';
      }
      const at = e0.indexOf(f);
      if (at < 0) return 'answer not in the evidence';
      if (e0.startsWith('Because ')) {
        // "Because A, B.": A right after "Because", B to the end
        return askCause
          ? at === 'Because '.length
            ? undefined
            : 'cause is not after "Because"'
          : at > e0.indexOf(', ')
            ? undefined
            : 'result is not after the cause';
      }
      const because = e0.indexOf(' because ');
      if (because >= 0) return askCause === at > because ? undefined : 'cause and effect swapped around "because"';
      const so = e0.indexOf(', so ');
      if (so >= 0) return askCause === at < so ? undefined : 'cause and effect swapped around ", so"';
      return 'no causal cue';
    }
    case 'paraphrase': {
      const m = /^(In other words|That is),\s+(.*)$/.exec(e1 ?? '');
      return m && m[2] === f && p.question.includes(`"${e0}"`) && adjacent(context, e0, e1)
        ? undefined
        : 'not a restatement';
    }
    case 'counting': {
      const word = /the word "([^"]+)"/.exec(p.question)![1];
      if (f !== String(wordCount(context, word))) return `count of ${word} is ${wordCount(context, word)}, not ${f}`;
      return undefined;
    }
    case 'topic': {
      if (!options) return 'not multiple choice';
      const top = wordCount(context, f);
      return options.every((o) => o === f || wordCount(context, o) < top) ? undefined : 'another option is as frequent';
    }
    case 'genre':
      return genre !== undefined && f === genreName(genre) ? undefined : 'not the stated genre';
    case 'who':
    case 'where':
    case 'when':
    case 'what': {
      // a wh-question whose answer is a span of its evidence, not given away by the question; the
      // distractors are not in the evidence (there they could be a second right answer)
      const stem = p.question.split('\nOptions:')[0];
      if (!/^[A-Z][^\n]*\?$/.test(stem)) return 'not a one-line question';
      if (!p.evidence.some((e) => e.includes(f))) return 'answer is not a span of the evidence';
      if (stem.toLowerCase().includes(f.toLowerCase())) return 'the question contains the answer';
      if (options && options.some((o) => o !== f && p.evidence.some((e) => e.includes(o))))
        return 'a distractor is in the evidence';
      if (
        p.kind === 'when' &&
        !/^((January|February|March|April|May|June|July|August|September|October|November|December) )?(\d{1,2}(st|nd|rd|th)?,? )?\d{4}$|^\d{1,2} [A-Z][a-z]+ \d{4}$/.test(
          f,
        )
      )
        return 'not a date or year';
      if ((p.kind === 'who' || p.kind === 'where') && !/^[A-Z]/.test(f)) return 'not a name';
      return undefined;
    }
  }
}
