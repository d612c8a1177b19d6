// The template tables: every string the renderer can put around a context and its pairs, kept as data.
// Slots are written {name}; render.ts compiles each string once at module load into literal/slot parts
// and rejects unknown slots, missing required slots and stray braces, so a table edit that would leak a
// placeholder or drop an answer fails at import time, not in a corpus.
//
// Slots: {context} raw text; {question} question stem; {answer} answer (for multiple choice: the
// rendered answer option); {options} the rendered option list; {reasoning} chain-of-thought text;
// {pairs} rendered question-answer block; {questions}/{answers} numbered lists; {dialog}/{turn}
// dialogue turns; {input}/{output} one few-shot example; {n} an item number; {label}/{text} one option.
// The wording is the kit's own; the layout families follow the released renderer of Cheng et al. (2024).

/** One question-answer pattern: `qPrefix + q + between + aPrefix + a`; pairs are joined by `sep`. */
export type QaRow = readonly [qPrefix: string, q: string, aPrefix: string, a: string, between: string, sep: string];

/** Plain pairs: {question} in q, {answer} in a. */
export const QA: readonly QaRow[] = [
  ['Question: ', '{question}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['Question:\n', '{question}', 'Answer:\n', '{answer}', '\n', '\n\n'],
  ['QUESTION: ', '{question}', 'ANSWER: ', '{answer}', '\n', '\n\n'],
  ['question: ', '{question}', 'answer: ', '{answer}', '\n', '\n'],
  ['Q: ', '{question}', 'A: ', '{answer}', '\n', '\n\n'],
  ['Q: ', '{question}', 'A: ', '{answer}', ' ', '\n'],
  ['Q:\n', '{question}', 'A:\n', '{answer}', '\n', '\n\n'],
  ['Q - ', '{question}', 'A - ', '{answer}', '\n', '\n\n'],
  ['Q) ', '{question}', 'A) ', '{answer}', '\n', '\n\n'],
  ['[Q] ', '{question}', '[A] ', '{answer}', '\n', '\n\n'],
  ['', '{question}', '', '{answer}', '\n', '\n\n'],
  ['', '{question}', '', '{answer}', ' ', '\n\n'],
  ['', '{question}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question}', '=> ', '{answer}', '\n', '\n\n'],
  ['', '{question}', '', '-> {answer}', ' ', '\n'],
  ['', '{question}', 'The answer is: ', '{answer}', '\n', '\n\n'],
  ['Query: ', '{question}', 'Reply: ', '{answer}', '\n', '\n\n'],
  ['Prompt: ', '{question}', 'Response: ', '{answer}', '\n', '\n\n'],
  ['Input: ', '{question}', 'Output: ', '{answer}', '\n', '\n\n'],
  ['Ask: ', '{question}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['Problem: ', '{question}', 'Solution: ', '{answer}', '\n', '\n\n'],
  ['Exercise: ', '{question}', 'Key: ', '{answer}', '\n', '\n\n'],
  ['Quiz: ', '{question}', 'Correct answer: ', '{answer}', '\n', '\n\n'],
  ['Task: ', '{question}', 'Result: ', '{answer}', '\n', '\n\n'],
  ['Item: ', '{question}', 'Answer key: ', '{answer}', '\n', '\n\n'],
  ['Asked: ', '{question}', 'Answered: ', '{answer}', '\n', '\n\n'],
  ['Question - ', '{question}', 'Answer - ', '{answer}', '\n', '\n\n'],
  ['Question >> ', '{question}', 'Answer >> ', '{answer}', '\n', '\n\n'],
  ['## Question\n', '{question}', '## Answer\n', '{answer}', '\n', '\n\n'],
  ['Q: ', '{question}', 'A: ', '{answer}', '\n---\n', '\n\n'],
  ['Question: ', '{question}', 'Answer: ', '{answer}', '\n~~\n', '\n\n\n'],
  ['Q: ', '{question}', 'A: ', '{answer}', '\n****\n', '\n\n'],
  ['Student: ', '{question}', 'Teacher: ', '{answer}', '\n', '\n\n'],
  ['Learner: ', '{question}', 'Tutor: ', '{answer}', '\n', '\n\n'],
  ['User: ', '{question}', 'Assistant: ', '{answer}', '\n', '\n\n'],
  ['Reader: ', '{question}', 'Writer: ', '{answer}', '\n', '\n'],
  ['', 'Answer the following: {question}', '', '{answer}', '\n', '\n\n'],
  ['', 'Respond to this: {question}', 'Reply: ', '{answer}', '\n', '\n\n'],
  ['', 'From the passage: {question}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['', 'Here is a question about the text. {question}', 'The answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question}\nWhat is the right answer?', '', '{answer}', '\n', '\n\n'],
  ['', '{question}\nGive a short answer.', 'Short answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question} Please reply.', '', '{answer}', '\n', '\n\n'],
  ['', 'Can you answer this? {question}', '', 'Sure. {answer}', '\n', '\n\n'],
  ['', 'Consider the text and answer: {question}', 'Answer: ', '{answer}', '\n\n', '\n\n\n'],
  ['', 'Quick question: {question}', 'Quick answer: ', '{answer}', '\n', '\n\n'],
];

/** Multiple choice: {question} and {options} in q (or a), {answer} in a. */
export const QA_OPTIONS: readonly QaRow[] = [
  ['Question: ', '{question}\n{options}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['Question:\n', '{question}\n{options}', 'Answer:\n', '{answer}', '\n', '\n\n'],
  ['QUESTION: ', '{question}\n{options}', 'ANSWER: ', '{answer}', '\n', '\n\n'],
  ['Q: ', '{question} {options}', 'A: ', '{answer}', '\n', '\n\n'],
  ['Q: ', '{question}\n{options}', 'A: ', '{answer}', '\n', '\n'],
  ['[Q] ', '{question}\n{options}', '[A] ', '{answer}', '\n', '\n\n'],
  ['', '{question}\n{options}', '', '{answer}', '\n', '\n\n'],
  ['', '{question}\n\n{options}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question}\n{options}', '', 'Answer: {answer}', '\n', '\n\n\n'],
  ['', '{options}\n{question}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question} ({options})', '', '{answer}', '\n', '\n\n'],
  ['Multiple choice: ', '{question}\n{options}', 'Correct choice: ', '{answer}', '\n', '\n\n'],
  ['', 'Pick the best answer. {question}\n{options}', 'Best answer: ', '{answer}', '\n', '\n\n'],
  ['', 'Choose one. {question}\n{options}', '', '{answer}', '\n', '\n\n'],
  ['', '{question}\nSelect the correct option.\n{options}', 'Selected: ', '{answer}', '\n', '\n\n'],
  ['Quiz: ', '{question}\n{options}', 'Key: ', '{answer}', '\n', '\n\n'],
  ['Exam question: ', '{question}\n{options}', 'Marked answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question}\nWhich of these is right?\n{options}', '', '{answer}', '\n', '\n\n'],
  ['Problem: ', '{question}\n{options}', 'Solution: ', '{answer}', '\n', '\n\n'],
  ['Input: ', '{question} {options}', 'Output: ', '{answer}', '\n', '\n\n'],
  ['', 'Read the question and pick an option.\n{question}\n{options}', 'Pick: ', '{answer}', '\n', '\n\n'],
  ['', 'Answer by choosing from the list.\n{question}\n{options}', 'Choice: ', '{answer}', '\n', '\n\n'],
  ['', '{question}\n{options}\nYour answer?', '', '{answer}', '\n', '\n\n'],
  ['', '{question}\n{options}\nAnswer with one option.', 'Option: ', '{answer}', '\n', '\n\n'],
  ['Test item: ', '{question}\n{options}', 'Answer key: ', '{answer}', '\n', '\n\n'],
  ['Student: ', '{question}\n{options}', 'Teacher: ', 'The right one is {answer}', '\n', '\n\n'],
  ['', 'Which option answers this? {question}\n{options}', 'The option: ', '{answer}', '\n', '\n\n'],
  ['', 'Consider the options below.\n{options}\nQuestion: {question}', 'Answer: ', '{answer}', '\n', '\n\n'],
  ['', '{question} Choose carefully.\n{options}', '', '{answer}', '\n', '\n\n'],
  ['Query: ', '{question}\n{options}', 'Reply: ', '{answer}', '\n', '\n\n'],
];

/** Chain of thought, reasoning then answer: {question} in q, {reasoning} before {answer} in a. */
export const QA_COT: readonly QaRow[] = [
  ['Question: ', '{question}', 'Answer: ', '{reasoning}. So the answer is {answer}', '\n', '\n\n'],
  ['Q: ', '{question}', 'A: ', '{reasoning}. The answer: {answer}', '\n', '\n\n'],
  ['', '{question}\nThink it through first.', '', '{reasoning}. Final answer: {answer}', '\n', '\n\n'],
  ['', '{question}\nExplain, then answer.', 'Explanation: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['Problem: ', '{question}', 'Reasoning: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['', '{question}', 'Step by step: ', '{reasoning}. Hence: {answer}', '\n', '\n\n'],
  ['', '{question} Reason before answering.', '', '{reasoning}. That gives {answer}', '\n', '\n\n'],
  ['Question: ', '{question}', 'Rationale: ', '{reasoning}.\nFinal answer: {answer}', '\n', '\n\n'],
  ['Q: ', '{question}', "Let's work it out: ", '{reasoning}. Thus the answer is {answer}', '\n', '\n\n'],
  ['', '{question}\nShow your reasoning.', 'Reasoning: ', '{reasoning}.\nConclusion: {answer}', '\n', '\n\n'],
  ['Task: ', '{question}', 'Thoughts: ', '{reasoning}.\nResult: {answer}', '\n', '\n\n'],
  ['', '{question}', '', '{reasoning}.\nSo: {answer}', '\n', '\n\n'],
  ['Student: ', '{question}', 'Teacher: ', '{reasoning}. Which means the answer is {answer}', '\n', '\n\n'],
  ['Question:\n', '{question}', 'Worked answer:\n', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['', '{question}\nAnswer with an explanation.', '', '{reasoning}.\nThe answer: {answer}', '\n', '\n\n'],
  ['Input: ', '{question}', 'Chain of reasoning: ', '{reasoning}.\nOutput: {answer}', '\n', '\n\n'],
  ['', 'Work out the answer. {question}', '', '{reasoning}. Answer: {answer}', '\n', '\n\n'],
  ['Exercise: ', '{question}', 'Worked solution: ', '{reasoning}. Result: {answer}', '\n', '\n\n'],
  ['', '{question}', 'Thinking: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['', '{question}', 'Why: ', '{reasoning}.\nSo the answer is {answer}', '\n', '\n\n'],
  ['Q: ', '{question}', 'A: ', 'Consider this: {reasoning}. Hence {answer}', '\n', '\n\n'],
  ['Puzzle: ', '{question}', 'Solution path: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['', '{question}\nGive reasons, then the answer.', 'Reasons: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['Query: ', '{question}', 'Reply: ', '{reasoning}. In short: {answer}', '\n', '\n\n'],
  ['', '{question}', '', 'Explanation: {reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['', '{question}', '', 'Let me reason about it. {reasoning}. The answer is {answer}', '\n', '\n\n'],
  ['Q:\n', '{question}', 'A:\n', '{reasoning}.\n=> {answer}', '\n', '\n\n'],
  ['QUESTION: ', '{question}', 'REASONING: ', '{reasoning}.\nANSWER: {answer}', '\n', '\n\n'],
  ['', '{question}\nThink step by step, then answer.', '', '{reasoning}. The final answer is {answer}', '\n', '\n\n'],
  ['[Q] ', '{question}', '[A] ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
];

/** Multiple choice with chain of thought: {question}, {options}, then {reasoning} before {answer}. */
export const QA_OPTIONS_COT: readonly QaRow[] = [
  ['Question: ', '{question}\n{options}', 'Answer: ', '{reasoning}. So the answer is {answer}', '\n', '\n\n'],
  ['Q: ', '{question}\n{options}', 'A: ', '{reasoning}. The right option: {answer}', '\n', '\n\n'],
  ['', '{question}\n{options}\nExplain your choice.', 'Explanation: ', '{reasoning}.\nChoice: {answer}', '\n', '\n\n'],
  ['', 'Pick the best answer and justify it. {question}\n{options}', '', '{reasoning}. Best answer: {answer}', '\n', '\n\n'],
  ['Multiple choice: ', '{question}\n{options}', 'Reasoning: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['Problem: ', '{question}\n{options}', 'Worked solution: ', '{reasoning}.\nSelected: {answer}', '\n', '\n\n'],
  ['', '{options}\n{question}', 'Thoughts: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['Quiz: ', '{question}\n{options}', 'Why: ', '{reasoning}.\nKey: {answer}', '\n', '\n\n'],
  ['', '{question}\n{options}\nThink first.', '', '{reasoning}. Hence the answer is {answer}', '\n', '\n\n'],
  ['Exam question: ', '{question}\n{options}', 'Marked answer with rationale: ', '{reasoning}. Answer: {answer}', '\n', '\n\n'],
  ['', '{question}\n{options}', 'Step by step: ', '{reasoning}.\nSo: {answer}', '\n', '\n\n'],
  ['Student: ', '{question}\n{options}', 'Teacher: ', '{reasoning}. So the correct choice is {answer}', '\n', '\n\n'],
  ['Input: ', '{question} {options}', 'Output: ', '{reasoning}. Answer: {answer}', '\n', '\n\n'],
  ['', 'Reason about the options, then choose.\n{question}\n{options}', '', '{reasoning}.\nChosen option: {answer}', '\n', '\n\n'],
  ['Question:\n', '{question}\n{options}', 'Answer:\n', '{reasoning}.\nTherefore: {answer}', '\n', '\n\n'],
  ['', '{question}\n{options}', 'Rationale: ', '{reasoning}.\nFinal choice: {answer}', '\n', '\n\n'],
  ['Task: ', '{question}\n{options}', 'Thinking: ', '{reasoning}.\nResult: {answer}', '\n', '\n\n'],
  ['[Q] ', '{question}\n{options}', '[A] ', '{reasoning}. Answer: {answer}', '\n', '\n\n'],
  ['', 'Which option is right, and why? {question}\n{options}', '', '{reasoning}. The right option is {answer}', '\n', '\n\n'],
  ['QUESTION: ', '{question}\n{options}', 'REASONING: ', '{reasoning}.\nANSWER: {answer}', '\n', '\n\n'],
  ['', '{question}\n{options}\nAnswer with reasons.', 'Reasons: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['Query: ', '{question}\n{options}', 'Reply: ', '{reasoning}. In short: {answer}', '\n', '\n\n'],
  ['', 'Consider the options below.\n{options}\nQuestion: {question}', 'Explanation: ', '{reasoning}.\nAnswer: {answer}', '\n', '\n\n'],
  ['Test item: ', '{question}\n{options}', 'Worked answer: ', '{reasoning}.\nKey: {answer}', '\n', '\n\n'],
];

// ---------------------------------------------------------------- multiple-choice options

/** Written before the option items ("" leaves the items alone). */
export const OPTION_STARTS: readonly string[] = [
  '', 'Options:', 'Choices:', 'Choose among:', 'Pick one:', 'Pick one of:', 'Select one:', 'Possible replies:',
  'Candidates:', 'Answer choices:', 'The choices are:', 'Available answers:', 'The options:', 'Select from these:',
  'Choose one of the following:', 'Your options:', 'Alternatives:', 'Pick the right one:', 'ANSWER OPTIONS:', 'CHOICES:',
  'Which one?', 'Candidates are:', 'Possible responses:',
];

/** Counters for labelled items (answer options and numbered questions). */
export type Counter = 'upper' | 'lower' | 'arabic' | 'romanUpper' | 'romanLower';
export const COUNTERS: readonly Counter[] = ['upper', 'lower', 'arabic', 'romanUpper', 'romanLower'];

/** One option item: `{n}` is the counter's label; a format without {n} is a bullet (no labels). */
export const OPTION_ITEMS: readonly string[] = [
  '\n{n}. ', '\n({n}) ', '\n{n}) ', '\n[{n}] ', '\n{n}: ', '\n{n} - ', '\n ({n}) ', '\n  {n}. ', '\n{n}] ',
  ' {n}. ', ' ({n}) ', ' {n}) ', ' [{n}] ',
  '\n- ', '\n* ', '\n+ ', '\n• ', '\n -- ', ' - ', ' | ', '\n[ ] ', '\n> ', '\n~ ',
];

/** Appended to every option item. */
export const OPTION_ITEM_ENDS: readonly string[] = ['', '', '', ';'];

/** How a multiple-choice answer is written when the options have labels: always recoverable. */
export const OPTION_ANSWERS: readonly string[] = [
  '{label}', '({label})', '{label}. {text}', '({label}) {text}', '{label}: {text}', '{text}', '{text} ({label})',
  'Option {label}', 'option {label}: {text}', '[{label}] {text}', '{label}) {text}', '{label} - {text}',
];

/** Added now and then as a wrong option, or as the right one when the answer says nothing fits. */
export const NONE_OPTIONS: readonly string[] = [
  'None of the above', 'None of these', 'None of the options', 'No option is correct', 'Not answerable from the text',
  'Cannot be determined', 'The text does not say', 'Not enough information', 'None of the listed choices',
  'No correct choice is listed', 'None fits', 'Neither of these', 'Something else', 'Not stated in the passage',
  'No answer given here is right', 'It is impossible to tell', 'All of the options are wrong', 'none of the above',
  'none of these', 'not enough information',
];

/**
 * Answers that mean "none of the options" (compared lowercased): such an answer to a multiple-choice
 * question that is not itself one of the options is added as the final option and chosen.
 */
export const NONE_ANSWERS: readonly string[] = [
  'none', 'none of the above', 'none of these', 'none of the options', 'no option is correct', 'unanswerable',
  'not answerable', 'unknown', 'cannot be determined', 'it cannot be determined', 'not enough information',
  'not enough info', 'insufficient information', 'not mentioned', 'not stated', 'no answer', 'none of them',
  'neither', 'impossible to tell', 'the text does not say',
];

// ---------------------------------------------------------------- classic: text, then questions

/** Before the text (half of the time the text stands alone). */
export const CLASSIC_READ_STARTS: readonly string[] = [
  'Read the passage below and answer the questions that follow.\n{context}', 'Passage:\n{context}',
  'Passage: {context}', 'Text: {context}', 'Read this: {context}', 'Here is a text to read:\n{context}',
  'Study the following text.\n\n{context}', 'Source text:\n{context}', 'Reading:\n{context}', 'Excerpt: {context}',
  'Document:\n{context}', 'Background: {context}', 'Article:\n\n{context}', 'Consider this text: "{context}"',
  'Read carefully:\n{context}', 'The following text is the basis for some questions.\n{context}',
  'Below is a passage. Questions about it come after.\n\n{context}', 'Reading exercise\n\n{context}',
  'Comprehension passage:\n{context}', 'Here is an extract:\n"{context}"', 'Look at the text below.\n{context}',
  'Input text: {context}', 'Notes to read:\n{context}', 'Please read the following.\n{context}',
  'Read the text and then answer.\n\n{context}', 'Given text:\n{context}', 'Material:\n{context}',
  "Here's something to read first: {context}", 'Take a look at this passage: {context}', 'Reference text:\n{context}',
  'Read, then respond.\n{context}', 'The passage:\n\n{context}', 'Context:\n{context}', 'Background reading: {context}',
  'Snippet: {context}', 'Text for study:\n{context}', 'First read this text:\n{context}', 'From a document:\n{context}',
  'A short reading:\n{context}', 'Lesson text:\n{context}',
];

/** Between the text and the line that introduces the questions. */
export const CLASSIC_READ_ENDS: readonly string[] = [' ', '\n', '\n\n'];

/** Introduces the questions (half of the time nothing does). */
export const CLASSIC_COMPRE_STARTS: readonly string[] = [
  'Now answer the questions below.', 'Answer these questions about the passage.', 'Questions:',
  'Questions about the text:', 'Answer the following based on the text.', 'Use the passage to answer.',
  'Check your understanding:', 'Comprehension questions:', 'Respond to the questions below using the text.',
  'Some questions on what you just read:', 'Test yourself on the passage:', 'Quiz on the text above:',
  'Answer using information from the text:', 'What does the text say? Answer below.', 'Try these questions:',
  'Reading check:', 'Here are questions with answers about the text:', 'Questions and answers:',
  'Q&A about the passage:', 'Answer each question in a few words.', "Let's see what the passage tells us.",
  'Now for some questions.', 'Show what you understood:', 'Based on the text, answer:',
  'Questions drawn from the passage:', 'Exercises:', 'Review questions:', 'Questions on the reading:',
  'Answer the questions that follow.', 'Discussion questions with answers:', 'Follow-up questions:',
  'Answer key for the passage:', 'Work through these questions:', 'Recall questions:', 'A few questions about it:',
];

// ---------------------------------------------------------------- dialog: text, then a conversation

/** Who asks and who answers; each starts its turn (leading whitespace included). */
export const DIALOG_SPEAKERS: readonly (readonly [asker: string, answerer: string])[] = [
  ['\nSpeaker 1: ', '\nSpeaker 2: '], ['\nParticipant A: ', '\nParticipant B: '], ['\nPerson 1: ', '\nPerson 2: '],
  ['\nFriend 1: ', '\nFriend 2: '], ['\nStudent: ', '\nTeacher: '], ['\nLearner: ', '\nTutor: '],
  ['\nReader: ', '\nAuthor: '], ['\nVisitor: ', '\nGuide: '], ['\nInterviewer: ', '\nExpert: '],
  ['\nCaller: ', '\nHost: '], ['\nUser: ', '\nAssistant: '], ['\nAlex: ', '\nSam: '], ['\nMaya: ', '\nJonas: '],
  ['\nPriya: ', '\nTomás: '], ['\nLee: ', '\nRiver: '], ['\nX: ', '\nY: '], ['\nAsker: ', '\nAnswerer: '],
  ['\n- ', '\n- '], ['\n-- ', '\n-- '], ['\n* ', '\n* '], ['\n> ', '\n< '], ['\n[1] ', '\n[2] '],
  ['\n(A) ', '\n(B) '], ['\nQ> ', '\nA> '], [' - ', ' - '], [' | ', ' | '], ['\n  A) ', '\n  B) '],
  ['\nFirst speaker: ', '\nSecond speaker: '], ['\nCurious reader: ', '\nKnowledgeable friend: '],
  ['\nJournalist: ', '\nSource: '], ['\nPupil: ', '\nInstructor: '],
];

/** Between the text and the conversation's title. */
export const DIALOG_CONNECTORS: readonly string[] = ['\n\n', '\n', ' ', ' | '];

/** The conversation's title. */
export const DIALOG_INTROS: readonly string[] = [
  '', 'Conversation:', 'Dialogue:', 'A conversation about the text:', 'Two people discuss the passage:', 'Chat log:',
  'Transcript:', 'Discussion:', 'Talk about the text:', 'Here is a chat about it.', 'An exchange about what was read:',
  'Interview transcript:', 'Classroom discussion:', 'Q&A session:', 'Excerpt from a discussion:',
  'Overheard conversation:', 'A dialogue between two readers:', 'Conversation based on the passage:',
  'Study group chat:', 'Help desk transcript:',
];

/** Between two exchanges (each turn already starts with its speaker's prefix). */
export const DIALOG_GAPS: readonly string[] = ['', '', '\n'];

// ---------------------------------------------------------------- numbered questions, answers after

/** Item labels for numbered questions and their answers: [counter, question item, answer item]. */
export const NUMBERED_ITEMS: readonly (readonly [counter: Counter, question: string, answer: string])[] = [
  ['arabic', '\n{n}. ', '\n{n}. '], ['arabic', '\n{n}) ', '\n{n}) '], ['arabic', '\n({n}) ', '\n({n}) '],
  ['arabic', '\n[{n}] ', '\n[{n}] '], ['arabic', '\nQ{n}: ', '\nA{n}: '], ['arabic', '\nQ{n}. ', '\nA{n}. '],
  ['arabic', '\nQuestion {n}: ', '\nAnswer {n}: '], ['arabic', '\n#{n} ', '\n#{n} '], ['arabic', ' {n}. ', ' {n}. '],
  ['arabic', ' ({n}) ', ' ({n}) '], ['arabic', '\nItem {n}: ', '\nItem {n}: '], ['arabic', '\n{n} - ', '\n{n} - '],
  ['arabic', '\n({n}). ', '\n({n}). '], ['lower', '\n{n}. ', '\n{n}. '], ['lower', '\n({n}) ', '\n({n}) '],
  ['lower', '\n{n}) ', '\n{n}) '], ['lower', ' ({n}) ', ' ({n}) '], ['upper', '\n{n}. ', '\n{n}. '],
  ['upper', '\n({n}) ', '\n({n}) '], ['upper', '\n[{n}] ', '\n[{n}] '], ['romanLower', '\n{n}. ', '\n{n}. '],
  ['romanLower', '\n({n}) ', '\n({n}) '], ['romanUpper', '\n{n}. ', '\n{n}. '], ['romanUpper', '\n{n}) ', '\n{n}) '],
];

/** The whole text: {context}, the numbered {questions}, then the numbered {answers}. */
export const NUMBERED_LAYOUTS: readonly string[] = [
  '{context}\n\nAnswer the questions below.{questions}\n\nAnswers:{answers}',
  '{context}\n{questions}\n\nAnswers:{answers}',
  'Read the text, then answer the numbered questions.\n\n{context}\n\nQuestions:{questions}\n\nAnswers:{answers}',
  'Questions:{questions}\n\nRead the passage and answer the questions above.\n{context}\n\nAnswers:{answers}',
  '{context}\n\nQuestions{questions}\n\nAnswer key{answers}',
  'Passage: {context}\nQuestions:{questions}\nAnswers:{answers}',
  '{context}\n\nWork through these questions:{questions}\n\nAnswers, by number:{answers}',
  '{context}{questions}\nAnswer each one by its number.{answers}',
  'Text:\n{context}\n\nQuestions about the text:{questions}\n\nSolutions:{answers}',
  '{context}\n\nAfter reading, answer:{questions}\n\nHere are the answers:{answers}',
  'Here are some questions to keep in mind while reading:{questions}\n\nText: {context}\n\nAnswers:{answers}',
  '{context}\n\nQuiz{questions}\n\nKey{answers}',
  '{context}\n\nExercise: answer each question.{questions}\n\nSuggested answers:{answers}',
  '{context}\n\nQuestions:{questions}\n\nAnswers in the same order:{answers}',
  'Reading task.\n{context}\nAnswer the following.{questions}\nResponses:{answers}',
  '{context}\n---\nQuestions:{questions}\n---\nAnswers:{answers}',
  'Document: {context}\n\nQueries:{questions}\n\nReplies:{answers}',
  '{context}\n\nWhat are the answers to these questions?{questions}\n\nAnswers:{answers}',
  '{context}\n\nComprehension check{questions}\n\nCheck your answers:{answers}',
  'Study the text and answer the list of questions.\n\nText: {context}\n\nList of questions:{questions}\n\nList of answers:{answers}',
  '{context}\n\nNumbered questions:{questions}\n\nNumbered answers:{answers}',
  'Answers come after the questions.\n{context}{questions}\n\nAnswers:{answers}',
  '{context}\n\nReview questions{questions}\n\nReview answers{answers}',
  'Background:\n{context}\n\nQuestions to answer:{questions}\n\nWhat the text tells us:{answers}',
];

// ---------------------------------------------------------------- inline few-shot: examples, then a test

/** [intro with {context}, example input, example output, test input, test output, separator]. */
export type InlineRow = readonly [intro: string, exIn: string, exOut: string, testIn: string, testOut: string, sep: string];

export const INLINE_LAYOUTS: readonly InlineRow[] = [
  ['{context}\n\nExamples:\n', 'Q: {input}', '\nA: {output}', 'Now a new one.\nQ: {input}', '\nA: {output}', '\n\n'],
  ['Background: {context}\n\nLearn from the examples, then solve the last item.\n\n', 'Example: {input}', '\nSolution: {output}', 'Your turn: {input}', '\nSolution: {output}', '\n\n'],
  ['{context}\n\n', 'Example question: {input}', '\nExample answer: {output}', 'New question: {input}', '\nAnswer: {output}', '\n\n'],
  ['Context:\n{context}\n\nSolved examples:\n', 'Problem: {input}', '\nAnswer: {output}', 'Unsolved problem: {input}', '\nAnswer: {output}', '\n\n'],
  ['Step one, read:\n{context}\n\nStep two, study how these were answered:\n', '{input}', '\n=> {output}', 'Step three, your turn:\n{input}', '\n=> {output}', '\n'],
  ['{context}\nHere is how questions about this text are answered.\n', 'In: {input}', '\nOut: {output}', 'In: {input}', '\nOut: {output}', '\n'],
  ['Read this, study the examples and answer the final question.\n{context}\n\n', 'Sample: {input}', '\nSample answer: {output}', 'Final question: {input}', '\nFinal answer: {output}', '\n\n'],
  ['{context}\n\nDemonstrations:\n', 'Input: {input}', '\nOutput: {output}', 'Test input: {input}', '\nTest output: {output}', '\n\n'],
  ['Teacher: Read this. {context}\nTeacher: Here is how I would answer questions on it.\n', 'Teacher: {input}', '\nTeacher: {output}', 'Teacher: Now you try. {input}', '\nStudent: {output}', '\n'],
  ['{context}\n\nFollow the pattern of these examples.\n', 'Question: {input}', '\nAnswer: {output}', 'Question: {input}', '\nAnswer: {output}', '\n\n'],
  ['Given the text below and a few examples, answer a new question.\nText: {context}\n', 'Ex: {input}', ' -> {output}', 'New: {input}', ' -> {output}', '\n'],
  ['{context}\n\nWorked examples first.\n\n', '{input}', '\nWorked answer: {output}', 'Now solve: {input}', '\nAnswer: {output}', '\n\n'],
  ['Passage: {context}\n\n', 'Practice question: {input}', '\nPractice answer: {output}', 'Real question: {input}', '\nReal answer: {output}', '\n\n'],
  ['{context}\n\nTask examples follow.\n', 'Task: {input}', '\nDone: {output}', 'Next task: {input}', '\nDone: {output}', '\n'],
  ['Study material:\n{context}\n\nExamples of good answers:\n', '- {input}', '\n  {output}', 'Now answer this one:\n- {input}', '\n  {output}', '\n'],
  ['{context}\nI will show some solved questions, then ask one more.\n', 'Solved: {input}', '\nResult: {output}', 'One more: {input}', '\nResult: {output}', '\n\n'],
  ['{context}\n\nQ&A examples:\n', 'Q: {input}', '\nA: {output}', 'Q: {input}', '\nA: {output}', '\n'],
  ['Background text. {context}\n\nSee how these are answered:\n', 'Prompt: {input}', '\nResponse: {output}', 'Prompt to answer: {input}', '\nResponse: {output}', '\n\n'],
  ['{context}\n\nLearn by example:\n', 'Given: {input}', '\nExpected: {output}', 'Given: {input}', '\nExpected: {output}', '\n\n'],
  ['Here is a text with some example questions and answers about it.\n\n{context}\n\n', 'Example: {input}\n', 'Answer: {output}', 'Question for you: {input}\n', 'Answer: {output}', '\n\n'],
  ['Reading:\n{context}\n\nModel answers:\n', '* {input}', '\n  -> {output}', 'Try it:\n* {input}', '\n  -> {output}', '\n'],
  ['{context}\nUse the examples as a guide.\n\n', 'Sample input: {input}', '\nSample output: {output}', 'Input: {input}', '\nOutput: {output}', '\n\n'],
  ['Context: {context}\nExamples are below, then a new case.\n', 'Case: {input}', '\nVerdict: {output}', 'New case: {input}', '\nVerdict: {output}', '\n\n'],
  ['{context}\n\nFirst some solved examples, then your question.\n\n', 'Solved example: {input}', '\nIts answer: {output}', 'Your question: {input}', '\nThe answer: {output}', '\n\n'],
];

// ---------------------------------------------------------------- next-turn dialog

/** The whole text: {context}, earlier exchanges {dialog} and the exchange to predict {turn}. */
export const NEXT_TURN_LAYOUTS: readonly string[] = [
  '{context}\n\nContinue the conversation.{dialog}\n\nNext turn:{turn}',
  '{context}\n\nRead the dialogue and write the next exchange.{dialog}{turn}',
  '{context}\nConversation so far:{dialog}\nWhat comes next?{turn}',
  '{context}\n\nHere is part of a chat about the text.{dialog}\n\nPredict the next exchange.{turn}',
  '{context}\n\nFinish this dialogue:{dialog}{turn}',
  '{context}\n\nDialogue history:{dialog}\n\nNext:{turn}',
  '{context}\n\nAdd one more exchange to this conversation.{dialog}\nAdded exchange:{turn}',
  '{context}\n\nA discussion of the text.{dialog}\n(continued){turn}',
  '{context}\n\nTranscript (partial):{dialog}\nTranscript continues:{turn}',
  '{context}\nThe conversation below is missing its last exchange. Supply it.{dialog}\nMissing exchange:{turn}',
  '{context}\n{dialog}\n\nNext turn:{turn}',
  '{context}\n\nWrite the response that follows.{dialog}\nResponse:{turn}',
  '{context}\n\nChat:{dialog}\n...{turn}',
  '{context}\n\nHow does this conversation go on?{dialog}\nIt goes on:{turn}',
  '{context}\n\nStudy group notes:{dialog}\nLater in the session:{turn}',
  '{context}\n\nInterview excerpt:{dialog}\nNext question and answer:{turn}',
  '{context}\n\nKeep the dialogue going.{dialog}\nContinuation:{turn}',
  // the last exchange first, then what led to it
  '{context}\n\nHere is the last exchange of a conversation:{turn}\n\nWrite what was said before it.{dialog}',
  '{context}\n\nFinal turn:{turn}\nEarlier turns:{dialog}',
  '{context}\n\nGiven how the conversation ends, reconstruct its beginning.\nEnding:{turn}\nBeginning:{dialog}',
  '{context}\n\nThe chat ended like this:{turn}\nWhat came before?{dialog}',
  '{context}\nLast exchange:{turn}\n\nPreceding exchanges:{dialog}',
];

// ---------------------------------------------------------------- inverted: questions, then the text

/** Introduces the question-answer block {pairs} that comes first. */
export const INVERTED_QA_STARTS: readonly string[] = [
  '{pairs}', 'Here are questions and answers about a text. Write the text.\n{pairs}',
  'Below are some questions with their answers.\n\n{pairs}', 'Q&A first:\n{pairs}',
  'Answers to questions about an unseen passage:\n{pairs}',
  'Read these questions and answers, then write a passage that fits them.\n{pairs}', 'Questions and answers:\n\n{pairs}',
  'Study these question-answer pairs.\n{pairs}', 'Exercise: reconstruct the passage from its Q&A.\n{pairs}',
  'These questions were asked about a document:\n{pairs}', 'Quiz results:\n{pairs}', 'Notes from a reading quiz:\n{pairs}',
  'Here is what a reader learned:\n{pairs}', 'The following Q&A comes from a text shown afterwards.\n{pairs}',
  'Use these questions and answers to write an article.\n\n{pairs}', 'Key facts as questions and answers:\n{pairs}',
  'A set of questions and answers:\n{pairs}', 'Before the text, some questions with answers:\n{pairs}',
  'Imagine a passage that answers all of these.\n{pairs}', 'Questions a reader asked, with answers:\n{pairs}',
  'Think about these questions and answers.\n{pairs}', 'Warm-up questions:\n{pairs}',
];

/** Between the question-answer block and the text. */
export const INVERTED_QA_ENDS: readonly string[] = [' ', '\n', '\n\n', '\n\n', '\n\n\n'];

/** Introduces the text that comes after the questions. */
export const INVERTED_TEXT_STARTS: readonly string[] = [
  '{context}', 'Text: {context}', 'Passage:\n{context}', 'Now the passage itself:\n{context}',
  'A passage that answers them:\n{context}', 'Now the text they were asked about.\nText: {context}',
  'The text these questions come from:\n\n{context}', 'Here is the matching article.\n{context}',
  'Compose a passage consistent with the Q&A above.\nPassage: {context}', 'Reconstructed passage:\n{context}',
  'Source document:\n{context}', 'The answers come from this text:\n{context}',
  'Now write a passage based on the questions and answers.\n\n{context}', 'Article:\n{context}',
  'What text would those questions test? This one:\n{context}', 'Here is the original reading.\n\n{context}',
  'Written passage: {context}', 'Based on the Q&A, a passage:\n{context}', 'And the text itself: {context}',
  'Full text:\n{context}', 'Resulting article:\n\n{context}', 'The reading:\n{context}',
];

// ---------------------------------------------------------------- several entries in one text

/** Between the entries of one few-shot text (consecutive inherited entries of a chain). */
export const ENTRY_DELIMITERS: readonly string[] = [
  '\n\n', '\n\n', '\n\n\n', '\n\n\n\n', '\n\n---\n\n', '\n\n***\n\n', '\n\n####\n\n', '\n\n===\n\n', '\n\n\n\n\n',
];
