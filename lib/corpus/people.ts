// A seeded corpus of synthetic people for the controlled experiment (lib/ablation/controlled.ts): each
// person has a name and one value per attribute (birth city, birth year, university, major, employer,
// ...) drawn from small vocabularies, and one biography that states every attribute exactly once, in
// sentences drawn from several templates per attribute, in a seeded order. Each attribute also has
// question wordings, split into wordings that pre-training may use and wordings held out for testing.
//
// Because the generator knows every fact, a model's answers about people it never saw can be scored
// exactly, and what pre-training contained can be checked (no held-out wording, no question about a
// held-out attribute). The design follows the synthetic biographies of Allen-Zhu & Li (2023), "Physics
// of Language Models, Part 3.1"; the vocabularies, templates and wordings are the kit's own.

import { createRng, deriveSeed, pick, shuffleInPlace } from '../repro/rng.js';
import type { Pair } from '../synth/format.js';

export type Gender = 'female' | 'male';

export type Attribute = {
  name: string;
  /** What the attribute is, in words (reports, notebooks). */
  description: string;
  /** The values a person can have: disjoint from every other attribute's, none a substring of another. */
  values: readonly string[];
  /** Biography sentences: {S} the subject (the full name in the first sentence, else the pronoun), {P} his/her, {V} the value. */
  sentences: readonly string[];
  /** Question wordings with {name}; the last `heldOutWordings` of them are held out from pre-training. */
  questions: readonly string[];
};

export const ATTRIBUTES: readonly Attribute[] = [
  {
    name: 'birthYear',
    description: 'the year the person was born',
    values: ['1961', '1963', '1965', '1967', '1969', '1971', '1973', '1975', '1977', '1979', '1981', '1983'],
    sentences: [
      '{S} came into the world in {V}.',
      '{S} arrived in the world in {V}.',
      '{S} was born in the spring of {V}.',
    ],
    questions: [
      'In which year was {name} born?',
      'What is the birth year of {name}?',
      'What year was {name} born in?',
      'When was {name} born?',
      '{name} was born in which year?',
      'Give the year of birth of {name}.',
    ],
  },
  {
    name: 'birthCity',
    description: 'the city where the person was born',
    values: [
      'Boston',
      'Chicago',
      'Denver',
      'Seattle',
      'Portland',
      'Austin',
      'Phoenix',
      'Atlanta',
      'Dallas',
      'Miami',
      'Detroit',
      'Memphis',
    ],
    sentences: ['{S} was born in {V}.', '{S} grew up in {V}.', '{S} was raised in {V}.', '{S} comes from {V}.'],
    questions: [
      'Where was {name} born?',
      'In which city did {name} grow up?',
      'What is the hometown of {name}?',
      'Which city does {name} come from?',
      '{name} was born in which city?',
      'Name the birthplace of {name}.',
    ],
  },
  {
    name: 'university',
    description: 'the university the person attended',
    values: [
      'Harvard',
      'Stanford',
      'Yale',
      'Princeton',
      'Cornell',
      'Duke',
      'Columbia',
      'Purdue',
      'Tufts',
      'Emory',
      'Rutgers',
      'Vanderbilt',
    ],
    sentences: [
      '{S} studied at {V}.',
      '{S} graduated from {V}.',
      '{S} went to college at {V}.',
      '{S} earned a degree at {V}.',
    ],
    questions: [
      'Which university did {name} attend?',
      'Where did {name} go to college?',
      'At which university did {name} study?',
      'What school did {name} graduate from?',
      '{name} attended which university?',
      'Name the college of {name}.',
    ],
  },
  {
    name: 'major',
    description: 'the subject the person studied',
    values: [
      'physics',
      'chemistry',
      'biology',
      'history',
      'economics',
      'music',
      'law',
      'medicine',
      'philosophy',
      'geology',
      'sociology',
      'architecture',
    ],
    sentences: ['{S} majored in {V}.', '{S} studied {V}.', '{S} earned a degree in {V}.'],
    questions: [
      'What did {name} major in?',
      'What did {name} study?',
      'What is the field of study of {name}?',
      'Which subject did {name} major in?',
      '{name} studied which subject?',
      'Name the major of {name}.',
    ],
  },
  {
    name: 'employer',
    description: 'the company the person works for',
    values: [
      'Google',
      'Microsoft',
      'Intel',
      'Boeing',
      'Pfizer',
      'Nike',
      'Oracle',
      'Honda',
      'Visa',
      'Target',
      'Disney',
      'Adobe',
    ],
    sentences: ['{S} works for {V}.', '{S} works at {V}.', '{S} has a job at {V}.', '{S} is employed at {V}.'],
    questions: [
      'Which company does {name} work for?',
      'Where does {name} work?',
      'Who employs {name}?',
      'What is the employer of {name}?',
      '{name} works for which company?',
      'Name the company that employs {name}.',
    ],
  },
  {
    name: 'hobby',
    description: 'what the person does in their free time',
    values: [
      'chess',
      'tennis',
      'golf',
      'painting',
      'fishing',
      'cooking',
      'hiking',
      'sailing',
      'dancing',
      'knitting',
      'cycling',
      'gardening',
    ],
    sentences: ['{S} enjoys {V}.', '{S} loves {V}.', '{P} favorite pastime is {V}.', '{S} spends weekends on {V}.'],
    questions: [
      'What does {name} enjoy?',
      'What is the favorite pastime of {name}?',
      'Which hobby does {name} love?',
      'What does {name} do on weekends?',
      '{name} enjoys which hobby?',
      'Name the hobby of {name}.',
    ],
  },
];

