import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContextItem } from '../../memory/memory-types.js';
import { LIMIT_EVICTION_REASON, OVERSIZE_REASON } from '../../memory/session-context.js';
import { countTokens } from '../../memory/tokens.js';
import { testContext, turn } from '../helpers/memory-items.js';

describe('SessionContext', () => {
  it('APPEND keeps items in MemoryID order with their cached token counts', () => {
    const { context } = testContext();
    const a = turn('first message');
    const b = turn('second message', 'assistant');
    context.append(b);
    context.append(a);
    expect(context.items.map((item) => item.id)).toEqual([a.id, b.id]);
    expect(context.tokens).toBe(countTokens('first message') + countTokens('second message'));
    context.append(a);
    expect(context.size).toBe(2);
  });

  it('summarizes a message longer than maxMessageBytes to fit, keeping its role and place, never failing', () => {
    const { context, changes } = testContext({ maxMessageBytes: 200 });
    const long = turn(Array.from({ length: 40 }, (_, i) => `Sentence number ${i} talks about deployment ${i % 3}.`).join(' '));
    context.append(long);
    const [summary] = context.items;
    expect(summary).toMatchObject({ kind: 'summary', role: 'user', summaryOf: [long.id], anchor: long.id });
    expect(Buffer.byteLength(summary?.text ?? '')).toBeLessThanOrEqual(200);
    expect(changes.map((c) => c.op)).toEqual(['append', 'summarize']);
    expect(changes[1]?.reason).toBe(OVERSIZE_REASON);
  });

  it('evicts the least recently touched items past maxItems, never the newest one', () => {
    const { context, changes } = testContext({ maxItems: 3 });
    const items = [turn('one'), turn('two'), turn('three'), turn('four'), turn('five')];
    for (const item of items) context.append(item);
    expect(context.items.map((item) => item.text)).toEqual(['three', 'four', 'five']);
    const evictions = changes.filter((c) => c.op === 'evict');
    expect(evictions.flatMap((c) => c.ids)).toEqual([items[0]?.id, items[1]?.id]);
    expect(evictions.every((c) => c.reason === LIMIT_EVICTION_REASON)).toBe(true);
  });

  it('evicts by when an item was last touched, not by its place: an updated old item outlives newer ones', async () => {
    const { context, changes } = testContext({ maxItems: 3 });
    const [one, two, three] = [turn('one'), turn('two'), turn('three')];
    for (const item of [one, two, three]) context.append(item);
    await context.update(one.id, 'one, edited');
    context.append(turn('four'));
    context.append(turn('five'));
    expect(changes.filter((c) => c.op === 'evict').flatMap((c) => c.ids)).toEqual([two.id, three.id]);
    expect(context.items.map((item) => item.text)).toEqual(['one, edited', 'four', 'five']);
  });

  it('evicts past maxTokens and keeps the newest item even when it alone is over', () => {
    const { context } = testContext({ maxTokens: 12 });
    context.append(turn('alpha beta gamma delta'));
    context.append(turn('epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma'));
    expect(context.size).toBe(1);
    expect(context.items[0]?.text).toMatch(/^epsilon/);
  });

  it('never evicts a pinned item; the limit is enforced again when the lease is released', () => {
    const { context } = testContext({ maxItems: 2 });
    const a = turn('a');
    const b = turn('b');
    context.append(a);
    context.append(b);
    const lease = context.lease(b.id);
    context.append(turn('c'));
    expect(context.size).toBe(3);
    lease.release();
    expect(context.size).toBe(2);
    expect(context.has(a.id)).toBe(false);
    lease.release();
  });

  it('a lease leaves out user turns queued after the run and puts the run\'s own user turn last', () => {
    const { context } = testContext();
    const u1 = turn('question one');
    const u2 = turn('question two');
    const a1 = turn('answer one', 'assistant');
    for (const item of [u1, u2, a1]) context.append(item);
    const lease = context.lease(u2.id);
    expect(lease.items.map((item) => item.text)).toEqual(['question one', 'answer one', 'question two']);
    const earlier = context.lease(u1.id);
    expect(earlier.items.map((item) => item.text)).toEqual(['answer one', 'question one']);
  });

  it('a lease is every item but the own turn and the user turns after it, then the own turn, whatever the mix', () => {
    // Turns of both roles, some too long (each becomes a summary anchored where the message was), appended in a
    // shuffled order; every user turn is leased. The expected lease is the rule written as a plain filter.
    const entry = fc.record({ role: fc.constantFrom<'user' | 'assistant'>('user', 'assistant'), long: fc.boolean() });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 25 }), fc.infiniteStream(fc.nat()), (entries, order) => {
        const { context } = testContext({ maxMessageBytes: 120, maxItems: 100 });
        const base = Date.now();
        const made = entries.map((e, i) => turn(e.long ? `${'long message text '.repeat(12)}${i}` : `message ${i}`, e.role, base + i));
        const shuffled = [...made];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (order.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as ContextItem, shuffled[i] as ContextItem];
        }
        for (const item of shuffled) context.append(item);
        for (const user of made.filter((item) => item.role === 'user')) {
          const own = context.get(user.id);
          const expected = context.items.filter((item) => item !== own && !(item.kind === 'turn' && item.role === 'user' && item.id > user.id));
          if (own !== undefined) expected.push(own);
          const lease = context.lease(user.id);
          expect(lease.items).toEqual(expected);
          lease.release();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('UPDATE replaces the item under the same id; a run holding the old one waits, then sees nothing change', async () => {
    const { context } = testContext();
    const a = turn('old text');
    context.append(a);
    const lease = context.lease(a.id);
    let applied = false;
    const done = context.update(a.id, 'new text').then((r) => (applied = r.applied));
    await Promise.resolve();
    expect(applied).toBe(false);
    expect(lease.items[0]?.text).toBe('old text');
    expect(context.get(a.id)?.text).toBe('old text');
    lease.release();
    await done;
    expect(applied).toBe(true);
    expect(context.get(a.id)).toMatchObject({ id: a.id, text: 'new text', tokens: countTokens('new text') });
  });

  it('EVICT removes items and reports them; absent ids are skipped', async () => {
    const { context, changes } = testContext();
    const a = turn('a');
    context.append(a);
    expect(await context.evict([a.id, 'nope'], 'test')).toEqual({ applied: true, ids: [a.id] });
    expect(await context.evict([a.id])).toMatchObject({ applied: false });
    expect(changes.at(-1)).toMatchObject({ op: 'evict', ids: [a.id], reason: 'test' });
  });

  it('SUMMARIZE puts one summary where its sources were; a source changed meanwhile makes it stale', async () => {
    const { context } = testContext();
    const [a, b, c] = [turn('alpha'), turn('beta', 'assistant'), turn('gamma')];
    for (const item of [a, b, c]) if (item) context.append(item);
    const sources = context.items.slice(0, 2);
    const result = await context.summarize(sources, { text: 'alpha and beta', method: 'extractive' });
    expect(result.applied).toBe(true);
    expect(context.items.map((item) => item.text)).toEqual(['alpha and beta', 'gamma']);
    expect(context.items[0]).toMatchObject({ kind: 'summary', summaryOf: [a?.id, b?.id], anchor: a?.id, role: undefined });
    const stale = context.items;
    await context.update(c?.id ?? '', 'gamma changed');
    expect(await context.summarize(stale, { text: 'x', method: 'extractive' })).toMatchObject({ applied: false, reason: 'stale' });
  });

  it('LOAD brings items back in their place, fresh for the eviction order', async () => {
    const { context } = testContext({ maxItems: 3 });
    const [a, b, c] = [turn('a'), turn('b'), turn('c')];
    for (const item of [a, b, c]) if (item) context.append(item);
    await context.evict([a?.id ?? '']);
    await context.load([a!]);
    expect(context.items.map((item) => item.text)).toEqual(['a', 'b', 'c']);
    context.append(turn('d'));
    expect(context.items.map((item) => item.text)).toEqual(['a', 'c', 'd']);
  });

  it('FORGET removes items, waiting for a run that holds them', async () => {
    const { context } = testContext();
    const a = turn('secret');
    context.append(a);
    const lease = context.lease(a.id);
    const pending = context.forget([a.id]);
    expect(context.has(a.id)).toBe(true);
    lease.release();
    expect(await pending).toEqual({ applied: true, ids: [a.id] });
    expect(context.has(a.id)).toBe(false);
  });

  it('an operation waiting for a pinned item does not hold up operations on other items, and keeps per-item order', async () => {
    const { context } = testContext();
    const [a, b] = [turn('a'), turn('b')];
    context.append(a);
    context.append(b);
    const lease = context.lease(a.id);
    const order: string[] = [];
    const first = context.update(a.id, 'a1').then(() => order.push('update a'));
    const second = context.evict([a.id]).then(() => order.push('evict a'));
    const other = context.update(b.id, 'b1').then(() => order.push('update b'));
    await other;
    expect(order).toEqual(['update b']);
    lease.release();
    await Promise.all([first, second]);
    expect(order).toEqual(['update b', 'update a', 'evict a']);
  });
});
