/**
 * Token counts for the active context's limits, from a real BPE tokenizer: `cl100k_base` (the GPT-4 /
 * GPT-3.5 encoding) via gpt-tokenizer. For other vendors' models the count is an estimate, close but not
 * exact. Text that looks like a special token (`<|endoftext|>`) is counted as plain text, never refused.
 * BPE merging is quadratic in the length of one pre-token, so a long run without spaces (a pasted blob)
 * is counted in pieces of at most TOKEN_PIECE_CHARS characters: linear time, and the sum differs from a
 * whole-text count by at most a token or so per cut. Linear is still ~0.2–0.6 µs a character on this VM, so
 * a text longer than TOKEN_EXACT_MAX_CHARS is estimated from its first TOKEN_SAMPLE_CHARS, scaled to its
 * length: a count costs a few ms at most, whatever the text. (A fuzzed client sending 1 MB messages kept the
 * event loop busy for over 10 s: contexts restored with such items counted each of them whole.)
 */
import { createRequire } from 'node:module';

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
/** Longest text counted whole, in characters (~32 KB of English, the default `memoryMaxMessageBytes`). */
export const TOKEN_EXACT_MAX_CHARS = 32_768;
/** Characters a longer text's count is estimated from. */
export const TOKEN_SAMPLE_CHARS = 8_192;

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * Counts of the last texts counted. A turn's texts are counted twice: the provider counts the prompt and the
 * reply for usage, memory counts the user and assistant messages for the context's limits (the local
 * provider's whole reply, ~2 % of a turn's CPU, was counted twice). Short texts only, so the memo stays small.
 */
const MEMO_ENTRIES = 64;
const MEMO_MAX_CHARS = 4_096;
const memo = new Map<string, number>();

/** Tokens of `text` in the tokenizer's encoding; estimated past TOKEN_EXACT_MAX_CHARS. */
export function countTokens(text: string): number {
  if (text === '') return 0;
  if (text.length > TOKEN_EXACT_MAX_CHARS) return estimate(text);
  if (text.length > MEMO_MAX_CHARS) return countUncached(text);
  const known = memo.get(text);
  if (known !== undefined) return known;
  const tokens = countUncached(text);
  if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
  memo.set(text, tokens);
  return tokens;
}

/** The count of the text's first TOKEN_SAMPLE_CHARS (not cutting a surrogate pair), scaled to its length. */
function estimate(text: string): number {
  const highSurrogateLast = /[\uD800-\uDBFF]/.test(text.charAt(TOKEN_SAMPLE_CHARS - 1));
  const sample = text.slice(0, highSurrogateLast ? TOKEN_SAMPLE_CHARS - 1 : TOKEN_SAMPLE_CHARS);
  return Math.ceil((countUncached(sample) * text.length) / sample.length);
}

function countUncached(text: string): number {
  const count = tokenizer();
  if (text.length <= TOKEN_PIECE_CHARS) return count(text, PLAIN_TEXT);
  let total = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + TOKEN_PIECE_CHARS);
    if (end < text.length) {
      // Cut after the last whitespace in the piece when there is one, so words stay whole.
      const space = text.lastIndexOf(' ', end);
      if (space > start) end = space + 1;
    }
    total += count(text.slice(start, end), PLAIN_TEXT);
    start = end;
  }
  return total;
}
