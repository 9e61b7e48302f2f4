import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { extractiveSummary } from '../../memory/extractive-summary.js';
import { FORGET_BATCH } from '../../memory/memory-api.js';
import { memoryIdTime, newMemoryId } from '../../memory/ids.js';
import { LIST_SCAN_MAX } from '../../memory/recall-store.js';
import { countTokens } from '../../memory/tokens.js';
import type { StoredMessage } from '../../memory/types.js';
import { memoryFixture } from '../helpers/memory-store.js';

const KEY = 'agent:main:lt';

async function summarizeAll(fixture: ReturnType<typeof memoryFixture>, sessionKey = KEY): Promise<string> {
  const session = fixture.store.sessions.get(sessionKey);
  const context = fixture.memory.context(sessionKey, session?.sessionId ?? '');
  const sources = context.items;
  const result = await context.summarize(sources, { text: extractiveSummary(sources, { maxTokens: 100 }), method: 'extractive' });
  expect(result.applied).toBe(true);
  return result.summary?.id ?? '';
}

describe('long-term memory', () => {
  it('gives every turn a MemoryItem with the transcript row\'s MemoryID', () => {
    const f = memoryFixture();
    const stored = f.say(KEY, 'user', 'The deploy window is Tuesday at noon.');
    const [item] = f.api.query({ sessionKey: KEY, limit: 10 }, undefined).items;
    expect(item).toMatchObject({ id: stored.id, kind: 'turn', role: 'user', state: 'active', text: 'The deploy window is Tuesday at noon.' });
    expect(f.memory.context(KEY, stored.sessionId).has(stored.id)).toBe(true);
  });

  it('recall by a summarized id resolves the tombstone to its summary; the original text only with detail', async () => {
    const f = memoryFixture();
    const a = f.say(KEY, 'user', 'Our kubernetes cluster runs in Frankfurt.');
    f.say(KEY, 'assistant', 'Noted: the cluster is in Frankfurt.');
    const summaryId = await summarizeAll(f);
    const plain = f.api.recall({ id: a.id, detail: false, limit: 5 });
    expect(plain.summaries.map((s) => s.id)).toEqual([summaryId]);
    expect(plain.items).toBeUndefined();
    const detailed = f.api.recall({ id: a.id, detail: true, limit: 5 });
    expect(detailed.items).toEqual([expect.objectContaining({ id: a.id, kind: 'turn', state: 'summarized', summarizedBy: summaryId, text: 'Our kubernetes cluster runs in Frankfurt.' })]);
    const [tombstone] = f.api.query({ ids: [a.id], limit: 5 }, undefined).items;
    expect(tombstone).toMatchObject({ kind: 'tombstone', state: 'summarized', summarizedBy: summaryId, text: '' });
  });

  it('recall by topic ranks summaries first and returns the items behind them with detail', async () => {
    const f = memoryFixture();
    f.say(KEY, 'user', 'Remember that the invoice for ACME is due on the 30th.');
    f.say(KEY, 'assistant', 'I will remember the ACME invoice date.');
    const summaryId = await summarizeAll(f);
    f.say(KEY, 'user', 'Lunch was good today.');
    const recalled = f.api.recall({ topic: 'ACME invoice', detail: true, limit: 5 });
    expect(recalled.summaries[0]?.id).toBe(summaryId);
    expect(recalled.summaries[0]?.score).toBeGreaterThan(0);
    expect(recalled.items?.map((item) => item.state)).toEqual(['summarized', 'summarized']);
    expect(f.events.at(-1)).toMatchObject({ op: 'recall', sessionKey: KEY, reason: 'topic' });
  });

  it('ranks by relevance with a recency boost: of two equal matches the newer wins', () => {
    const f = memoryFixture();
    const older = f.say(KEY, 'user', 'budget review meeting');
    const newer = f.say(KEY, 'user', 'budget review meeting');
    const items = f.api.query({ text: 'budget', limit: 10 }, undefined).items;
    expect(items.map((item) => item.id)).toEqual([newer.id, older.id]);
  });

  it('finds items stored after the newest ones were deleted (their rowids are taken again)', () => {
    const f = memoryFixture();
    f.say(KEY, 'user', 'apple banana');
    f.say('agent:main:gone', 'user', 'cherry durian');
    f.say('agent:main:gone', 'user', 'cherry elder');
    expect(f.api.query({ text: 'cherry', limit: 10 }, undefined).items).toHaveLength(2);
    f.store.transaction(() => f.store.purges.request('agent:main:gone', Date.now()));
    expect(f.store.transaction(() => f.store.purges.step(100))).toEqual({ removed: 4, more: false });
    const later = [f.say(KEY, 'user', 'zebra fig'), f.say(KEY, 'user', 'zebra grape')];
    expect(f.api.query({ text: 'zebra', limit: 10 }, undefined).items.map((item) => item.id).sort()).toEqual(later.map((m) => m.id).sort());
    expect(f.api.query({ text: 'cherry', limit: 10 }, undefined).items).toEqual([]);
  });

  it('query filters by kinds, session and time, pages with a cursor, newest first', () => {
    const f = memoryFixture();
    const ids = Array.from({ length: 5 }, (_, i) => f.say(KEY, 'user', `message ${i}`).id);
    f.say('agent:main:other', 'user', 'elsewhere');
    const first = f.api.query({ sessionKey: KEY, kinds: ['turn'], limit: 2 }, undefined);
    expect(first.items.map((item) => item.id)).toEqual([ids[4], ids[3]]);
    const cursor = JSON.parse(Buffer.from(first.nextCursor ?? '', 'base64url').toString()) as { after: string };
    const second = f.api.query({ sessionKey: KEY, kinds: ['turn'], limit: 10 }, cursor);
    expect(second.items.map((item) => item.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(second.nextCursor).toBeUndefined();
    expect(f.api.query({ kinds: ['summary'], limit: 10 }, undefined).items).toEqual([]);
    expect(f.api.query({ since: Date.now() + 60_000, limit: 10 }, undefined).items).toEqual([]);
  });

  it('forget purges text and index entries, keeps a forgotten tombstone, and forgets summaries built from it', async () => {
    const f = memoryFixture();
    const secret = f.say(KEY, 'user', 'My locker code is 4711 zebra.');
    const other = f.say(KEY, 'assistant', 'Understood about the locker.');
    const summaryId = await summarizeAll(f);
    const forgotten = await f.api.forget({ ids: [secret.id] }, { connId: 'c1', clientId: 'test' });
    expect(forgotten.sort()).toEqual([secret.id, summaryId].sort());
    expect(f.api.query({ text: 'zebra', limit: 10 }, undefined).items).toEqual([]);
    expect(f.api.recall({ id: secret.id, detail: true, limit: 5 })).toEqual({ summaries: [], items: [expect.objectContaining({ id: secret.id, kind: 'tombstone', state: 'forgotten', text: '' })] });
    const [back] = f.api.query({ ids: [other.id], limit: 5 }, undefined).items;
    expect(back).toMatchObject({ kind: 'turn', state: 'evicted', text: 'Understood about the locker.' });
    const transcript = f.store.transcript.page(KEY, secret.sessionId, 10, 0).messages.find((m) => m.id === secret.id);
    expect(transcript?.message.content).toEqual([]);
    expect(f.memory.context(KEY, secret.sessionId).has(summaryId)).toBe(false);
    expect(f.events.filter((e) => e.op === 'forget')).toEqual([expect.objectContaining({ sessionKey: KEY, ids: expect.arrayContaining([secret.id, summaryId]) })]);
  });

  it('forget by session purges a batch per event-loop turn, then announces them once', async () => {
    const f = memoryFixture({ limits: { maxItems: 1_000 } });
    const ids = Array.from({ length: 2 * FORGET_BATCH + 5 }, (_, i) => f.say(KEY, 'user', `note ${i}`).id);
    const forgetting = f.api.forget({ sessionKey: KEY }, { connId: 'c1', clientId: 'test' });
    // The first batch was purged synchronously; the rest waits for the event loop.
    expect(f.store.memory.items.many(ids).filter((item) => item.state === 'forgotten')).toHaveLength(FORGET_BATCH);
    expect((await forgetting).sort()).toEqual([...ids].sort());
    expect(f.store.memory.items.many(ids).every((item) => item.state === 'forgotten' && item.text === '')).toBe(true);
    expect(f.memory.context(KEY, f.store.sessions.get(KEY)?.sessionId ?? '').size).toBe(0);
    expect(f.events.filter((e) => e.op === 'forget')).toEqual([expect.objectContaining({ sessionKey: KEY, ids: expect.arrayContaining(ids) })]);
  });

  it('forget stops between batches when memory closes (a gateway shutting down), returning what it purged', async () => {
    const f = memoryFixture({ limits: { maxItems: 1_000 } });
    for (let i = 0; i < 2 * FORGET_BATCH; i++) f.say(KEY, 'user', `note ${i}`);
    const forgetting = f.api.forget({ sessionKey: KEY }, { connId: 'c1', clientId: 'test' });
    f.memory.close();
    expect(await forgetting).toHaveLength(FORGET_BATCH);
  });

  it('restores every active context from its snapshot after a restart, and summaries stay recallable', async () => {
    const f = memoryFixture({ limits: { maxItems: 4 } });
    for (let i = 0; i < 6; i++) f.say(KEY, i % 2 === 0 ? 'user' : 'assistant', `turn ${i} about the garden`);
    const summaryId = await summarizeAll(f);
    f.say(KEY, 'user', 'after the summary');
    const session = f.store.sessions.get(KEY);
    const before = f.memory.context(KEY, session?.sessionId ?? '').items.map((item) => item.id);
    const again = f.restart();
    const after = again.memory.context(KEY, session?.sessionId ?? '').items.map((item) => item.id);
    expect(after).toEqual(before);
    expect(again.api.recall({ topic: 'garden', detail: false, limit: 5 }).summaries[0]?.id).toBe(summaryId);
  });

  it('a turn accepted after the last snapshot write is restored too (crash between batches)', () => {
    const f = memoryFixture();
    f.say(KEY, 'user', 'one');
    f.memory.flush();
    const late = f.say(KEY, 'user', 'two');
    const again = f.restart();
    expect(again.memory.context(KEY, late.sessionId).has(late.id)).toBe(true);
  });

  it('a restore from the snapshot keeps its still-active members and newer items of the same generation only', () => {
    const f = memoryFixture();
    const [a, b, c] = ['one', 'two', 'three'].map((text) => f.say(KEY, 'user', text)) as [StoredMessage, StoredMessage, StoredMessage];
    const g = f.restart(); // the snapshot holds a, b, c
    const now = Date.now();
    g.store.memory.items.setState([a.id], 'evicted', now);
    const [late, gone] = ['four', 'five'].map((text) => g.store.transaction(() => g.store.transcript.append(KEY, c.sessionId, { role: 'user', content: text, timestamp: now }, undefined))) as [StoredMessage, StoredMessage];
    g.store.memory.items.setState([gone.id], 'evicted', now);
    const item = { sessionKey: KEY, kind: 'turn' as const, role: 'user' as const, tokens: 1, state: 'active' as const, createdAt: now, updatedAt: now, summarizedBy: undefined, summaryOf: undefined, document: undefined };
    g.store.memory.items.insert({ ...item, id: newMemoryId(now + 1), sessionId: 'an-older-generation', text: 'other generation' });
    g.store.memory.items.insert({ ...item, id: ulid(a.createdAt - 60_000), sessionId: c.sessionId, text: 'older than the snapshot, not in it' });
    expect(g.memory.context(KEY, c.sessionId).items.map((i) => i.text)).toEqual(['two', 'three', 'four']);
    expect(g.memory.context(KEY, c.sessionId).items.map((i) => i.id)).toEqual([b.id, c.id, late.id]);
  });

  it('query looks at a bounded number of items per page: a rare kind is found by following the cursor', () => {
    const f = memoryFixture();
    const doc = f.documents.upsert({ sessionKey: KEY, path: 'docs/old.md', chunk: 0, text: 'the only document' }).id;
    const now = Date.now();
    const { session } = f.store.sessions.ensure(KEY, 'main', now);
    f.store.transaction(() => {
      for (let i = 0; i < LIST_SCAN_MAX + 5; i++) {
        f.store.memory.items.insert({ id: newMemoryId(now), sessionKey: KEY, sessionId: session.sessionId, kind: 'turn', role: 'user', text: `turn ${i}`, tokens: 2, state: 'evicted', createdAt: now, updatedAt: now, summarizedBy: undefined, summaryOf: undefined, document: undefined });
      }
    });
    const cursorOf = (page: { nextCursor?: string }) => (page.nextCursor === undefined ? undefined : (JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString()) as { after: string }));
    const first = f.api.query({ kinds: ['document'], limit: 10 }, undefined);
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toBeDefined();
    const second = f.api.query({ kinds: ['document'], limit: 10 }, cursorOf(first));
    expect(second.items.map((item) => item.id)).toEqual([doc]);
    expect(second.nextCursor).toBeUndefined();
    // Unfiltered pages are full and their cursor follows the last item, as before.
    const newest = f.api.query({ limit: 3 }, undefined);
    expect(newest.items).toHaveLength(3);
    expect(cursorOf(newest)?.after).toBe(newest.items[2]?.id);
  });

  it('a `since` bounds the scan itself: a short page of recent items has no cursor into older ones', () => {
    const f = memoryFixture();
    const { session } = f.store.sessions.ensure(KEY, 'main', Date.now());
    const insert = (at: number) =>
      f.store.memory.items.insert({ id: newMemoryId(at), sessionKey: KEY, sessionId: session.sessionId, kind: 'turn', role: 'user', text: `at ${at}`, tokens: 2, state: 'evicted', createdAt: at, updatedAt: at, summarizedBy: undefined, summaryOf: undefined, document: undefined });
    // Ahead of the factory's clock: the monotonic factory gives the old items ids from the last one used, not from
    // their createdAt, and test files share a process (vitest `isolate: false`): one that made ids days ahead (a
    // retention test's clock) leaves the factory there.
    const since = memoryIdTime(newMemoryId()) + 60_000;
    for (let i = 0; i < 20; i++) insert(since - 86_400_000 + i);
    for (let i = 0; i < 3; i++) insert(since + i);
    // Looking at 5 items at most: the 3 recent ones, then the scan meets the floor of `since` and ends.
    const page = f.store.memory.recall.list({ kinds: ['turn'], since }, 10, undefined, 5);
    expect(page.records.map((record) => record.text)).toEqual([`at ${since + 2}`, `at ${since + 1}`, `at ${since}`]);
    expect(page.scannedTo).toBeUndefined();
  });

  it('an `until` bounds the scan itself: old items are found on the first page, however many newer ones there are', () => {
    const f = memoryFixture();
    const { session } = f.store.sessions.ensure(KEY, 'main', Date.now());
    const insert = (at: number, id = newMemoryId(at)) =>
      f.store.memory.items.insert({ id, sessionKey: KEY, sessionId: session.sessionId, kind: 'turn', role: 'user', text: `at ${at}`, tokens: 2, state: 'evicted', createdAt: at, updatedAt: at, summarizedBy: undefined, summaryOf: undefined, document: undefined });
    const old = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) insert(old + i, ulid(old + i));
    for (let i = 0; i < 30; i++) insert(Date.now());
    // Looking at 5 items at most: without the bound those would be 5 of the 30 newer ones, and the page empty.
    const page = f.store.memory.recall.list({ kinds: ['turn'], until: old + 7 }, 3, undefined, 5);
    expect(page.records.map((record) => record.text)).toEqual([`at ${old + 7}`, `at ${old + 6}`, `at ${old + 5}`]);
    // An item whose id runs ahead of its createdAt (made after an id of a later time) is still found.
    const late = insert(old + 3, ulid(Date.now() + 3_600_000));
    expect(late).toBeUndefined();
    const all = f.api.query({ kinds: ['turn'], until: old + 3, limit: 10 }, undefined);
    expect(all.items.map((item) => item.text)).toEqual([`at ${old + 3}`, `at ${old + 3}`, `at ${old + 2}`, `at ${old + 1}`, `at ${old}`]);
  });

  it('takes any `since` and `until` a client can send, past the last time a MemoryID can hold', () => {
    const f = memoryFixture();
    f.say(KEY, 'user', 'hello');
    expect(f.api.query({ since: Number.MAX_SAFE_INTEGER, limit: 5 }, undefined).items).toEqual([]);
    expect(f.api.query({ until: Number.MAX_SAFE_INTEGER, limit: 5 }, undefined).items.map((item) => item.text)).toEqual(['hello']);
  });

  it('documents: upsert keeps one MemoryID per path and chunk, updates in place, searches and loads', async () => {
    const f = memoryFixture();
    const first = f.documents.upsert({ sessionKey: KEY, path: 'docs/runbook.md', chunk: 0, text: 'Restart the ingest service with systemctl.' });
    expect(first.status).toBe('created');
    expect(f.documents.upsert({ sessionKey: KEY, path: 'docs/runbook.md', chunk: 0, text: 'Restart the ingest service with systemctl.' })).toEqual({ id: first.id, status: 'unchanged' });
    expect(f.documents.upsert({ sessionKey: KEY, path: 'docs/runbook.md', chunk: 0, text: 'Restart ingest with the deploy script.' })).toEqual({ id: first.id, status: 'updated' });
    expect(f.documents.search('deploy script', { limit: 5 }).map((d) => d.id)).toEqual([first.id]);
    const session = f.store.sessions.ensure(KEY, 'main', Date.now()).session;
    expect((await f.documents.load(KEY, session.sessionId, [first.id])).applied).toBe(true);
    expect(f.memory.context(KEY, session.sessionId).get(first.id)).toMatchObject({ kind: 'document', text: 'Restart ingest with the deploy script.' });
    // Stored without a count (indexing needs no tokenizer); counted when loaded.
    expect(f.memory.context(KEY, session.sessionId).get(first.id)?.tokens).toBe(countTokens('Restart ingest with the deploy script.'));
  });
});

