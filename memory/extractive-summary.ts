/**
 * The deterministic extractive summarizer, used when no real model provider is configured (and as the
 * fallback when the provider fails). It writes nothing new: it keeps the most informative sentences of the
 * sources, in their original order, within a budget. A sentence's score is the average, over its content
 * words, of how often the word occurs in all the sources (SumBasic-style), so sentences about what the
 * conversation keeps coming back to win; ties go to the earlier sentence. Same input, same output.
 */
import { utf8PrefixEnd } from './stretches.js';
import { countTokens, tokensAtLeast } from './tokens.js';

export interface ExtractiveSource {
  readonly role?: string | undefined;
  readonly text: string;
}

export interface ExtractiveBudget {
  /** Most tokens of the summary text. */
  maxTokens?: number;
  /** Most UTF-8 bytes of the summary text. */
  maxBytes?: number;
}

/** Words too common to tell sentences apart. */
const STOPWORDS = new Set(
  ('a an and are as at be but by can could did do does for from had has have he her his how i if in into is it its ' +
    'me my no not of on or our she so that the their them then there these they this to too us was we were what when ' +
    'where which who why will with would you your just also than very about been being am').split(' '),
);
const SENTENCE = /[^.!?\n]+(?:[.!?]+|\n|$)/g;
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'_-]*/gu;
/** Sentences shorter than this many content words carry too little to be kept when others are there. */
const MIN_CONTENT_WORDS = 2;

interface Sentence {
  index: number;
  text: string;
  words: string[];
  score: number;
}

function contentWords(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).filter((word) => !STOPWORDS.has(word) && word.length > 1);
}

function sentencesOf(sources: readonly ExtractiveSource[]): Sentence[] {
  const out: Sentence[] = [];
  for (const source of sources) {
    const prefix = source.role === undefined ? '' : `${source.role}: `;
    for (const match of source.text.matchAll(SENTENCE)) {
      const text = match[0].trim();
      if (text === '') continue;
      out.push({ index: out.length, text: `${prefix}${text}`, words: contentWords(text), score: 0 });
    }
  }
  return out;
}

/** A summary to draft in a worker thread (workers/memory-summarizer.ts): plain data, as threads take it. */
export interface ExtractiveTask {
  sources: ExtractiveSource[];
  budget: ExtractiveBudget;
}

/** extractiveSummary of a task: the function a summary thread runs. */
export function extractiveSummaryTask(task: ExtractiveTask): string {
  return extractiveSummary(task.sources, task.budget);
}

/** Where a worker thread imports extractiveSummaryTask from (ThreadPoolOptions.module). */
export const EXTRACTIVE_SUMMARY_THREAD = { url: import.meta.url, name: 'extractiveSummaryTask' } as const;

/** The summary text, never longer than the budget (a single over-long sentence is cut at a word). */
export function extractiveSummary(sources: readonly ExtractiveSource[], budget: ExtractiveBudget): string {
  const sentences = sentencesOf(sources);
  const frequency = new Map<string, number>();
  for (const sentence of sentences) for (const word of sentence.words) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  for (const sentence of sentences) {
    const total = sentence.words.reduce((sum, word) => sum + (frequency.get(word) ?? 0), 0);
    sentence.score = sentence.words.length < MIN_CONTENT_WORDS ? total / 100 : total / sentence.words.length;
  }
  const ranked = [...sentences].sort((a, b) => b.score - a.score || a.index - b.index);
  // Greedy by score with running totals (a joining space counted as one byte and one token), then one exact
  // check of the rendered text; the lowest-scored kept sentences go until it fits. Once the budget is nearly
  // full, most sentences cannot fit: a lower bound of their tokens tells so without counting them (counting
  // every sentence was most of a full context's summary, which took 3.6–20 ms on the event loop; now ~half).
  const kept: Sentence[] = [];
  let bytes = 0;
  let tokens = 0;
  for (const sentence of ranked) {
    const addBytes = Buffer.byteLength(sentence.text) + 1;
    if (budget.maxBytes !== undefined && bytes + addBytes > budget.maxBytes + 1) continue;
    const maxTokens = budget.maxTokens;
    if (maxTokens !== undefined && tokens + tokensAtLeast(sentence.text) > maxTokens) continue;
    const addTokens = maxTokens === undefined ? 0 : countTokens(sentence.text) + 1;
    if (maxTokens !== undefined && tokens + addTokens > maxTokens + 1) continue;
    kept.push(sentence);
    bytes += addBytes;
    tokens += addTokens;
  }
  while (kept.length > 0 && !fits(render(kept), budget)) kept.pop();
  if (kept.length === 0) return ranked[0] === undefined ? '' : cut(ranked[0].text, budget);
  return render(kept);
}