const FIRST_NAMES: ReadonlyArray<readonly [string, Gender]> = [
  ['Anna', 'female'],
  ['Ben', 'male'],
  ['Clara', 'female'],
  ['David', 'male'],
  ['Elena', 'female'],
  ['Frank', 'male'],
  ['Grace', 'female'],
  ['Henry', 'male'],
  ['Irene', 'female'],
  ['James', 'male'],
  ['Karen', 'female'],
  ['Leo', 'male'],
  ['Maria', 'female'],
  ['Nathan', 'male'],
  ['Olivia', 'female'],
  ['Paul', 'male'],
  ['Rachel', 'female'],
  ['Samuel', 'male'],
  ['Sophie', 'female'],
  ['Thomas', 'male'],
  ['Ursula', 'female'],
  ['Victor', 'male'],
  ['Wendy', 'female'],
  ['Walter', 'male'],
  ['Alice', 'female'],
  ['Bruno', 'male'],
  ['Diana', 'female'],
  ['Edward', 'male'],
  ['Fiona', 'female'],
  ['George', 'male'],
  ['Helen', 'female'],
  ['Isaac', 'male'],
  ['Julia', 'female'],
  ['Kevin', 'male'],
  ['Laura', 'female'],
  ['Martin', 'male'],
  ['Nora', 'female'],
  ['Oscar', 'male'],
  ['Paula', 'female'],
  ['Robert', 'male'],
  ['Amy', 'female'],
  ['Adam', 'male'],
  ['Beth', 'female'],
  ['Brian', 'male'],
  ['Carol', 'female'],
  ['Carl', 'male'],
  ['Donna', 'female'],
  ['Daniel', 'male'],
  ['Emma', 'female'],
  ['Eric', 'male'],
  ['Flora', 'female'],
  ['Felix', 'male'],
  ['Gina', 'female'],
  ['Gordon', 'male'],
  ['Hannah', 'female'],
  ['Harry', 'male'],
  ['Ivy', 'female'],
  ['Ivan', 'male'],
  ['Jane', 'female'],
  ['Jack', 'male'],
  ['Kate', 'female'],
  ['Keith', 'male'],
  ['Lily', 'female'],
  ['Louis', 'male'],
  ['Megan', 'female'],
  ['Mark', 'male'],
  ['Nina', 'female'],
  ['Neil', 'male'],
  ['Opal', 'female'],
  ['Owen', 'male'],
  ['Petra', 'female'],
  ['Peter', 'male'],
  ['Rosa', 'female'],
  ['Roger', 'male'],
  ['Sarah', 'female'],
  ['Simon', 'male'],
  ['Tina', 'female'],
  ['Tony', 'male'],
  ['Vera', 'female'],
  ['Vincent', 'male'],
  ['Zoe', 'female'],
  ['Alan', 'male'],
  ['Agnes', 'female'],
  ['Boris', 'male'],
  ['Brenda', 'female'],
  ['Colin', 'male'],
  ['Celia', 'female'],
  ['Dennis', 'male'],
  ['Dora', 'female'],
  ['Ethan', 'male'],
  ['Edith', 'female'],
  ['Fred', 'male'],
  ['Freya', 'female'],
  ['Glen', 'male'],
  ['Gloria', 'female'],
  ['Hugo', 'male'],
  ['Hazel', 'female'],
  ['Igor', 'male'],
  ['Iris', 'female'],
  ['Jonas', 'male'],
];
const LAST_NAMES: readonly string[] = [
  'Smith',
  'Miller',
  'Brown',
  'Wilson',
  'Taylor',
  'Clark',
  'Walker',
  'Hall',
  'Young',
  'King',
  'Wright',
  'Scott',
  'Green',
  'Baker',
  'Adams',
  'Nelson',
  'Carter',
  'Mitchell',
  'Turner',
  'Parker',
  'Collins',
  'Stewart',
  'Morris',
  'Murphy',
  'Cook',
  'Rogers',
  'Morgan',
  'Cooper',
  'Peterson',
  'Reed',
  'Bailey',
  'Bell',
  'Kelly',
  'Howard',
  'Ward',
  'Cox',
  'Richardson',
  'Wood',
  'Watson',
  'Brooks',
  'Bennett',
  'Gray',
  'Hughes',
  'Price',
  'Sanders',
  'Myers',
  'Long',
  'Ross',
  'Foster',
  'Powell',
  'Jenkins',
  'Perry',
  'Russell',
  'Sullivan',
  'Fisher',
  'Henderson',
  'Coleman',
  'Simmons',
  'Patterson',
  'Jordan',
  'Reynolds',
  'Hamilton',
  'Graham',
  'Wallace',
  'West',
  'Cole',
  'Hayes',
  'Gibson',
  'Ellis',
  'Stevens',
  'Tucker',
  'Porter',
  'Hunter',
  'Hicks',
  'Crawford',
  'Boyd',
  'Mason',
  'Warren',
  'Dixon',
  'Burns',
  'Barnes',
  'Shaw',
  'Holmes',
  'Rice',
  'Hunt',
  'Black',
  'Daniels',
  'Palmer',
  'Mills',
  'Grant',
  'Knight',
  'Ferguson',
  'Stone',
  'Hawkins',
  'Dunn',
  'Perkins',
  'Hudson',
  'Spencer',
  'Stephens',
  'Olson',
];

