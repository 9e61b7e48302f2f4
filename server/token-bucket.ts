/**
 * Token buckets: a bucket holds up to `burst` tokens and gains `perSecond` tokens a second; each allowed action
 * takes one. `take` answers 0 when the action may go ahead, else how long to wait (ms) until a token is there,
 * which becomes the `retryAfterMs` a limited client is told. Time comes from the caller, so tests need no clock.
 */

export interface BucketRate {
  /** Most tokens the bucket holds (the burst allowed after a quiet period). */
  readonly burst: number;
  /** Tokens added per second. */
  readonly perSecond: number;
}

export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  constructor(
    private readonly rate: BucketRate,
    now: number,
  ) {
    this.#tokens = rate.burst;
    this.#updatedAt = now;
  }

  /** Takes a token: 0 when one was there, else the ms until one will be (nothing is taken then). */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return this.#waitMs();
  }

  /** Ms until a token is there without taking one (0: there is one now). */
  peek(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : this.#waitMs();
  }

  /** True when the bucket is back to full: it holds nothing a fresh bucket would not. */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.rate.burst;
  }

  #refill(now: number): void {
    const elapsedMs = now - this.#updatedAt;
    if (elapsedMs > 0) {
      this.#tokens = Math.min(this.rate.burst, this.#tokens + (elapsedMs * this.rate.perSecond) / 1000);
      this.#updatedAt = now;
    }
  }

  #waitMs(): number {
    // A bucket that never refills (perSecond 0) waits "forever"; one day is the longest honest answer.
    if (this.rate.perSecond <= 0) return DAY_MS;
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.rate.perSecond));
  }
}

const DAY_MS = 86_400_000;

/** Keys tracked by a KeyedBuckets before full buckets are swept out. */
export const KEYED_BUCKETS_MAX_KEYS = 65_536;
/** A sweep of full buckets runs once every this many `take`/`peek` calls. */
export const KEYED_BUCKETS_SWEEP_EVERY = 4_096;

/**
 * One bucket per key (an IP address). A full bucket equals a fresh one, so buckets that refilled are swept
 * out; past `maxKeys` the oldest keys go first, so the map never grows without bound (an attacker cycling
 * through many addresses then resets its own buckets, which is the price of bounded memory).
 */
export class KeyedBuckets {
  readonly #buckets = new Map<string, TokenBucket>();
  #calls = 0;

  constructor(
    private readonly rate: BucketRate,
    private readonly maxKeys = KEYED_BUCKETS_MAX_KEYS,
  ) {}

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, now: number): number {
    return this.#bucket(key, now).take(now);
  }

  /** Ms until `key` may act again, without taking a token; 0 for a key never seen. */
  peek(key: string, now: number): number {
    this.#maybeSweep(now);
    return this.#buckets.get(key)?.peek(now) ?? 0;
  }

  /** Forgets every bucket (the owner closes). */
  clear(): void {
    this.#buckets.clear();
  }

  #bucket(key: string, now: number): TokenBucket {
    this.#maybeSweep(now);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.maxKeys) this.#sweep(now);
      bucket = new TokenBucket(this.rate, now);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #maybeSweep(now: number): void {
    this.#calls += 1;
    if (this.#calls % KEYED_BUCKETS_SWEEP_EVERY === 0) this.#sweep(now);
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(key);
    // Still too many: drop the oldest keys (Map iteration is insertion order).
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}
