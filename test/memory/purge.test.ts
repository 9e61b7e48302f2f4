import { describe, expect, it } from 'vitest';
import type { Store } from '../../memory/store.js';
import { memoryFixture, type MemoryFixture } from '../helpers/memory-store.js';

const KEY = 'agent:main:doomed';
const OTHER = 'agent:main:kept';

/** Deletes the session as sessions.delete does: the row goes, the purge is recorded. */
function deleteSession(store: Store, key: string): void {
  store.transaction(() => {
    store.sessions.delete(key);
    store.purges.request(key, Date.now());
  });
}

/** Steps until no purge is left; returns the rows each step removed. */
function purgeAll(store: Store, max: number): number[] {
  const removed: number[] = [];
  for (let more = true; more; ) {
    const step = store.transaction(() => store.purges.step(max));
    removed.push(step.removed);
    more = step.more;
  }
  return removed;
}

/** Messages of a session generation still stored (hidden or not: history reads by sessionId). */
function storedMessages(store: Store, key: string, sessionId: string): number {
  return store.transcript.page(key, sessionId, 10_000, 0).messages.length;
}

function converse(f: MemoryFixture, key: string, turns: number, words = 'lighthouse keeper'): string[] {
  return Array.from({ length: turns }, (_, i) => f.say(key, i % 2 === 0 ? 'user' : 'assistant', `${words} ${i}`).id);
}