/** How many distinct names the generator has (first x last). */
export const NAME_COUNT = FIRST_NAMES.length * LAST_NAMES.length;

export type BiographySentence = { attribute: string; text: string };

export type Person = {
  /** Index in the generated list. */
  id: number;
  name: string;
  gender: Gender;
  /** attribute name -> value */
  values: Record<string, string>;
  /** The biography's sentences in order, one per attribute. */
  sentences: BiographySentence[];
  /** The sentences joined by single spaces. */
  biography: string;
};

export type PeopleOptions = {
  seed: number;
  count: number;
  /** Attributes every biography states (default: all of ATTRIBUTES). */
  attributes?: readonly string[];
  /** Biography sentence templates used per attribute (default: all). */
  sentenceTemplates?: number;
  /** Shuffle the order of the sentences after the first (default true), so position never tells the attribute. */
  shuffleOrder?: boolean;
};

export function attributeByName(name: string): Attribute {
  const a = ATTRIBUTES.find((x) => x.name === name);
  if (!a) throw new Error(`unknown attribute "${name}"; attributes: ${ATTRIBUTES.map((x) => x.name).join(', ')}`);
  return a;
}

/** One biography sentence: the first names the person ({S} the name, {P} "Name's"), later ones use the pronoun. */
function sentence(template: string, first: boolean, name: string, gender: Gender, value: string): string {
  const subject = first ? name : gender === 'female' ? 'She' : 'He';
  const possessive = first ? `${name}'s` : gender === 'female' ? 'Her' : 'His';
  return template.replace('{S}', subject).replace('{P}', possessive).replace('{V}', value);
}

/**
 * `count` people with distinct names (a seeded draw without replacement), values drawn uniformly per
 * attribute, and one biography each. The same options give the same people.
 */
