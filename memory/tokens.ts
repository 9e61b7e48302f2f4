/**
 * Token counts for the active context's limits, from a real BPE tokenizer: `cl100k_base` (the GPT-4 /
 * GPT-3.5 encoding) via gpt-tokenizer. For other vendors' models the count is an estimate, close but not
 * exact. Text that looks like a special token (`<|endoftext|>`) is counted as plain text, never refused.
 */
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/** Name of the encoding the counts come from (shown in docs and /status). */
export const TOKENIZER_ENCODING = 'cl100k_base';

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Tokens of `text` in the tokenizer's encoding. */
export function countTokens(text: string): number {
  if (text === '') return 0;
  return countCl100k(text, PLAIN_TEXT);
}
