/**
 * Hundreds of mixed operations at one session's context, interleaved by random delays (seeded, so a
 * failure replays), with runs holding leases the whole time; every invariant is checked afterwards.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ContextItem, OpResult } from '../../memory/memory-types.js';
import type { Lease } from '../../memory/session-context.js';
import { testContext, turn } from '../helpers/memory-items.js';

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const OPERATIONS = 600;
const LIMITS = { maxItems: 40, maxTokens: 600, maxMessageBytes: 300 };

describe('SessionContext under concurrent operations', () => {
  it('keeps every invariant through 600 mixed operations with runs holding leases', async () => {
    const random = prng(20_261_121);
    const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
    const { context, changes } = testContext(LIMITS, { trace: true });
    const evicted = new Map<string, ContextItem>();
    const leaseViolations: string[] = [];
    const pending: Promise<unknown>[] = [];
    let nextText = 0;
    const words = ['deploy', 'kubernetes', 'budget', 'lunch', 'invoice', 'meeting', 'rollback', 'latency'];
    const sentence = (): string => `${pick(words)} ${pick(words)} item ${nextText++} ${random() < 0.05 ? 'x'.repeat(400) : ''}`.trim();

    const holdLease = async (): Promise<void> => {
      const own = context.items.filter((item) => item.role === 'user').at(-1);
      const lease: Lease = context.lease(own?.id);
      await sleep(Math.floor(random() * 5));
      for (const item of lease.items) if (context.get(item.id) !== item) leaseViolations.push(item.id);
      lease.release();
    };

    const operations: (() => Promise<unknown> | void)[] = [
      () => context.append(turn(sentence(), random() < 0.5 ? 'user' : 'assistant')),
      () => context.append(turn(sentence(), 'user')),
      () => holdLease(),
      async () => {
        const target = pick(context.items);
        if (target) return context.update(target.id, sentence());
      },
      async () => {
        const targets = context.items.slice(0, 1 + Math.floor(random() * 3));
        const result = await context.evict(targets.map((item) => item.id));
        for (const item of targets) if (result.ids.includes(item.id)) evicted.set(item.id, item);
      },
      async () => {
        const sources = context.items.slice(0, 2 + Math.floor(random() * 4));
        await sleep(Math.floor(random() * 3));
        return context.summarize(sources, { text: `summary of ${sources.length}`, method: 'extractive' });
      },
      async () => {
        const back = pick([...evicted.values()]);
        if (back === undefined) return;
        evicted.delete(back.id);
        return context.load([back]);
      },
      async () => {
        const target = pick(context.items);
        if (target) return context.forget([target.id]);
      },
    ];

    for (let i = 0; i < OPERATIONS; i++) {
      const operation = pick(operations) as () => Promise<unknown> | void;
      const result = operation();
      if (result instanceof Promise) pending.push(result);
      if (random() < 0.3) await sleep(0);
    }
    const results = (await Promise.all(pending)) as (OpResult | undefined)[];

    // 1. No operation was applied to an item a run held, and every lease saw its items unchanged to its end.
    expect(context.trace().filter((entry) => entry.pinned.length > 0)).toEqual([]);
    expect(leaseViolations).toEqual([]);
    // 2. Nothing is left waiting, and every operation settled.
    expect(context.waiting).toBe(0);
    expect(results.length).toBe(pending.length);
    // 3. Ids are unique, in anchor order, tokens add up, lookups agree.
    const items = context.items;
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    expect(items.map((item) => item.anchor)).toEqual([...items.map((item) => item.anchor)].sort());
    expect(context.tokens).toBe(items.reduce((sum, item) => sum + item.tokens, 0));
    for (const item of items) expect(context.get(item.id)).toBe(item);
    // 4. Limits hold once no run holds anything; no item is larger than allowed.
    expect(context.size).toBeLessThanOrEqual(LIMITS.maxItems);
    expect(context.tokens).toBeLessThanOrEqual(LIMITS.maxTokens);
    for (const item of items) expect(Buffer.byteLength(item.text)).toBeLessThanOrEqual(LIMITS.maxMessageBytes);
    // 5. Replaying the reported changes gives exactly the context (what persistence relies on).
    const replay = new Map<string, ContextItem | undefined>();
    for (const change of changes) {
      if (change.op === 'evict' || change.op === 'forget') for (const id of change.ids) replay.delete(id);
      if (change.op === 'summarize') for (const id of change.ids) replay.delete(id);
      for (const item of change.items) replay.set(item.id, item);
    }
    expect([...replay.keys()].sort()).toEqual(items.map((item) => item.id).sort());
    // 6. A summary's sources are out of the context unless an explicit LOAD brought one back.
    const loaded = new Set(changes.filter((c) => c.op === 'load').flatMap((c) => c.ids));
    for (const summary of items.filter((item) => item.kind === 'summary')) {
      for (const source of summary.summaryOf ?? []) if (!loaded.has(source)) expect(context.has(source)).toBe(false);
    }
    // The run really was concurrent: operations waited for leases and summaries went stale.
    expect(changes.filter((c) => c.op === 'summarize').length).toBeGreaterThan(5);
  });
});