export function generatePeople(options: PeopleOptions): Person[] {
  const attributes = (options.attributes ?? ATTRIBUTES.map((a) => a.name)).map(attributeByName);
  if (attributes.length === 0) throw new Error('generatePeople: name at least one attribute');
  if (!Number.isInteger(options.count) || options.count < 0 || options.count > NAME_COUNT) {
    throw new RangeError(
      `generatePeople: count must be an integer from 0 to ${NAME_COUNT} (distinct names), got ${options.count}`,
    );
  }
  const templates = options.sentenceTemplates ?? Infinity;
  if (!(templates >= 1)) throw new RangeError(`sentenceTemplates must be at least 1, got ${templates}`);
  const rng = createRng(deriveSeed(options.seed, 'people'));
  const names: Array<{ first: string; last: string; gender: Gender }> = [];
  for (const [first, gender] of FIRST_NAMES) for (const last of LAST_NAMES) names.push({ first, last, gender });
  shuffleInPlace(names, rng);
  return names.slice(0, options.count).map((n, id) => {
    const name = `${n.first} ${n.last}`;
    const values: Record<string, string> = {};
    for (const a of attributes) values[a.name] = pick(a.values, rng);
    const order = [...attributes];
    if (options.shuffleOrder !== false) shuffleInPlace(order, rng);
    const sentences = order.map((a, i) => ({
      attribute: a.name,
      text: sentence(
        a.sentences[rng.int(Math.min(templates, a.sentences.length))],
        i === 0,
        name,
        n.gender,
        values[a.name],
      ),
    }));
    return { id, name, gender: n.gender, values, sentences, biography: sentences.map((s) => s.text).join(' ') };
  });
}

export type WordingSet = 'pretrain' | 'heldout';

/** An attribute's question wordings of one set: the last `heldOut` wordings are the held-out set. */
export function questionWordings(attribute: string, set: WordingSet, heldOut: number): string[] {
  const q = attributeByName(attribute).questions;
  if (!Number.isInteger(heldOut) || heldOut < 0 || heldOut >= q.length)
    throw new RangeError(`heldOutWordings must be an integer from 0 to ${q.length - 1}, got ${heldOut}`);
  return set === 'pretrain' ? q.slice(0, q.length - heldOut) : q.slice(q.length - heldOut);
}

/** A wording filled with a person's name. */
export function askAbout(wording: string, person: Pick<Person, 'name'>): string {
  return wording.replace('{name}', person.name);
}

/**
 * The words of a wording around the name ("Where was", "born?"): a text that contains every part of a
 * wording, in order, with a name between, uses that wording. Used to check that held-out wordings never
 * reach pre-training.
 */
export function wordingPattern(wording: string): RegExp {
  const [before, after] = wording.split('{name}');
  const esc = (s: string) => s.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = [before, after].map(esc).filter((s) => s.length > 0);
  return new RegExp(parts.join('\\s+[A-Z][a-z]+ [A-Z][a-z]+\\s*'), 'i');
}

/**
 * Questions about a person in the generator's own words (gold pairs): one per attribute, with a wording
 * of `set` drawn by `seed`. The kit uses them for instruction tuning and the tests, never as the
 * synthesizer's pairs.
 */
export function goldPairs(
  person: Person,
  attributes: readonly string[],
  set: WordingSet,
  heldOut: number,
  seed: number,
): Pair[] {
  const rng = createRng(deriveSeed(seed, 'gold', person.id));
  return attributes.map((a) => ({
    question: askAbout(pick(questionWordings(a, set, heldOut), rng), person),
    answer: person.values[a],
  }));
}

/**
 * The attribute a synthesized answer is about: the one whose value for this person the answer states
 * (after trimming and dropping a final full stop), or undefined when it states none or several.
 */
export function attributeOfAnswer(person: Person, answer: string): string | undefined {
  const a = answer.trim().replace(/\.$/, '').trim().toLowerCase();
  const hits = Object.entries(person.values).filter(([, v]) => {
    const value = v.toLowerCase();
    return (
      a === value || new RegExp(`(^|[^a-z0-9])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9])`).test(a)
    );
  });
  return hits.length === 1 ? hits[0][0] : undefined;
}

/** Disjoint groups of people by role, in order: e.g. { pretrain: 600, test: 150 } takes the first 600, then 150. */
export function assignRoles<R extends string>(people: Person[], counts: Record<R, number>): Record<R, Person[]> {
  const total = Object.values<number>(counts).reduce((a, b) => a + b, 0);
  if (total > people.length)
    throw new RangeError(`the roles need ${total} people, only ${people.length} were generated`);
  const out = {} as Record<R, Person[]>;
  let at = 0;
  for (const role of Object.keys(counts) as R[]) {
    out[role] = people.slice(at, at + counts[role]);
    at += counts[role];
  }
  return out;
}