describe('document retirement', () => {
  it('forgets a document\'s chunks from a position on, keeping their ids as tombstones and other paths intact', async () => {
    const f = memoryFixture();
    const ids = [0, 1, 2].map((chunk) => f.documents.upsert({ sessionKey: KEY, path: 'docs/a.md', chunk, text: `okapi part ${chunk}` }).id);
    const other = f.documents.upsert({ sessionKey: KEY, path: 'docs/b.md', chunk: 0, text: 'okapi elsewhere' }).id;
    const session = f.store.sessions.ensure(KEY, 'main', Date.now()).session;
    await f.documents.load(KEY, session.sessionId, [ids[2] as string]);
    expect(f.documents.retire(KEY, 'docs/a.md', 1)).toEqual([ids[1], ids[2]]);
    expect(f.documents.search('okapi', { limit: 10 }).map((d) => d.id).sort()).toEqual([ids[0], other].sort());
    expect(f.store.memory.items.many([ids[1] as string])[0]).toMatchObject({ state: 'forgotten', text: '' });
    await expect.poll(() => f.memory.context(KEY, session.sessionId).has(ids[2] as string)).toBe(false);
    expect(f.documents.retire(KEY, 'docs/a.md', 0)).toEqual([ids[0]]);
    expect(f.documents.paths(KEY)).toEqual(['docs/b.md']);
    expect(f.documents.retire(KEY, 'docs/a.md', 0)).toEqual([]);
  });
});

describe('extractive summarizer', () => {
  it('keeps the most informative sentences in their order, within budget, deterministically', () => {
    const sources = [
      { role: 'user', text: 'We need to migrate the billing database. Also, hello! The billing database migration must finish by Friday.' },
      { role: 'assistant', text: 'Okay. I will plan the billing database migration for Thursday night.' },
    ];
    const summary = extractiveSummary(sources, { maxTokens: 40 });
    expect(summary).toBe(extractiveSummary(sources, { maxTokens: 40 }));
    expect(summary).toContain('billing database');
    expect(summary).not.toContain('hello');
    expect(extractiveSummary(sources, { maxBytes: 30 }).length).toBeLessThanOrEqual(30);
  });
});

describe('BM25 tokenizer', () => {
  it('tokenizes like FTS5 unicode61: lower case, letters and digits, diacritics removed', async () => {
    const { tokenize } = await import('../../memory/bm25.js');
    expect(tokenize('Deploy v2.1 to Zürich-West, NOW!')).toEqual(['deploy', 'v2', '1', 'to', 'zurich', 'west', 'now']);
    expect(tokenize('plain ascii words')).toEqual(['plain', 'ascii', 'words']);
  });
});
