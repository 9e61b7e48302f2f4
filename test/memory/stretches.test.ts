import { describe, expect, it } from 'vitest';
import { stretches, utf8PrefixEnd, utf8SuffixStart } from '../../memory/stretches.js';

/** No half of a surrogate pair left alone (it would not survive UTF-8). */
function wellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

describe('stretches', () => {
  it('spreads them from the start of the text to its end, in order', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
    for (const snap of [true, false]) {
      const parts = stretches(text, 500, 8, { snap });
      expect(parts).toHaveLength(8);
      expect(text.startsWith(parts[0] as string)).toBe(true);
      expect(text.endsWith(parts[7] as string)).toBe(true);
      let from = 0;
      for (const part of parts) {
        const at = text.indexOf(part, from);
        expect(at).toBeGreaterThanOrEqual(from);
        expect(part.length).toBeLessThanOrEqual(500);
        from = at + part.length;
      }
    }
  });

  it('starts and ends them on line boundaries when they are near, and cuts where they fall without snapping', () => {
    const text = Array.from({ length: 5_000 }, (_, i) => `line ${i} of the log`).join('\n');
    const snapped = stretches(text, 400, 6);
    for (const part of snapped.slice(1)) expect(text[text.indexOf(part) - 1]).toBe('\n');
    for (const part of snapped.slice(0, -1)) expect(text[text.indexOf(part) + part.length - 1]).toBe('\n');
    const raw = stretches(text, 400, 6, { snap: false });
    expect(raw.every((part) => part.length === 400)).toBe(true);
  });

  it.each([
    ['emoji', '😀'],
    ['emoji and CJK', '😀東京ñ'],
    ['emoji with spaces', '😀 😀😀 '],
  ])('never splits a character (%s)', (_case, unit) => {
    for (const offset of [0, 1, 2, 3]) {
      const text = `${'x'.repeat(offset)}${unit.repeat(10_000)}`;
      for (const snap of [true, false]) {
        for (const size of [101, 256, 1_000]) expect(stretches(text, size, 8, { snap }).every(wellFormed)).toBe(true);
      }
    }
  });

  it.each([
    ['ASCII', 'abcdef'],
    ['two- and three-byte', 'éñ東京'],
    ['emoji', '😀x😀'],
    ['lone surrogates', '\ud800a\udc00\udc00\ud800'],
  ])('cuts the longest prefix and suffix within a UTF-8 budget, whole characters only (%s)', (_case, unit) => {
    const text = unit.repeat(50);
    const high = (at: number): boolean => /[\ud800-\udbff]/.test(text.charAt(at));
    const low = (at: number): boolean => /[\udc00-\udfff]/.test(text.charAt(at));
    /** The character (a pair, or one code unit) that starts at `at`, and the one that ends there. */
    const startingAt = (at: number): string => text.slice(at, at + (high(at) && low(at + 1) ? 2 : 1));
    const endingAt = (at: number): string => text.slice(at - (low(at - 1) && high(at - 2) ? 2 : 1), at);
    for (const maxBytes of [0, 1, 2, 3, 4, 5, 7, 64, 1_000, 10_000]) {
      const end = utf8PrefixEnd(text, maxBytes);
      expect(high(end - 1) && low(end)).toBe(false);
      expect(Buffer.byteLength(text.slice(0, end))).toBeLessThanOrEqual(maxBytes);
      if (end < text.length) expect(Buffer.byteLength(text.slice(0, end)) + Buffer.byteLength(startingAt(end))).toBeGreaterThan(maxBytes);
      const start = utf8SuffixStart(text, maxBytes);
      expect(high(start - 1) && low(start)).toBe(false);
      expect(Buffer.byteLength(text.slice(start))).toBeLessThanOrEqual(maxBytes);
      if (start > 0) expect(Buffer.byteLength(endingAt(start)) + Buffer.byteLength(text.slice(start))).toBeGreaterThan(maxBytes);
    }
  });
});
