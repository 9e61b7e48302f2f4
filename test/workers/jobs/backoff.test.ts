import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../workers/jobs/backoff.js';

const policy = { baseMs: 1_000, maxMs: 60_000 };

describe('backoffDelayMs', () => {
  it('doubles per failed attempt, within the upper half of the nominal wait (equal jitter)', () => {
    for (const [attempts, nominal] of [[1, 1_000], [2, 2_000], [3, 4_000], [4, 8_000]] as const) {
      expect(backoffDelayMs(attempts, policy, () => 0)).toBe(nominal / 2);
      expect(backoffDelayMs(attempts, policy, () => 1)).toBe(nominal);
      const sample = backoffDelayMs(attempts, policy);
      expect(sample).toBeGreaterThanOrEqual(nominal / 2);
      expect(sample).toBeLessThanOrEqual(nominal);
    }
  });

  it('never waits longer than maxMs, however many attempts failed', () => {
    expect(backoffDelayMs(30, policy, () => 1)).toBe(60_000);
    expect(backoffDelayMs(10_000, policy, () => 1)).toBe(60_000);
  });

  it('spreads retries of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(3, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
