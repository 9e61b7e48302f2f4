/**
 * Token counts for the active context's limits, from a real BPE tokenizer: `cl100k_base` (the GPT-4 /
 * GPT-3.5 encoding) via gpt-tokenizer. For other vendors' models the count is an estimate, close but not
 * exact. Text that looks like a special token (`<|endoftext|>`) is counted as plain text, never refused.
 * BPE merging is quadratic in the length of one pre-token, so a long run without spaces (a pasted blob)
 * is counted in pieces of at most TOKEN_PIECE_CHARS characters: linear time, and the sum differs from a
 * whole-text count by at most a token or so per cut. Linear is still ~0.1–0.3 ms per KB on this VM (a 32 KB log
 * 8.5 ms), so a text longer than TOKEN_EXACT_MAX_CHARS is estimated from TOKEN_SAMPLE_CHARS of it, in stretches
 * spread from its start to its end (stretches.ts), scaled to its length: ~1–2.5 ms whatever the text. Measured
 * against whole counts of 9–450 KB of code, Markdown, JSON and mixes of them: within ±3.5 % (a sample of the
 * head alone: up to 11 % off, where the text changes kind). (A fuzzed client sending 1 MB messages kept the
 * event loop busy for over 10 s: contexts restored with such items counted each of them whole.)
 */
import { createRequire } from 'node:module';
import { stretches } from './stretches.js';

type CountFn = (text: string, options: { disallowedSpecial: Set<string> }) => number;

/**
 * The tokenizer is loaded on first use (its tables cost about 40 MB and 0.2 s to load), so a gateway that has
 * not served a turn yet does not carry it. Synchronous: counts are needed synchronously.
 */
let countCl100k: CountFn | undefined;
function tokenizer(): CountFn {
  countCl100k ??= (createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/cl100k_base') as { countTokens: CountFn }).countTokens;
  return countCl100k;
}

/** Name of the encoding the counts come from. */
export const TOKENIZER_ENCODING = 'cl100k_base';
/** Longest piece of text given to the tokenizer at once, in characters. */
export const TOKEN_PIECE_CHARS = 1_024;
/** Characters a longer text's count is estimated from. */
export const TOKEN_SAMPLE_CHARS = 8_192;
/** Longest text counted whole, in characters: the sample's size, so an estimate never reads more than a count would. */
export const TOKEN_EXACT_MAX_CHARS = TOKEN_SAMPLE_CHARS;
/** Stretches the sample is made of. */
export const TOKEN_SAMPLE_STRETCHES = 8;

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * Counts of the last texts counted. A turn's texts are counted twice: the provider counts the prompt and the
 * reply for usage, memory counts the user and assistant messages for the context's limits (the local
 * provider's whole reply, ~2 % of a turn's CPU, was counted twice). Long texts too: the local model's echo of a
 * message over the context's byte limit (its ~32 KB summary) is counted for usage and again as the stored reply,
 * an estimate each (~1 ms). The memo keeps texts of up to MEMO_TEXT_MAX_CHARS, MEMO_TOTAL_CHARS in all, so it
 * never holds a large message alive.
 */
const MEMO_ENTRIES = 64;
const MEMO_TEXT_MAX_CHARS = 65_536;
const MEMO_TOTAL_CHARS = 262_144;
const memo = new Map<string, number>();
let memoChars = 0;

/** Tokens of `text` in the tokenizer's encoding; estimated past TOKEN_EXACT_MAX_CHARS. */
export function countTokens(text: string): number {
  if (text === '') return 0;
  const kept = text.length <= MEMO_TEXT_MAX_CHARS;
  const known = kept ? memo.get(text) : undefined;
  if (known !== undefined) return known;
  const tokens = text.length > TOKEN_EXACT_MAX_CHARS ? estimate(text) : countUncached(text);
  if (kept) remember(text, tokens);
  return tokens;
}

/** Runs of letters and digits: cl100k_base makes at least one token of each (see tokensAtLeast). */
const LETTER_OR_DIGIT_RUN = /[\p{L}\p{N}]+/gu;

/**
 * A lower bound of countTokens(text), far cheaper than the count: a caller that only needs to know whether a
 * text fits a budget can skip counting one that cannot. The encoding's pre-tokenizer splits text into pieces
 * that each hold letters or digits of at most one run of them (a letter run, a group of up to three digits, a
 * contraction), and every run lands in some piece, so a text has at least as many tokens as runs. Counting in
 * pieces (TOKEN_PIECE_CHARS) only adds tokens. An estimated count (past TOKEN_EXACT_MAX_CHARS) has no such
 * floor, so there the bound is 0.
 */
export function tokensAtLeast(text: string): number {
  if (text.length > TOKEN_EXACT_MAX_CHARS) return 0;
  LETTER_OR_DIGIT_RUN.lastIndex = 0;
  let runs = 0;
  while (LETTER_OR_DIGIT_RUN.test(text)) runs += 1;
  return runs;
}

/**
 * A copy of `text` that shares no memory with it. V8 makes `slice()` of a long string a view of the whole string it
 * was cut from: a memoized text, or a pre-token left in the tokenizer's merge cache (up to 100,000 of them, kept
 * across calls) would keep the whole message it came from alive. Fuzzing with 10-200 KB messages left ~8 MB of
 * them after 300 turns. A UTF-16 round trip copies any string exactly (lone surrogates too).
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

function remember(text: string, tokens: number): void {
  memo.set(ownCopy(text), tokens);
  memoChars += text.length;
  for (const oldest of memo.keys()) {
    if (memo.size <= MEMO_ENTRIES && memoChars <= MEMO_TOTAL_CHARS) return;
    memo.delete(oldest);
    memoChars -= oldest.length;
  }
}

/** The count of TOKEN_SAMPLE_CHARS of the text, in stretches from its start to its end, scaled to its length. */
function estimate(text: string): number {
  let tokens = 0;
  let chars = 0;
  for (const stretch of stretches(text, Math.floor(TOKEN_SAMPLE_CHARS / TOKEN_SAMPLE_STRETCHES), TOKEN_SAMPLE_STRETCHES, { snap: false })) {
    tokens += countUncached(stretch);
    chars += stretch.length;
  }
  return chars === 0 ? 0 : Math.ceil((tokens * text.length) / chars);
}

function countUncached(text: string): number {
  const count = tokenizer();
  if (text.length <= TOKEN_PIECE_CHARS) return count(ownCopy(text), PLAIN_TEXT);
  let total = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + TOKEN_PIECE_CHARS);
    if (end < text.length) {
      // Cut after the last whitespace in the piece when there is one, so words stay whole.
      const space = text.lastIndexOf(' ', end);
      if (space > start) end = space + 1;
    }
    total += count(ownCopy(text.slice(start, end)), PLAIN_TEXT);
    start = end;
  }
  return total;
}
