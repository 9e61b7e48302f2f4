import { describe, expect, it } from 'vitest';
import { OVERSIZE_SOURCE_FACTOR, oversizeSummary } from '../../memory/extractive-summary.js';

describe('oversizeSummary', () => {
  it('fits the byte budget and draws only from the head of the message', () => {
    const head = 'The deploy failed because the certificate expired. Renew the certificate before Friday. ';
    const tail = 'Zebra quokka narwhal axolotl. '.repeat(10_000);
    const budget = 1_024;
    const text = `${head.repeat(Math.ceil((OVERSIZE_SOURCE_FACTOR * budget) / head.length))}${tail}`;
    const summary = oversizeSummary(text, budget);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(budget);
    expect(summary).toContain('certificate');
    expect(summary).not.toMatch(/quokka/);
  });

  it.each([
    ['ASCII', 'lorem ipsum dolor sit amet '],
    ['multi-byte', 'héllo wörld ñandú 東京 '],
  ])('cuts one long sentence (%s) at the last word that fits the byte budget', (_case, words) => {
    const text = words.repeat(10_000);
    const budget = 1_000;
    const summary = oversizeSummary(text, budget);
    expect(summary.endsWith('…')).toBe(true);
    expect(text.startsWith(summary.slice(0, -1))).toBe(true);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(budget);
    // One more word would not fit: the cut is within a word (and its space) of the budget.
    const next = text.slice(summary.length - 1).match(/^\s*\S+/)?.[0] ?? '';
    expect(Buffer.byteLength(`${summary.slice(0, -1)}${next}…`)).toBeGreaterThan(budget);
  });

  it.each([
    ['base64', 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/'],
    ['emoji and CJK', '😀東京ñ'],
  ])('cuts text with no word boundary (%s) by whole code points within the byte budget', (_case, unit) => {
    const text = unit.repeat(20_000);
    const budget = 1_000;
    const summary = oversizeSummary(text, budget);
    expect(summary.endsWith('…')).toBe(true);
    expect(text.startsWith(summary.slice(0, -1))).toBe(true);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(budget);
    // No code point split, and the next one would not fit.
    const next = String.fromCodePoint(text.codePointAt(summary.length - 1) ?? 0);
    expect(Buffer.byteLength(`${summary.slice(0, -1)}${next}…`)).toBeGreaterThan(budget);
  });
});
