/** Exponential backoff with jitter for failed job attempts. */

export interface BackoffPolicy {
  /** Wait before the first retry, in ms; doubled for every further attempt. */
  baseMs: number;
  /** Longest wait, in ms. */
  maxMs: number;
}

/**
 * Wait before the next attempt after `attempts` failed ones (1 after the first failure): "equal jitter", a
 * random point in the upper half of `min(maxMs, baseMs * 2^(attempts-1))`, so retries of jobs that failed
 * together spread out but never come sooner than half the nominal backoff.
 */
export function backoffDelayMs(attempts: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 52));
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
