import { describe, expect, it } from 'vitest';
import { OVERSIZE_MIN_STRETCH_BYTES, OVERSIZE_SOURCE_FACTOR, OVERSIZE_STRETCHES, oversizeSummary } from '../../memory/oversize-summary.js';
import { stretches } from '../../memory/stretches.js';

/** No half of a surrogate pair left alone (it would not survive UTF-8). */
function wellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

describe('oversizeSummary', () => {
  it('shows the head and the tail verbatim, and samples of the middle, within the byte budget', () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `10:00:${i % 60} INFO worker ${i % 7} finished job ${i} in ${i % 100} ms`);
    lines[15_000] = '10:30:00 WARN middle marker: queue depth 900';
    const text = ['BEGIN deploy of build 4242', ...lines, 'ERROR: database connection refused at db.internal:5432', 'FATAL shutting down'].join('\n');
    const budget = 8_192;
    const summary = oversizeSummary(text, budget);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(budget);
    expect(Buffer.byteLength(summary)).toBeGreaterThan(budget * 0.8);
    expect(summary.startsWith('BEGIN deploy of build 4242\n10:00:0 INFO worker 0 finished job 0 in 0 ms\n')).toBe(true);
    expect(summary.endsWith('finished job 29999 in 99 ms\nERROR: database connection refused at db.internal:5432\nFATAL shutting down')).toBe(true);
    const pieces = summary.split(' … ');
    expect(pieces).toHaveLength(OVERSIZE_STRETCHES);
    // Each middle piece comes from its own part of the message, in order.
    const jobs = pieces.map((piece) => Number(/finished job (\d+)/.exec(piece)?.[1]));
    expect(jobs).toEqual([...jobs].sort((a, b) => a - b));
    expect(new Set(jobs.map((job) => Math.floor(job / 4_000))).size).toBe(OVERSIZE_STRETCHES);
  });

  it('draws from a bounded part of the message, however long it is', () => {
    const budget = 4_096;
    const unique = Array.from({ length: 200_000 }, (_, i) => `w${i}`).join(' ');
    const summary = oversizeSummary(unique, budget);
    const drawn = summary.split(/\s+/).filter((word) => /^w\d+$/.test(word));
    // Every word the summary shows lies in one of the stretches it was drawn from.
    const drawnFrom = stretches(unique, Math.floor((OVERSIZE_SOURCE_FACTOR * budget) / OVERSIZE_STRETCHES), OVERSIZE_STRETCHES);
    const source = new Set(drawnFrom.flatMap((stretch) => stretch.split(/\s+/)));
    expect(drawn.length).toBeGreaterThan(100);
    expect(drawn.every((word) => source.has(word))).toBe(true);
    expect(drawnFrom.join('').length).toBeLessThanOrEqual(OVERSIZE_SOURCE_FACTOR * budget);
  });

  it('draws from the head alone under a budget too small to share', () => {
    const head = 'The deploy failed because the certificate expired. Renew the certificate before Friday. ';
    const tail = 'Zebra quokka narwhal axolotl. '.repeat(10_000);
    const budget = 2 * OVERSIZE_MIN_STRETCH_BYTES - 1;
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

  it.each([
    ['base64', 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/'],
    ['emoji and CJK', '😀東京ñ'],
    ['emoji', '😀'],
  ])('shares the budget among stretches of text with no boundary (%s) without splitting a character', (_case, unit) => {
    const budget = 4_096;
    for (const offset of [0, 1, 2, 3]) {
      const text = `${'x'.repeat(offset)}${unit.repeat(40_000)}`;
      const summary = oversizeSummary(text, budget);
      expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(budget);
      expect(Buffer.byteLength(summary)).toBeGreaterThan(budget * 0.8);
      expect(wellFormed(summary)).toBe(true);
      expect(summary.split(' … ')).toHaveLength(OVERSIZE_STRETCHES);
    }
  });

  it('keeps text with lone surrogates within the byte budget (UTF-8 writes each as U+FFFD, 3 bytes)', () => {
    const budget = 4_096;
    const summary = oversizeSummary('\ud800a\udc00'.repeat(40_000), budget);
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(budget);
    expect(Buffer.byteLength(summary)).toBeGreaterThan(budget * 0.8);
  });
});
