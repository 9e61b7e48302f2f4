import { describe, expect, it } from 'vitest';
import { KEYED_BUCKETS_SWEEP_EVERY, KeyedBuckets, TokenBucket } from '../../server/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const bucket = new TokenBucket({ burst: 3, perSecond: 10 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(40)).toBe(60);
    expect(bucket.take(100)).toBe(0);
    expect(bucket.take(100)).toBe(100);
  });

  it('refills at its rate and never beyond its burst', () => {
    const bucket = new TokenBucket({ burst: 2, perSecond: 1 }, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.full(10_000)).toBe(true);
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([0, 0, 1000]);
  });

  it('peek tells the wait without taking a token', () => {
    const bucket = new TokenBucket({ burst: 1, perSecond: 2 }, 0);
    expect(bucket.peek(0)).toBe(0);
    expect(bucket.peek(0)).toBe(0);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.peek(0)).toBe(500);
    expect(bucket.peek(250)).toBe(250);
  });

  it('answers at least 1 ms while it is empty, and rounds waits up', () => {
    const bucket = new TokenBucket({ burst: 1, perSecond: 3 }, 0);
    bucket.take(0);
    expect(bucket.take(0)).toBe(334);
    expect(bucket.take(333)).toBe(1);
  });

  it('lets a steady client at its rate through forever', () => {
    const bucket = new TokenBucket({ burst: 1, perSecond: 100 }, 0);
    for (let t = 0; t < 10_000; t += 10) expect(bucket.take(t)).toBe(0);
  });
});

describe('KeyedBuckets', () => {
  it('keeps one bucket per key', () => {
    const buckets = new KeyedBuckets({ burst: 1, perSecond: 1 });
    expect(buckets.take('a', 0)).toBe(0);
    expect(buckets.take('a', 0)).toBe(1000);
    expect(buckets.take('b', 0)).toBe(0);
    expect(buckets.peek('c', 0)).toBe(0);
    expect(buckets.size).toBe(2);
  });

  it('sweeps buckets that refilled, so idle keys cost nothing', () => {
    const buckets = new KeyedBuckets({ burst: 1, perSecond: 1 });
    for (let i = 0; i < 100; i++) buckets.take(`ip-${i}`, 0);
    expect(buckets.size).toBe(100);
    for (let i = 0; i < KEYED_BUCKETS_SWEEP_EVERY; i++) buckets.peek('x', 5_000);
    expect(buckets.size).toBe(0);
  });

  it('never tracks more than maxKeys: the oldest key goes first', () => {
    const buckets = new KeyedBuckets({ burst: 1, perSecond: 1 }, 10);
    for (let i = 0; i < 25; i++) buckets.take(`ip-${i}`, 0);
    expect(buckets.size).toBeLessThanOrEqual(10);
    expect(buckets.take('ip-24', 0)).toBe(1000);
    expect(buckets.take('ip-0', 0)).toBe(0);
  });
});
