import { createRequire } from 'node:module';
import { describe, expect, it, onTestFinished } from 'vitest';
import { countTokens } from '../../../memory/tokens.js';
import { ThreadPool } from '../../../workers/pool/thread-pool.js';
import { chunkDocument } from '../../../workers/research/chunker.js';
import { COUNT_IN_THREAD, countInThread } from './fixtures/thread-module.js';

const require = createRequire(import.meta.url);

/** Burns CPU for `ms` in the thread (it cannot be interrupted from inside). */
function spin(input: { ms: number }): number {
  const until = Date.now() + input.ms;
  let n = 0;
  while (Date.now() < until) n += 1;
  return n;
}

describe('ThreadPool', () => {
  it('runs the chunker in a worker thread with the same result as in-process', async () => {
    const pool = new ThreadPool(chunkDocument, 2);
    onTestFinished(() => pool.close());
    const text = ['# Title', 'A first paragraph that is short.', 'x '.repeat(150), 'Last words.'].join('\n\n');
    const input = { text, maxChars: 120 };
    const inThread = await pool.run(input, new AbortController().signal);
    expect(inThread).toEqual(chunkDocument(input, require));
    expect(inThread.every((c) => c.text.length <= 120)).toBe(true);
    expect(inThread.map((c) => c.chunk)).toEqual(inThread.map((_, i) => i));
    expect(pool.threads).toBe(1);
  });

  it('runs a small input on the calling thread and starts no thread for it', async () => {
    const pool = new ThreadPool(chunkDocument, 2, { small: (input) => input.text.length <= 100 });
    onTestFinished(() => pool.close());
    const small = { text: 'Short.\n\nStill short.', maxChars: 120 };
    expect(await pool.run(small, new AbortController().signal)).toEqual(chunkDocument(small, require));
    expect(pool.threads).toBe(0);
    const large = { text: 'y '.repeat(200), maxChars: 120 };
    expect(await pool.run(large, new AbortController().signal)).toEqual(chunkDocument(large, require));
    expect(pool.threads).toBe(1);
  });

  it('keeps the event loop free while the thread works', async () => {
    const pool = new ThreadPool(spin, 1);
    onTestFinished(() => pool.close());
    const done = pool.run({ ms: 300 }, new AbortController().signal);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 10);
    await done;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });

  it('aborting a running call rejects at once and ends its thread; the pool goes on', async () => {
    const pool = new ThreadPool(spin, 1);
    onTestFinished(() => pool.close());
    const controller = new AbortController();
    const call = pool.run({ ms: 10_000 }, controller.signal);
    const queued = new AbortController();
    const waiting = pool.run({ ms: 1 }, queued.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    controller.abort(new Error('stop now'));
    await expect(call).rejects.toThrow('stop now');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await waiting).toBeGreaterThanOrEqual(0);
  });

  it('runs a function that imports other modules in a thread, imported from its module', async () => {
    const pool = new ThreadPool(countInThread, 1, { module: COUNT_IN_THREAD, small: (text) => text.length < 5 });
    onTestFinished(() => pool.close());
    const text = 'Ledger moves to Postgres on Friday.';
    expect(await pool.run(text, new AbortController().signal)).toEqual({ isMainThread: false, tokens: countTokens(text) });
    expect(await pool.run('tiny', new AbortController().signal)).toEqual({ isMainThread: true, tokens: countTokens('tiny') });
    expect(pool.threads).toBe(1);
  });

  it('rejects the call that finds the module without the function, saying why, then runs every call here', async () => {
    const pool = new ThreadPool(countInThread, 1, { module: { ...COUNT_IN_THREAD, name: 'missing' } });
    onTestFinished(() => pool.close());
    const signal = new AbortController().signal;
    const first = pool.run('one', signal);
    const queued = pool.run('two', signal);
    await expect(first).rejects.toThrow('thread-module.ts has no function missing');
    expect(await queued).toEqual({ isMainThread: true, tokens: countTokens('two') });
    expect(await pool.run('three', signal)).toEqual({ isMainThread: true, tokens: countTokens('three') });
    expect(pool.threads).toBe(0);
  });

  it('settles a call running in another thread when one thread finds its module without the function', async () => {
    const pool = new ThreadPool(countInThread, 2, { module: { ...COUNT_IN_THREAD, name: 'missing' } });
    onTestFinished(() => pool.close());
    const signal = new AbortController().signal;
    const outcomes = await Promise.allSettled([pool.run('one', signal), pool.run('two', signal)]);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value.isMainThread)).toEqual([true]);
    expect(pool.threads).toBe(0);
  });

  it('reports an error thrown in the thread as a rejection', async () => {
    const pool = new ThreadPool((input: { boom: string }) => {
      throw new Error(input.boom);
    }, 1);
    onTestFinished(() => pool.close());
    await expect(pool.run({ boom: 'bad input' }, new AbortController().signal)).rejects.toThrow('bad input');
  });

  it('ends a thread that has been idle for idleMs, and starts one again when work comes', async () => {
    const pool = new ThreadPool(chunkDocument, 1, { idleMs: 50 });
    onTestFinished(() => pool.close());
    const signal = new AbortController().signal;
    await pool.run({ text: 'one paragraph', maxChars: 100 }, signal);
    expect(pool.threads).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(pool.threads).toBe(0);
    await pool.run({ text: 'another paragraph', maxChars: 100 }, signal);
    expect(pool.threads).toBe(1);
  });

  it('close rejects queued calls and is safe twice', async () => {
    const pool = new ThreadPool(spin, 1);
    const running = expect(pool.run({ ms: 5_000 }, new AbortController().signal)).rejects.toThrow('closed');
    const queued = expect(pool.run({ ms: 1 }, new AbortController().signal)).rejects.toThrow('closed');
    await pool.close();
    await pool.close();
    await running;
    await queued;
  });
});

describe('chunkDocument', () => {
  it('packs paragraphs into chunks, cuts long ones at whitespace, and hashes each chunk', () => {
    const chunks = chunkDocument({ text: 'one\n\ntwo\n\n' + 'word '.repeat(40), maxChars: 50 }, require);
    expect(chunks[0]?.text).toBe('one\n\ntwo');
    expect(chunks.slice(1).every((c) => c.text.length <= 50 && !c.text.startsWith(' '))).toBe(true);
    expect(chunks[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chunkDocument({ text: '  \n\n ', maxChars: 50 }, require)).toEqual([]);
  });
});