/** Kept sentences in their original order. */
function render(sentences: readonly Sentence[]): string {
  return [...sentences].sort((a, b) => a.index - b.index).map((s) => s.text).join(' ');
}

function fits(text: string, budget: ExtractiveBudget): boolean {
  if (budget.maxBytes !== undefined && Buffer.byteLength(text) > budget.maxBytes) return false;
  if (budget.maxTokens !== undefined && countTokens(text) > budget.maxTokens) return false;
  return true;
}

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = Buffer.byteLength(ELLIPSIS);

/** The byte limit when it is the budget's only one (an oversized message's summary): cuts then take one pass. */
function bytesOnly(budget: ExtractiveBudget): number | undefined {
  return budget.maxTokens === undefined ? budget.maxBytes : undefined;
}

/** The longest word-boundary prefix of `text` (plus an ellipsis) within the budget. */
function cut(text: string, budget: ExtractiveBudget): string {
  const words = text.split(/(?<=\s)/);
  const maxBytes = bytesOnly(budget);
  if (maxBytes !== undefined) {
    const cutAt = byteCut(words, maxBytes);
    if (cutAt === 0) return cutChars(text, budget);
    const kept = `${words.slice(0, cutAt).join('').trimEnd()}${ELLIPSIS}`;
    if (fits(kept, budget)) return kept;
  }
  let low = 0;
  let high = words.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(`${words.slice(0, mid).join('').trimEnd()}${ELLIPSIS}`, budget)) low = mid;
    else high = mid - 1;
  }
  if (low === 0) return cutChars(text, budget);
  return `${words.slice(0, low).join('').trimEnd()}${ELLIPSIS}`;
}

/**
 * With a byte budget alone, the number of words to keep, found with running byte counts: one pass, where the
 * search above renders and measures a prefix per step (~3 ms of the ~11 ms summary of a 100 KB paste with no
 * sentence end). A prefix is measured without its trailing whitespace, as it is rendered.
 */
function byteCut(words: readonly string[], maxBytes: number): number {
  let bytes = 0;
  let kept = 0;
  for (const word of words) {
    bytes += Buffer.byteLength(word);
    const trailing = word.length - word.trimEnd().length;
    const rendered = bytes - (trailing === 0 ? 0 : Buffer.byteLength(word.slice(word.length - trailing)));
    if (rendered + ELLIPSIS_BYTES > maxBytes) break;
    kept += 1;
  }
  return kept;
}

/** For text with no usable word boundary (one huge token): cut by code points. */
function cutChars(text: string, budget: ExtractiveBudget): string {
  const maxBytes = bytesOnly(budget);
  if (maxBytes !== undefined) return byteCutChars(text, maxBytes);
  const chars = [...text];
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(`${chars.slice(0, mid).join('')}${ELLIPSIS}`, budget)) low = mid;
    else high = mid - 1;
  }
  return low === 0 ? '' : `${chars.slice(0, low).join('')}${ELLIPSIS}`;
}

/**
 * With a byte budget alone, the longest code-point prefix (plus an ellipsis) by running UTF-8 byte counts: a
 * 100 KB base64 paste took ~30 ms rendering a prefix per step of a search.
 */
function byteCutChars(text: string, maxBytes: number): string {
  const end = utf8PrefixEnd(text, maxBytes - ELLIPSIS_BYTES);
  return end === 0 ? '' : `${text.slice(0, end)}${ELLIPSIS}`;
}
