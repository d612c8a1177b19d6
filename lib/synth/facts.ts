// Facts a text states, for the rule-based synthesizer's entity questions (who, where, when, what):
// a sentence is read as subject + predicate, and a few general patterns name what the predicate
// says about the subject: a time or a place in a prepositional phrase ("was born in Lisbon in 1975",
// "will open in 1962", "has served the city since 1937", "studied physics at Oxford University"),
// what someone studied or is ("studied physics", "is a software engineer"), who did something ("X
// works for Y" -> "Who works for Y?"), and appositions ("X, the mayor of Atlanta, said ...").
// Nothing is keyed to one corpus: the patterns are English clause structure plus a small table of
// verbs for questions that need "did"/"does" ("Where did X study physics?").
//
// Every answer is an exact span of the text. Questions are built only where the clause parses
// cleanly: a subject of a few words (a name, "the ..." noun phrase, or "he"/"she" when the text so far
// names exactly one person), then an auxiliary or a known verb; anything else yields no fact.

export type FactKind = 'who' | 'where' | 'when' | 'what';
/** The type of an answer, for multiple-choice distractors of the same type. */
export type AnswerType = 'person' | 'place' | 'time' | 'thing';

export type Fact = {
  kind: FactKind;
  /** Well-formed wordings of the question; a rule picks one. */
  questions: string[];
  /** An exact span of the text. */
  answer: string;
  type: AnswerType;
  /** Sentences the fact rests on (the sentence, and the one naming the person a pronoun refers to). */
  evidence: string[];
  /** The sentence asked about (a text gets at most one question per sentence). */
  focus: number[];
};

export type FactSentence = { index: number; text: string; paragraph: number; usable: boolean };

export type TextFacts = {
  facts: Fact[];
  /** Spans of each type found in the text (answers of facts and other names, places and dates), in order. */
  pools: Record<AnswerType, string[]>;
};

const MONTHS = 'January|February|March|April|May|June|July|August|September|October|November|December';
const WEEKDAYS = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const NAME_WORD = "[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*";
const TITLE = '(?:Mr|Mrs|Ms|Dr|Prof|Sen|Gov|Rep|Gen|Col|Capt|Lt|Sgt|Rev|Judge|Mayor|President|Senator|Governor)\\.?';
/** A person's name: optional title, then capitalised words or initials (at most four after the title). */
const NAME = `(?:${TITLE} )?${NAME_WORD}(?: (?:${NAME_WORD}|[A-Z]\\.)){0,3}`;
/** A proper name of a place or organisation: capitalised words, possibly joined by of/for/and/de/&. */
const PROPER = `${NAME_WORD}(?:(?: (?:of|for|and|de|del|da|du|la|van|von|&))? (?:${NAME_WORD}|[A-Z]{2,})){0,5}`;
/** A date or year: "March 3, 1975", "3 March 1975", "March 1975", "1975". */
const TIME = `(?:(?:${MONTHS}) \\d{1,2}(?:st|nd|rd|th)?, \\d{4}|\\d{1,2} (?:${MONTHS}) \\d{4}|(?:${MONTHS}) \\d{4}|(?:1[0-9]|20)\\d{2}(?![\\d,.]\\d))`;

const AUX = 'is|was|are|were|will|would|has|had|have|can|could|may|might|should|must';
const DETERMINERS = new Set([
  'the',
  'a',
  'an',
  'his',
  'her',
  'its',
  'their',
  'this',
  'that',
  'these',
  'those',
  'our',
  'my',
  'your',
]);

/** Words that start sentences in capitals without being names. */
const NOT_NAMES = new Set(
  (
    'a an the this that these those there here then now later soon today yesterday tomorrow meanwhile finally however ' +
    'nobody everybody everyone someone somebody anyone anybody nothing everything something each every both all some most many several few ' +
    'he she it they we i you his her its their our my your mr mrs ms dr in on at for from with by after before during since when while if ' +
    'but and or so yet as because although though once what which who whom whose where why how one two three four five six seven eight nine ten ' +
    'still only just even soon perhaps indeed thus instead besides others also another ' +
    'god english french german spanish italian latin russian chinese japanese greek american british european congress church state ' +
    `${MONTHS.toLowerCase().replace(/\|/g, ' ')} ${WEEKDAYS.toLowerCase().replace(/\|/g, ' ')}`
  ).split(/\s+/),
);

