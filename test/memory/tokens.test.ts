import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countTokens, TOKEN_EXACT_MAX_CHARS, TOKEN_PIECE_CHARS, TOKEN_SAMPLE_CHARS, tokensAtLeast } from '../../memory/tokens.js';

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

  it('estimates a text past TOKEN_EXACT_MAX_CHARS from stretches across it, close to the whole count', () => {
    // Prose, then JSON, then code: a sample of the head alone is off by far more where the text changes kind.
    const prose = 'The deploy failed because the certificate expired, so renew it before Friday. '.repeat(500);
    const json = JSON.stringify(Array.from({ length: 600 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'], price: i * 1.25 })), null, 2);
    const code = 'export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n'.repeat(500);
    const mixed = prose + json + code;
    expect(mixed.length).toBeGreaterThan(10 * TOKEN_EXACT_MAX_CHARS);
    expect(Math.abs(countTokens(mixed) - exact(mixed)) / exact(mixed)).toBeLessThan(0.03);
    const headOnly = Math.ceil((exact(mixed.slice(0, TOKEN_SAMPLE_CHARS)) * mixed.length) / TOKEN_SAMPLE_CHARS);
    expect(Math.abs(headOnly - exact(mixed)) / exact(mixed)).toBeGreaterThan(0.1);
    // Text as the sample goes on: the estimate is closer still.
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(Math.ceil((TOKEN_EXACT_MAX_CHARS * 3) / 45));
    expect(Math.abs(countTokens(text) - exact(text)) / exact(text)).toBeLessThan(0.01);
    // Up to the limit, the count is exact (in pieces).
    const atLimit = 'x'.repeat(TOKEN_EXACT_MAX_CHARS);
    expect(countTokens(atLimit)).toBe(Math.ceil(TOKEN_EXACT_MAX_CHARS / TOKEN_PIECE_CHARS) * exact('x'.repeat(TOKEN_PIECE_CHARS)));
  });
});

/** Text as chats have it and worse: words, long digit runs, contractions, accents (composed and not), scripts without spaces, astral letters, emoji, punctuation, line breaks. */
const PIECES = ['word', ' ', ' ', '\n', '1234567', "don't", "we'll", 'naïve', 'cafe\u0301', 'İstanbul', '東京', '\u{1D400}', '😀', '...', '-', '_', "'", '\t', 'x-ray'];
const chatLike = fc.array(fc.constantFrom(...PIECES), { maxLength: 120 }).map((pieces) => pieces.join(''));

describe('tokensAtLeast', () => {
  it('is never more than the count, for any text counted exactly', () => {
    fc.assert(
      fc.property(fc.oneof(chatLike, fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        expect(tokensAtLeast(text)).toBeLessThanOrEqual(countTokens(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it('holds where the count is taken in pieces (cuts inside runs and surrogate pairs), and is 0 for an estimate', () => {
    for (const text of ['ab1-'.repeat(400), '\u{1D400}-'.repeat(2_000), 'é'.repeat(TOKEN_EXACT_MAX_CHARS)]) {
      expect(text.length).toBeGreaterThan(TOKEN_PIECE_CHARS);
      expect(tokensAtLeast(text)).toBeGreaterThan(0);
      expect(tokensAtLeast(text)).toBeLessThanOrEqual(countTokens(text));
    }
    expect(tokensAtLeast('a '.repeat(TOKEN_EXACT_MAX_CHARS))).toBe(0);
    expect(tokensAtLeast('two words')).toBe(2);
  });
});
