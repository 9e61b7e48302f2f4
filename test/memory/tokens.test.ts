import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { countTokens, TOKEN_EXACT_MAX_CHARS, TOKEN_PIECE_CHARS, TOKEN_SAMPLE_CHARS } from '../../memory/tokens.js';

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

  it('estimates a text past TOKEN_EXACT_MAX_CHARS from its first TOKEN_SAMPLE_CHARS: the rest is never tokenized', () => {
    const words = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(TOKEN_SAMPLE_CHARS / 27) + 1);
    const sample = words.slice(0, TOKEN_SAMPLE_CHARS);
    // A sample of words, then a megabyte of one emoji: counted whole that is ~500,000 tokens and seconds of work.
    const text = sample + '😀'.repeat(500_000);
    expect(countTokens(text)).toBe(Math.ceil((countTokens(sample) * text.length) / sample.length));
    // Text as the sample goes on: the estimate is close to the exact count.
    const prose = 'the quick brown fox jumps over the lazy dog. '.repeat(Math.ceil((TOKEN_EXACT_MAX_CHARS * 3) / 45));
    expect(Math.abs(countTokens(prose) - exact(prose)) / exact(prose)).toBeLessThan(0.01);
    // Up to the limit, the count is exact (in pieces).
    const atLimit = 'x'.repeat(TOKEN_EXACT_MAX_CHARS);
    expect(countTokens(atLimit)).toBe(Math.ceil(TOKEN_EXACT_MAX_CHARS / TOKEN_PIECE_CHARS) * exact('x'.repeat(TOKEN_PIECE_CHARS)));
  });

  it('does not cut a surrogate pair at the end of the sample', () => {
    const text = `${'a'.repeat(TOKEN_SAMPLE_CHARS - 1)}${'😀'.repeat(TOKEN_EXACT_MAX_CHARS)}`;
    // Character TOKEN_SAMPLE_CHARS - 1 is the first half of an emoji: the sample stops before it.
    const sample = text.slice(0, TOKEN_SAMPLE_CHARS - 1);
    expect(countTokens(text)).toBe(Math.ceil((countTokens(sample) * text.length) / sample.length));
  });
});