/**
 * Verbs that take "did"/"does" in a question, with their base form. A past form ends in "ed" or is
 * irregular; a present form is the third person singular. Only these make questions without an auxiliary.
 */
const VERB_BASES: Record<string, string> = {};
for (const spec of [
  'join joined joins',
  'move moved moves',
  'found founded founds',
  'marry married marries',
  'graduate graduated graduates',
  'study studied studies',
  'work worked works',
  'live lived lives',
  'die died dies',
  'win won wins',
  'write wrote writes',
  'become became becomes',
  'leave left leaves',
  'arrive arrived arrives',
  'return returned returns',
  'start started starts',
  'begin began begins',
  'open opened opens',
  'build built builds',
  'retire retired retires',
  'receive received receives',
  'publish published publishes',
  'meet met meets',
  'visit visited visits',
  'serve served serves',
  'teach taught teaches',
  'play played plays',
  'sign signed signs',
  'buy bought buys',
  'sell sold sells',
  'settle settled settles',
  'enter entered enters',
  'complete completed completes',
  'earn earned earns',
  'attend attended attends',
  'spend spent spends',
  'stay stayed stays',
  'lead led leads',
  'hold held holds',
  'speak spoke speaks',
  'appear appeared appears',
  'perform performed performs',
  'travel traveled travels',
  'travel travelled travels',
  'train trained trains',
  'grow grew grows',
  'major majored majors',
  'research researched researches',
  'practise practised practises',
  'practice practiced practices',
  'preach preached preaches',
  'run ran runs',
  'meet met meets',
  'fight fought fights',
  'serve served serves',
  'establish established establishes',
  'launch launched launches',
  'head headed heads',
  'manage managed manages',
  'own owned owns',
  'run ran runs',
  'stop stopped stops',
  'land landed lands',
  'fall fell falls',
  'take took takes',
  'make made makes',
  'see saw sees',
  'find found finds',
  'go went goes',
  'come came comes',
  'sit sat sits',
  'stand stood stands',
  'rise rose rises',
  'occur occurred occurs',
  'happen happened happens',
  'focus focused focuses',
  'specialize specialized specializes',
  'enjoy enjoyed enjoys',
  'love loved loves',
  'like liked likes',
]) {
  const [base, past, present] = spec.split(' ');
  VERB_BASES[past] ??= base;
  VERB_BASES[present] ??= base;
}
/** Past forms; the others in the table are third-person present forms (all end in "s"). */
const PAST = new Set(Object.keys(VERB_BASES).filter((w) => !w.endsWith('s')));

/** A noun phrase subject ("The new airport", "The committee") up to an auxiliary or a known verb. */
const NP_WORD = `(?:(?!(?:who|whom|whose|which|that|and|or|but|if|when|as|than|not|never|also|then|only)\\b|[a-z]+ly\\b)[a-z]+|${NAME_WORD})`;
const NP_AT_START = new RegExp(
  `^((?:The|A|An|His|Her|Its|Their|This|That|Our) ${NP_WORD}(?: ${NP_WORD}){0,3}?) (?=(?:${AUX}|${Object.keys(VERB_BASES).join('|')})\\b)`,
);

/** Verbs whose subject is a person (or a group of people): "who" questions ask about their subject. */
const HUMAN_VERBS = new Set(
  (
    'said says told tells asked asks added adds announced announces declared declares explained explains wrote writes married marries ' +
    'joined joins founded founds studied studies graduated graduates works worked lives lived died won became served attended attends ' +
    'moved retired led taught teaches received earned visited visits majored majors trained trains practised practiced preached argued argues ' +
    'insisted insists urged urges warned warns admitted admits promised promises denied denies recalled recalls testified'
  ).split(/\s+/),
);

/** Verbs of a biography that say less about the subject being a person ("enjoys", "comes from"): enough for a two-word name, not for a lone capitalised word. */
const PERSONAL_VERBS = new Set(
  'employed focused focuses specialized specializes enjoys enjoyed loves loved likes liked spends spent'.split(' '),
);
const PERSONAL_PREDICATE = /^(?:comes|came) from\b|^(?:grew|grows) up\b/;

const PERSON_PREDICATE =
  /^(?:was|were) born\b|^(?:works|worked|lives|lived|studied|studies|graduated|majored|married|attended|retired|died)\b|^(?:has|had) (?:a|an) job\b|^(?:is|was) (?:a|the) (?:child|son|daughter)\b/;

