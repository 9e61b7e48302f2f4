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
});
