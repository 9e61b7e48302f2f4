import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { countTokens, TOKEN_PIECE_CHARS } from '../../memory/tokens.js';

const direct = (createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/cl100k_base') as {
  countTokens: (text: string, options: { disallowedSpecial: Set<string> }) => number;
}).countTokens;
const exact = (text: string): number => direct(text, { disallowedSpecial: new Set() });

describe('countTokens', () => {
  it('gives the tokenizer count for a text counted again, also after many other texts (the memo)', () => {
    const texts = Array.from({ length: 200 }, (_, i) => `turn ${i}: ${'word '.repeat(i % 17)}and ✓ unicode ${i * 7919}`);
    for (let round = 0; round < 3; round++) {
      for (const text of texts) expect(countTokens(text)).toBe(exact(text));
      expect(countTokens(texts[3] as string)).toBe(exact(texts[3] as string));
    }
  });

  it('counts special-token text as plain text, and long texts in pieces close to the whole count', () => {
    expect(countTokens('<|endoftext|>')).toBe(exact('<|endoftext|>'));
    const long = 'lorem ipsum dolor sit amet '.repeat(Math.ceil((TOKEN_PIECE_CHARS * 6) / 27));
    // A token or two per cut between pieces.
    const cuts = Math.ceil(long.length / TOKEN_PIECE_CHARS);
    expect(Math.abs(countTokens(long) - exact(long))).toBeLessThanOrEqual(2 * cuts);
    expect(countTokens(long)).toBe(countTokens(long));
  });
});