type Subject = {
  /** The subject as written in the sentence. */
  text: string;
  /** How a question names it: a name as is, "the ..." in lower case, a pronoun replaced by the name. */
  inQuestion: string;
  /** The answer to a "who" question: the name (for a pronoun, the name it refers to). */
  name?: string;
  /** Known to be a name or noun phrase (not a capitalised common word such as "Letters"). */
  confirmed: boolean;
  /** The sentence that names the person a pronoun refers to. */
  referent?: number;
  /** Whatever follows the subject (and an apposition after it), from its first word. */
  rest: string;
  apposition?: string;
  /** "Her hometown": the subject is something of the person a pronoun refers to. */
  possessive?: boolean;
};

function wordCount(s: string): number {
  return s.trim() === '' ? 0 : s.trim().split(/\s+/).length;
}

function lowerFirst(s: string): string {
  const first = s.split(' ')[0];
  return DETERMINERS.has(first.toLowerCase()) ? first.toLowerCase() + s.slice(first.length) : s;
}

/** The words a text writes in lower case, and those it capitalises inside a sentence (after a lower-case word or a comma). */
type TextWords = { lower: Set<string>; midCapital: Set<string> };

function textWords(text: string): TextWords {
  const lower = new Set<string>();
  const midCapital = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z]+/g)) {
    if (/^[a-z]/.test(m[0])) lower.add(m[0]);
    else if (/[a-z,] $/.test(text.slice(Math.max(0, m.index! - 2), m.index!))) midCapital.add(m[0]);
  }
  return { lower, midCapital };
}

/**
 * Whether capitalised words at the start of a sentence are a name: no function word or sentence
 * adverb ("Regretfully", "Having"), and a single word never written in lower case in the text.
 * `confirmed`: several words, a title, or the word also capitalised inside a sentence of the text.
 */
function nameLike(name: string, words_: TextWords): { name: boolean; confirmed: boolean } {
  const titled = new RegExp(`^${TITLE} `).test(name);
  const words = name.replace(new RegExp(`^${TITLE} `), '').split(' ');
  const no = { name: false, confirmed: false };
  if (NOT_NAMES.has(words[0].toLowerCase()) || (words[0].length >= 6 && /(ly|ing|ed)$/.test(words[0]))) return no;
  if (words.length > 1)
    return words.some((w) => NOT_NAMES.has(w.toLowerCase()) && !/^[A-Z]\.$/.test(w))
      ? no
      : { name: true, confirmed: true };
  if (words_.lower.has(words[0].toLowerCase())) return no;
  return { name: true, confirmed: titled || words_.midCapital.has(words[0]) };
}

const NAME_AT_START = new RegExp(`^(${NAME})(?=[ ,])`);
const NAME_POSSESSIVE = new RegExp(
  `^(${NAME})['’]s ((?:[a-z]+ ){0,2}[a-z]+(?<!ing)) (?=(?:${AUX}|${Object.keys(VERB_BASES).join('|')})\\b)`,
);
/** What "X's ..." names when X is a person: a sentence about it makes X the person "he"/"she" refers to. */
const PERSONAL =
  /^(hometown|birthday|birthplace|birth year|employer|favorite \w+|favourite \w+|job|degree|major|hobby|wife|husband|father|mother|son|daughter|career|family|home|name|age)$/;

const APPOSITION =
  /^, ((?:the |a |an )?(?!(?:in|on|at|of|for|to|by|with|from|after|before|during|since|however|too|also|who|which|that|then|now|he|she|it|they|as|like)\b|[a-z]+ing\b)[a-z][a-z-]*(?: [a-z][a-z-]*){0,3}(?: (?:of|at|for) (?:the )?[A-Z][A-Za-z]*(?: (?:of |for |and )?[A-Z][A-Za-z]*){0,4})?), /;