describe('session purge', () => {
  it('hides a deleted session\'s memory at once and removes its rows a batch per step', () => {
    const f = memoryFixture();
    const ids = converse(f, KEY, 25);
    const sessionId = f.store.sessions.get(KEY)?.sessionId ?? '';
    const kept = converse(f, OTHER, 3, 'garden hose');
    expect(f.api.query({ text: 'lighthouse', limit: 50 }, undefined).items).toHaveLength(25);

    deleteSession(f.store, KEY);
    expect(f.store.purges.pending()).toBe(true);
    expect(f.api.query({ sessionKey: KEY, limit: 50 }, undefined).items).toEqual([]);
    expect(f.api.query({ limit: 50 }, undefined).items.map((item) => item.id)).toEqual([...kept].reverse());
    expect(f.api.query({ text: 'lighthouse', limit: 50 }, undefined).items).toEqual([]);
    expect(f.api.recall({ id: ids[0] ?? '', detail: true, limit: 5 })).toEqual({ summaries: [] });
    expect(f.store.memory.items.get(ids[0] ?? '')).toBeUndefined();
    expect(storedMessages(f.store, KEY, sessionId)).toBe(25);

    // 25 messages and 25 items: 10 of each a step.
    expect(purgeAll(f.store, 10)).toEqual([20, 20, 10]);
    expect(storedMessages(f.store, KEY, sessionId)).toBe(0);
    expect(f.store.purges.pending()).toBe(false);
    expect(f.api.query({ limit: 50 }, undefined).items.map((item) => item.id)).toEqual([...kept].reverse());
    expect(f.api.query({ text: 'garden', limit: 50 }, undefined).items).toHaveLength(3);
  });

  it('leaves a session made under the key during the purge whole: its seqs go on above the old ones', () => {
    const f = memoryFixture();
    converse(f, KEY, 30);
    deleteSession(f.store, KEY);
    f.store.transaction(() => f.store.purges.step(10));

    const fresh = converse(f, KEY, 4, 'second life');
    const session = f.store.sessions.get(KEY);
    const page = f.store.transcript.page(KEY, session?.sessionId ?? '', 100, 0);
    expect(page.messages.map((m) => m.seq)).toEqual([31, 32, 33, 34]);
    expect(f.api.query({ sessionKey: KEY, limit: 50 }, undefined).items.map((item) => item.id)).toEqual([...fresh].reverse());

    purgeAll(f.store, 10);
    expect(f.store.memory.items.existingScope(KEY)).toBeDefined();
    expect(f.store.transcript.page(KEY, session?.sessionId ?? '', 100, 0).messages).toHaveLength(4);
    expect(f.api.query({ sessionKey: KEY, limit: 50 }, undefined).items.map((item) => item.id)).toEqual([...fresh].reverse());
    expect(f.api.query({ text: 'second', limit: 50 }, undefined).items).toHaveLength(4);
  });

  it('drops the key\'s full-text scope with the last batch; its number, handed out again, finds only the new owner\'s items', () => {
    const f = memoryFixture();
    converse(f, KEY, 5);
    const scope = f.store.memory.items.existingScope(KEY);
    expect(scope).toBeDefined();
    expect(f.api.query({ sessionKey: KEY, text: 'lighthouse', limit: 50 }, undefined).items).toHaveLength(5);

    deleteSession(f.store, KEY);
    purgeAll(f.store, 2);
    expect(f.store.memory.items.existingScope(KEY)).toBeUndefined();

    // The highest scope number was freed: SQLite gives it to the next new key.
    converse(f, OTHER, 2);
    expect(f.store.memory.items.existingScope(OTHER)).toBe(scope);
    expect(f.api.query({ sessionKey: OTHER, text: 'lighthouse', limit: 50 }, undefined).items).toHaveLength(2);
    expect(f.api.query({ text: 'lighthouse', limit: 50 }, undefined).items).toHaveLength(2);
    // The deleted key, used again, gets a scope of its own.
    converse(f, KEY, 1, 'lighthouse again');
    expect(f.store.memory.items.existingScope(KEY)).not.toBe(scope);
    expect(f.api.query({ sessionKey: KEY, text: 'lighthouse', limit: 50 }, undefined).items.map((item) => item.text)).toEqual(['lighthouse again 0']);
    expect(f.api.query({ sessionKey: OTHER, text: 'lighthouse', limit: 50 }, undefined).items).toHaveLength(2);
  });

  it('a second delete of the key during its purge takes the new session\'s rows too', () => {
    const f = memoryFixture();
    converse(f, KEY, 12);
    deleteSession(f.store, KEY);
    f.store.transaction(() => f.store.purges.step(5));
    converse(f, KEY, 6, 'second life');
    const secondId = f.store.sessions.get(KEY)?.sessionId ?? '';
    deleteSession(f.store, KEY);

    purgeAll(f.store, 5);
    expect(f.store.purges.pending()).toBe(false);
    expect(storedMessages(f.store, KEY, secondId)).toBe(0);
    f.say(KEY, 'user', 'third life');
    expect(f.api.query({ sessionKey: KEY, limit: 50 }, undefined).items.map((item) => item.text)).toEqual(['third life']);
  });

  it('goes on after a restart where it stopped', () => {
    const f = memoryFixture();
    converse(f, KEY, 20);
    const sessionId = f.store.sessions.get(KEY)?.sessionId ?? '';
    deleteSession(f.store, KEY);
    f.store.transaction(() => f.store.purges.step(5));

    const after = f.restart();
    expect(after.store.purges.pending()).toBe(true);
    expect(after.api.query({ sessionKey: KEY, limit: 50 }, undefined).items).toEqual([]);
    expect(storedMessages(after.store, KEY, sessionId)).toBe(15);
    purgeAll(after.store, 5);
    expect(storedMessages(after.store, KEY, sessionId)).toBe(0);
    expect(after.store.purges.pending()).toBe(false);
  });

  it('removes document chunks with the delete, so the key can store the same chunk again at once', () => {
    const f = memoryFixture();
    f.say(KEY, 'user', 'read the manual');
    const first = f.documents.upsert({ sessionKey: KEY, path: 'docs/manual.md', chunk: 0, text: 'Chapter one: the pump.' });
    deleteSession(f.store, KEY);
    expect(f.documents.paths(KEY)).toEqual([]);
    const again = f.documents.upsert({ sessionKey: KEY, path: 'docs/manual.md', chunk: 0, text: 'Chapter one: the pump.' });
    expect(again.status).toBe('created');
    expect(again.id).not.toBe(first.id);
    purgeAll(f.store, 100);
    expect(f.documents.paths(KEY)).toEqual(['docs/manual.md']);
    expect(f.store.memory.items.get(again.id)).toMatchObject({ kind: 'document', text: 'Chapter one: the pump.' });
  });
});
