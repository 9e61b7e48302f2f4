import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BatchWriter, SLICE_MS } from '../../memory/batch-writer.js';
import { openStore, type Store } from '../../memory/store.js';

const INTERVAL_MS = 30;

/** A store whose transactions are counted, and a writer on it with a short interval. */
function fixture(): { store: Store; writer: BatchWriter; transactions: () => number } {
  const store = openStore(':memory:');
  let transactions = 0;
  const counted: Store = Object.create(store, {
    transaction: { value: <T>(fn: () => T): T => {
      transactions += 1;
      return store.transaction(fn);
    } },
  }) as Store;
  const writer = new BatchWriter(counted, INTERVAL_MS, pino({ level: 'silent' }), { index: true });
  onTestFinished(() => {
    writer.close();
    store.close();
  });
  return { store, writer, transactions: () => transactions };
}

/** A write that takes `ms` of CPU and records its name. */
function slow(log: string[], name: string, ms: number): () => void {
  return () => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    log.push(name);
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('BatchWriter', () => {
  it('writes a timed batch in slices of about SLICE_MS, each its own transaction, in order', async () => {
    const { writer, transactions } = fixture();
    const log: string[] = [];
    for (let i = 0; i < 10; i++) writer.add(slow(log, `w${i}`, SLICE_MS / 2));
    writer.snapshot('a', slow(log, 'snapshot a', SLICE_MS / 2));
    writer.snapshot('a', slow(log, 'snapshot a2', SLICE_MS / 2));
    await expect.poll(() => log.length, { timeout: 2_000 }).toBe(11);
    expect(log).toEqual([...Array.from({ length: 10 }, (_, i) => `w${i}`), 'snapshot a2']);
    // 11 writes of SLICE_MS/2 each: at most ~3 per slice (a slice ends after the write that crosses it).
    expect(transactions()).toBeGreaterThanOrEqual(4);
    expect(writer.size).toBe(0);
  });

  it('lets the event loop run between two slices', async () => {
    const { writer } = fixture();
    const log: string[] = [];
    for (let i = 0; i < 20; i++) writer.add(slow(log, `w${i}`, 1));
    let turns = 0;
    const tick = setInterval(() => {
      turns += 1;
    }, 0);
    await expect.poll(() => log.length, { timeout: 2_000 }).toBe(20);
    clearInterval(tick);
    expect(turns).toBeGreaterThan(2);
  });

  it('flush() during a timed batch writes its rest first, then what was queued since, in one transaction', async () => {
    const { writer, transactions } = fixture();
    const log: string[] = [];
    for (let i = 0; i < 10; i++) writer.add(slow(log, `old${i}`, SLICE_MS / 2));
    writer.snapshot('s', () => log.push('snapshot old'));
    // Wait for the first slice: the timer fired and some of the old writes are done.
    await expect.poll(() => log.length, { timeout: 2_000, interval: 1 }).toBeGreaterThan(0);
    expect(log.length).toBeLessThan(10);
    writer.add(() => log.push('new'));
    writer.snapshot('s', () => log.push('snapshot new'));
    const before = transactions();
    writer.flush();
    expect(transactions()).toBe(before + 1);
    expect(log).toEqual([...Array.from({ length: 10 }, (_, i) => `old${i}`), 'new', 'snapshot new']);
    await sleep(INTERVAL_MS * 2);
    expect(log.length).toBe(12);
  });

  it('a snapshot queued while a timed batch is written is kept for the next batch', async () => {
    const { writer } = fixture();
    const log: string[] = [];
    for (let i = 0; i < 6; i++) writer.add(slow(log, `w${i}`, SLICE_MS));
    writer.snapshot('s', () => log.push('snapshot 1'));
    await expect.poll(() => log.length, { timeout: 2_000, interval: 1 }).toBeGreaterThan(0);
    writer.snapshot('s', () => log.push('snapshot 2'));
    await expect.poll(() => log.at(-1), { timeout: 2_000 }).toBe('snapshot 2');
    expect(log.filter((entry) => entry.startsWith('snapshot'))).toEqual(['snapshot 1', 'snapshot 2']);
  });

  it('a failed transaction is logged and its batch dropped; later batches are written', async () => {
    const { writer } = fixture();
    const log: string[] = [];
    writer.add(() => {
      throw new Error('boom');
    });
    writer.add(() => log.push('dropped'));
    await sleep(INTERVAL_MS * 3);
    writer.add(() => log.push('later'));
    await expect.poll(() => log, { timeout: 2_000 }).toEqual(['later']);
  });
});