function subjectOf(
  sentence: string,
  words: TextWords,
  person: { name: string; sentence: number } | undefined,
): Subject | undefined {
  const pronoun = /^(He|She) (?=[a-z])/.exec(sentence);
  if (pronoun) {
    if (!person) return undefined;
    return {
      text: pronoun[1],
      inQuestion: person.name,
      name: person.name,
      confirmed: true,
      referent: person.sentence,
      rest: sentence.slice(pronoun[0].length),
    };
  }
  const np = NP_AT_START.exec(sentence);
  if (np) {
    // "Her birthday ...": "Gina Watson's birthday" when the text names one person; "its", "their": whose is unclear
    const owner = /^(His|Her|Its|Their) /.exec(np[1]);
    if (owner && (owner[1] === 'Its' || owner[1] === 'Their' || !person)) return undefined;
    const inQuestion = owner ? `${person!.name}'s ${np[1].slice(owner[0].length)}` : lowerFirst(np[1]);
    return {
      text: np[1],
      inQuestion,
      confirmed: true,
      rest: sentence.slice(np[0].length),
      ...(owner ? { referent: person!.sentence, possessive: true } : {}),
    };
  }
  // "Gina Watson's hometown is Portland."
  const owned = NAME_POSSESSIVE.exec(sentence);
  if (owned && nameLike(owned[1], words).confirmed) {
    return {
      text: `${owned[1]}'s ${owned[2]}`,
      inQuestion: `${owned[1]}'s ${owned[2]}`,
      name: owned[1],
      confirmed: true,
      possessive: true,
      rest: sentence.slice(owned[0].length),
    };
  }
  const m = NAME_AT_START.exec(sentence);
  const looks = m ? nameLike(m[1], words) : undefined;
  if (!m || !looks?.name) return undefined;
  let rest = sentence.slice(m[1].length);
  const app = APPOSITION.exec(rest);
  const apposition = app?.[1];
  if (app) rest = rest.slice(app[0].length);
  else if (!rest.startsWith(' ')) return undefined;
  else rest = rest.slice(1);
  return {
    text: m[1],
    inQuestion: m[1],
    name: m[1],
    confirmed: looks.confirmed,
    rest,
    ...(apposition ? { apposition } : {}),
  };
}

/** Where a predicate stops being about one fact: a clause break or the end of the sentence. */
function clauseEnd(s: string): number {
  // a comma inside a date ("June 3, 1982") or before a phrase that goes on with the fact (", in Turin") is no break
  const re =
    /[;:]|\s--?\s|, (?!\d{4}\b|(?:in|on|at) [A-Z0-9])|\s\(|["“”]|\s(?:and|but|or) (?=(?:he|she|they|his|her|their|I|we|you)\b)/g;
  const m = re.exec(s);
  return m ? m.index : s.length;
}

function endsSentence(s: string): string {
  return s.replace(/[\s.!?]+$/, '');
}

type Phrase = { prep: string; object: string; type: 'place' | 'time'; /** Offset of the preposition. */ at: number };

const PP = new RegExp(`\\b(in|at|on|since|from|for|to|by) (?:the (?:year )?)?(${TIME}|${PROPER})(?=$|[ ,.;:!?])`, 'g');
const TIME_ONLY = new RegExp(`^${TIME}$`);
const NOT_PLACES = new RegExp(
  `^(?:${MONTHS}|${WEEKDAYS}|God|Christ|English|French|German|Spanish|Italian|Latin|Russian|Greek|Chinese|Japanese|Mr|Mrs|Dr|[A-Z][a-z]+(?:ian|ese|ish|ican))\\b`,
);

/** A lower-case word after a name that is not a function word: the name qualifies that noun. */
const QUALIFIES =
  /^ (?!(?:on|in|at|of|for|to|by|with|from|and|or|but|where|when|since|during|after|before|until|as|that|which|who|is|was|were|are|has|had|have|will|would|last|next|this|every)\b)[a-z]/;

/** Prepositional phrases with a time or a proper name, in a predicate. */
function phrases(predicate: string): Phrase[] {
  const out: Phrase[] = [];
  for (const m of predicate.matchAll(PP)) {
    const object = m[2];
    const isTime = TIME_ONLY.test(object);
    // "in American homes", "the Atlanta precincts", "at the Captain's": a name that qualifies a noun is not the place
    const next = predicate.slice(m.index! + m[0].length);
    if (!isTime && (NOT_PLACES.test(object) || /['’]s$/.test(object) || /^['’]s\b/.test(next) || QUALIFIES.test(next)))
      continue;
    if (isTime && !['in', 'on', 'since'].includes(m[1])) continue;
    out.push({ prep: m[1], object, type: isTime ? 'time' : 'place', at: m.index! });
  }
  return out;
}

/** The verb group of a predicate: an auxiliary ("was born", "will open", "has served"), or a known verb. */
type Verb = { aux: string; base: string; after: string };

function verbGroup(predicate: string): Verb | undefined {
  // "has a job at Google" is the verb "have", asked with "does": "Where does Anna Kowalski have a job?"
  const have = /^(has|have|had) (?=(?:a|an|the|no|his|her|their|its|some|two|three|many)\b)/.exec(predicate);
  if (have)
    return {
      aux: { has: 'does', have: 'do', had: 'did' }[have[1]]!,
      base: 'have',
      after: predicate.slice(have[1].length),
    };
  const aux = new RegExp(`^(${AUX}) (?!not\\b)`).exec(predicate);
  if (aux) return { aux: aux[1], base: '', after: predicate.slice(aux[0].length) };
  const word = /^[a-z]+/.exec(predicate)?.[0];
  if (!word || !(word in VERB_BASES)) return undefined;
  return { aux: PAST.has(word) ? 'did' : 'does', base: VERB_BASES[word], after: predicate.slice(word.length) };
}

/** A wh-word and the clause inverted: "Where was Anna Kowalski born?", "When did the company open a plant?". */
/**
 * Words that, inside the verb phrase, mean the phrase that follows need not belong to the verb
 * ("the consequence of this is that ...", "sensitive on the subject of ..."; "the city of Atlanta" is
 * fine), or that a negation or a clause would be carried into the question.
 */
/** Verbs that, with "did"/"does", need an object in the question (and whose past form is also a participle). */
const WANTS_OBJECT = new Set(
  'make build hold find sell buy take see publish establish launch sign complete receive earn own manage found'.split(
    ' ',
  ),
);

const LOOSE_VP =
  /\b(that|which|who|whom|whose|if|whether|because|than|not|never|and|or|but)\b|\bof\b(?! (the )?[A-Z])|n't\b/;

/**
 * A wh-word and the clause inverted: "Where was Anna Kowalski born?", "When did the committee meet?".
 * `maxWords`: the longest verb phrase kept; a phrase at the end of a long one is often not about the verb.
 */
function whQuestion(
  wh: string,
  subject: Subject,
  verb: Verb,
  upTo: number,
  tail = '',
  maxWords = 6,
): string | undefined {
  const vp = `${verb.base} ${verb.after.slice(0, upTo)}`.trim().replace(/\s+/g, ' ');
  // "A replica made in England": "made" may be a participle, and "Where did a replica make?" is not the fact
  if ((verb.aux === 'did' || verb.aux === 'does') && vp === verb.base && WANTS_OBJECT.has(verb.base)) return undefined;
  if (vp === '' || wordCount(vp) > maxWords || /[,;:"“”()—–]|--/.test(vp) || LOOSE_VP.test(vp)) return undefined;
  return `${wh} ${verb.aux} ${subject.inQuestion} ${vp}${tail}?`;
}

function timeWordings(prep: string, object: string): string[] {
  const isYear = /^\d{4}$/.test(object);
  if (prep === 'in') return isYear ? ['When', 'In what year'] : ['When'];
  if (prep === 'on') return ['When', 'On what date'];
  return isYear ? ['Since when', 'Since what year'] : ['Since when'];
}

/** How a place phrase is asked about, by preposition and verb (and the words between); undefined: not asked. */
function placeWording(prep: string, verbBase: string, between: string): { wh: string; tail: string } | undefined {
  if (prep === 'in' || prep === 'at') return { wh: 'Where', tail: '' };
  if (prep === 'by' && between === 'employed') return { wh: 'Where', tail: '' };
  if (prep === 'from' && ['graduate', 'return', 'come', 'move', 'arrive'].includes(verbBase))
    return { wh: 'Where', tail: ' from' };
  if (prep === 'to' && ['move', 'travel', 'return', 'go', 'come'].includes(verbBase))
    return { wh: 'Where', tail: ' to' };
  if (prep === 'for' && verbBase === 'work') return { wh: 'Which organization', tail: ' for' };
  return undefined;
}

/** The predicate up to its first clause break, without the final full stop. */
function predicateOf(subject: Subject): string {
  const full = endsSentence(subject.rest);
  return full.slice(0, clauseEnd(full));
}

function isHuman(subject: Subject, predicate: string): boolean {
  const verb = new RegExp(`^(?:(?:${AUX}) )?([a-z]+)`).exec(predicate)?.[1] ?? '';
  if (subject.name === undefined) return false;
  if (HUMAN_VERBS.has(verb) || PERSON_PREDICATE.test(predicate)) return true;
  return subject.confirmed && (PERSONAL_VERBS.has(verb) || PERSONAL_PREDICATE.test(predicate));
}

type Draft = { kind: FactKind; questions: Array<string | undefined>; answer: string; type: AnswerType };

function draftsOfSentence(subject: Subject, fronted: { prep: string; object: string } | undefined): Draft[] {
  const out: Draft[] = [];
  const predicate = predicateOf(subject);
  const add = (kind: FactKind, questions: Array<string | undefined>, answer: string, type: AnswerType) =>
    out.push({ kind, questions, answer, type });

  // who: the subject, asked with the predicate ("Who was born in Lisbon in 1975?")
  // asked only when the predicate is whole: up to the sentence end or a new clause, not cut inside one
  const whole = /^($|,? (and|but|or|while|who|which|where)\b|[;:]|\s--?\s)/.test(
    endsSentence(subject.rest).slice(predicate.length),
  );
  // nor end on a verb that wants its object ("... and demanded: ...")
  const last = /[A-Za-z]+$/.exec(predicate)?.[0] ?? '';
  // and "said Mrs. Huntley" is a cut, not what was said
  const speech = /^(said|says|told|tells|asked|asks|added|adds)\b/.test(predicate) && wordCount(predicate) < 4;
  const dangling = HUMAN_VERBS.has(last) || /ed$/.test(last) || speech;
  if (whole && !dangling && isHuman(subject, predicate) && wordCount(predicate) >= 3 && wordCount(predicate) <= 16) {
    add('who', [`Who ${predicate}?`, `According to the text, who ${predicate}?`], subject.name!, 'person');
  }
  // who and what: an apposition with "of/at/for" ("X, the mayor of Atlanta, ...")
  if (subject.apposition && subject.name && / (of|at|for) /.test(subject.apposition)) {
    // "a member of X" stays indefinite: "the member" would claim there is only one
    const withArticle = /^(the|a|an) /.test(subject.apposition) ? subject.apposition : `the ${subject.apposition}`;
    add('who', [`Who is ${withArticle}?`, `According to the text, who is ${withArticle}?`], subject.name, 'person');
    add(
      'what',
      [`What is ${subject.inQuestion}, according to the text?`, `What role does the text give ${subject.inQuestion}?`],
      subject.apposition,
      'thing',
    );
  }
  // what: something of a person's ("Her hometown is Portland." -> "What is Gina Watson's hometown?")
  // ("His degree is in music." -> "What is Brian Hall's degree in?")
  const value = new RegExp(`^(is|was) (in |on |from )?(${TIME}|${PROPER}|[a-z]+(?: [a-z]+){0,2})$`).exec(predicate);
  // a lower-case value only for a person's attribute ("hiking"), not "Vermont's main line was prostrate"
  const ownedNoun = subject.inQuestion.replace(/^.*['’]s /, '');
  const valueOk = /^[A-Z0-9]/.test(value?.[3] ?? '') || PERSONAL.test(ownedNoun);
  if (
    subject.possessive &&
    value &&
    valueOk &&
    !/^(a|an|the|in|on|at|of|by|for|to|not|very|also|so|too|still|now|then|always|never|often|usually|quite|rather|much|more|most|less)\b/.test(
      value[3],
    ) &&
    !/ly$/.test(value[3])
  ) {
    const type: AnswerType = TIME_ONLY.test(value[3]) ? 'time' : /^[A-Z]/.test(value[3]) ? 'place' : 'thing';
    const tail = value[2] ? ` ${value[2].trim()}` : '';
    add(
      'what',
      [
        `What ${value[1]} ${subject.inQuestion}${tail}?`,
        `According to the text, what ${value[1]} ${subject.inQuestion}${tail}?`,
      ],
      value[3],
      type,
    );
  }

  const verb = verbGroup(predicate);
  // a lone capitalised word ("Letters came from Nerien") is trusted as a name only in a sentence about a person
  if (!verb || (!subject.confirmed && !isHuman(subject, predicate))) return out;

  // what: a copula with a role ("is a software engineer at Acme", "was the mayor of Atlanta")
  const copula =
    /^(is|was) ((?:a|an|the) [a-z][a-z-]*(?: [a-z][a-z-]*){0,2}?)(?= (?:of|at|for|in) (?:the )?[A-Z]|$)/.exec(
      predicate,
    );
  // a role ends in a noun: "the captured", "a delinquent boy still" are not one
  if (
    copula &&
    subject.name &&
    !/(ed|ly)$/.test(copula[2]) &&
    !/ (still|too|also|again|then|now|there|here|once|already|yet|ever|indeed)$/.test(copula[2])
  ) {
    // "the director" says little without "of the Ames Laboratory": a definite role keeps its "of" phrase
    const ofWhat = new RegExp(
      `^(?:is|was) (the [a-z][a-z-]*(?: [a-z][a-z-]*){0,2}? (?:of|at|for) (?:the )?${PROPER})$`,
    ).exec(predicate);
    const role = ofWhat && / of /.test(ofWhat[1]) ? ofWhat[1] : copula[2];
    add(
      'what',
      [
        `What ${copula[1]} ${subject.inQuestion}, according to the text?`,
        `According to the text, what ${copula[1]} ${subject.inQuestion}?`,
      ],
      role,
      'thing',
    );
    if (ofWhat)
      add(
        'who',
        [`Who ${copula[1]} ${ofWhat[1]}?`, `According to the text, who ${copula[1]} ${ofWhat[1]}?`],
        subject.name,
        'person',
      );
  }

  // what: what someone studied or works as ("studied physics at X", "majored in economics", "works as a nurse")
  const study =
    /^(studied|studies|majored in|majors in|works as|worked as|focused on|focuses on|specialized in|specializes in) ((?:a |an )?[A-Za-z]+(?: [a-z]+){0,2}?)(?= at | in | for |$)/.exec(
      predicate,
    );
  if (study && subject.name) {
    const [verbWord, prep] = study[1].split(' ');
    const field = study[2];
    if (!/^(a|an) /.test(field) || prep === 'as') {
      const aux = PAST.has(verbWord) ? 'did' : 'does';
      const head = `${aux} ${subject.inQuestion} ${VERB_BASES[verbWord]}${prep ? ` ${prep}` : ''}`;
      add('what', [`What ${head}?`, `According to the text, what ${head}?`], field, 'thing');
    }
  }

  // what: what someone enjoys, loves or likes ("enjoys hiking"), a short object that ends the sentence
  const likes =
    /^(enjoys|enjoyed|loves|loved|likes|liked) ((?!(?:him|her|them|it|me|us|you|his|their|its|to|that|this|being)\b)[a-z]+(?: [a-z]+){0,2})$/.exec(
      predicate,
    );
  if (likes && subject.name) {
    const head = `${PAST.has(likes[1]) ? 'did' : 'does'} ${subject.inQuestion} ${VERB_BASES[likes[1]]}`;
    add('what', [`What ${head}?`, `According to the text, what ${head}?`], likes[2], 'thing');
  }

  // what: what someone spends time on ("spends weekends on sailing" -> "What does X spend weekends on?")
  const spends = /^(spends|spent) ((?:his |her |their )?[a-z]+) on ([a-z]+(?: [a-z]+)?)$/.exec(predicate);
  if (spends && subject.name && !/^(it|them|him|her|that|this)$/.test(spends[3])) {
    const time = spends[2].replace(/^(his|her|their) /, '');
    const head = `${spends[1] === 'spent' ? 'did' : 'does'} ${subject.inQuestion} spend ${time} on`;
    add('what', [`What ${head}?`, `According to the text, what ${head}?`], spends[3], 'thing');
  }

  // where: the institution someone attended ("attended Emory")
  const attended = new RegExp(`^(attended|attends) (?:the )?(${PROPER})$`).exec(predicate);
  if (attended && !NOT_PLACES.test(attended[2]) && !TIME_ONLY.test(attended[2])) {
    const head = `${attended[1] === 'attended' ? 'did' : 'does'} ${subject.inQuestion} attend`;
    add(
      'where',
      [`Which institution ${head}?`, `According to the text, which institution ${head}?`],
      attended[2],
      'place',
    );
  }

  // where: the organisation someone joined ("joined Acme in 2001")
  const joined = new RegExp(`^(joined|joins) (?:the )?(${PROPER})(?=$|[ ,])`).exec(predicate);
  if (joined && ORGANIZATION.test(joined[2])) {
    const aux = joined[1] === 'joined' ? 'did' : 'does';
    add(
      'where',
      [
        `Which organization ${aux} ${subject.inQuestion} join?`,
        `According to the text, which organization ${aux} ${subject.inQuestion} join?`,
      ],
      joined[2],
      'place',
    );
  }

  // where and when: a place or a time in a prepositional phrase of the predicate
  for (const p of phrases(verb.after)) {
    if (p.type === 'time') {
      add(
        'when',
        timeWordings(p.prep, p.object).map((wh) => whQuestion(wh, subject, verb, p.at)),
        p.object,
        'time',
      );
    } else {
      const w = placeWording(p.prep, verb.base, verb.after.slice(0, p.at).trim());
      if (w) add('where', [whQuestion(w.wh, subject, verb, p.at, w.tail)], p.object, 'place');
    }
  }

  // a phrase in front of the clause: "In 1958, the company opened a plant." -> "When did the company open a plant?"
  if (fronted) {
    const isTime = TIME_ONLY.test(fronted.object);
    const upTo = verb.after.length;
    if (isTime)
      add(
        'when',
        timeWordings(fronted.prep, fronted.object).map((wh) => whQuestion(wh, subject, verb, upTo, '', 7)),
        fronted.object,
        'time',
      );
    else if (fronted.prep === 'in' && !NOT_PLACES.test(fronted.object))
      add('where', [whQuestion('Where', subject, verb, upTo, '', 7)], fronted.object, 'place');
  }
  return out;
}

/** A name of an organisation, by its head word: one can join it. */
const ORGANIZATION =
  /\b(University|College|Institute|School|Academy|Company|Corporation|Corp|Inc|Bank|Group|Army|Navy|Air Force|Corps|Club|Party|Church|Society|Association|Union|League|Department|Ministry|Council|Committee|Commission|Board|Agency|Bureau|Laboratory|Laboratories|Hospital|Foundation|Museum|Orchestra|Company|Team|Firm|Press|Times|Post)\b/;

/** A sentence that opens with a time or place phrase: "In 1958, the company opened a plant." */
const FRONTED = new RegExp(`^(In|On|Since) (${TIME}|${PROPER}), (?=[A-Za-z])`);

/** The facts of a text, sentence by sentence, with pools of same-type spans for distractors. */
export function extractFacts(sentences: readonly FactSentence[], text: string): TextFacts {
  const facts: Fact[] = [];
  const pools: Record<AnswerType, string[]> = { person: [], place: [], time: [], thing: [] };
  const addPool = (type: AnswerType, span: string) => {
    if (!pools[type].includes(span)) pools[type].push(span);
  };
  /** People named as the subject of a sentence about a person, and the sentence that first names each. */
  const people = new Map<string, number>();
  const words = textWords(text);
  const byIndex = new Map(sentences.map((x) => [x.index, x]));
  for (const s of sentences) {
    if (!s.usable) continue;
    let body = s.text;
    let fronted: { prep: string; object: string } | undefined;
    const f = FRONTED.exec(body);
    if (f && /^[A-Z]/.test(body.charAt(f[0].length))) {
      fronted = { prep: f[1].toLowerCase(), object: f[2] };
      body = body.slice(f[0].length);
    }
    // "he"/"she" only when the text so far names exactly one person
    const only = people.size === 1 ? [...people.entries()][0] : undefined;
    const subject = subjectOf(body, words, only ? { name: only[0], sentence: only[1] } : undefined);
    if (!subject) continue;
    // a pronoun's referent is evidence too: the answer "Anna Kowalski" rests on the sentence naming her
    const evidence = subject.referent !== undefined ? [byIndex.get(subject.referent)!, s] : [s];
    for (const d of draftsOfSentence(subject, fronted)) {
      const questions = d.questions.filter(
        (q): q is string => q !== undefined && !q.toLowerCase().includes(d.answer.toLowerCase()) && wordCount(q) <= 24,
      );
      if (questions.length === 0 || d.answer === '' || d.answer.trim() !== d.answer) continue;
      // the focus is the sentence asked about; the referent's sentence stays free for its own questions
      facts.push({
        kind: d.kind,
        questions,
        answer: d.answer,
        type: d.type,
        evidence: evidence.map((x) => x.text),
        focus: [s.index],
      });
      addPool(d.type, d.answer);
    }
    const personal =
      subject.possessive &&
      subject.referent === undefined &&
      PERSONAL.test(subject.inQuestion.slice(subject.name!.length + 3));
    if (
      subject.name &&
      subject.referent === undefined &&
      (personal || (!subject.possessive && isHuman(subject, predicateOf(subject))))
    ) {
      if (!people.has(subject.name)) people.set(subject.name, s.index);
      addPool('person', subject.name);
    }
  }
  // the other times and place names of the text, as distractors
  for (const s of sentences) {
    for (const m of s.text.matchAll(new RegExp(TIME, 'g'))) addPool('time', m[0]);
    for (const p of phrases(s.text))
      if (p.type === 'place' && ['in', 'at', 'from', 'to'].includes(p.prep)) addPool('place', p.object);
  }
  return { facts, pools };
}
