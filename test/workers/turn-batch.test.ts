import { describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../../memory/db.js';
import { openStore } from '../../memory/store.js';
import type { AcceptTurnInput } from '../../memory/turn-store.js';
import { TurnBatch } from '../../workers/runs/turn-batch.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, resultOf } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { isChat } from '../helpers/turns.js';

function accept(key: string, session = 'agent:main:main', now = 1_000): AcceptTurnInput {
  return { idempotencyKey: key, method: 'chat', requestHash: `h-${key}`, sessionKey: session, agentId: 'main', kind: 'chat', userMessage: { role: 'user', content: key, timestamp: now }, now };
}

function tempStore() {
  const store = openStore(tempDir('brainstem-batch-'));
  return store;
}

describe('TurnBatch', () => {
  it('writes the accepts of one event-loop iteration in one transaction, and settles only after the commit', async () => {
    const store = tempStore();
    const batch = new TurnBatch(store);
    const transaction = vi.spyOn(store, 'transaction');
    const results = await Promise.all(['a', 'b', 'c'].map((key) => batch.accept(accept(key)).then((r) => ({ r, onDisk: store.idempotency.get(key, 1_000) }))));
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(results.map(({ r }) => r.kind)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(results.every(({ onDisk }) => onDisk?.status === 'in_flight')).toBe(true);
    store.close();
  });

  it('keeps a failing write to its own savepoint: it alone is rejected, the others of the batch are stored', async () => {
    let db: Db | undefined;
    const store = openStore(tempDir('brainstem-batch-'), undefined, { open: (path, options) => (db = openDatabase(path, undefined, options)) });
    (db as Db).exec("CREATE TRIGGER fail_user BEFORE INSERT ON messages WHEN NEW.body LIKE '%explode%' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
    const batch = new TurnBatch(store);
    const outcomes = await Promise.allSettled([batch.accept(accept('ok-1')), batch.accept(accept('explode')), batch.accept(accept('ok-2'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(store.idempotency.get('ok-1', 1_000)?.status).toBe('in_flight');
    expect(store.idempotency.get('explode', 1_000)).toBeUndefined();
    expect(store.runs.get('explode')).toBeUndefined();
    expect(store.idempotency.get('ok-2', 1_000)?.status).toBe('in_flight');
    store.close();
  });

  it('writes a batch with a failing write twice (bare, then with savepoints) and remembers nothing of the undone attempt', async () => {
    let db: Db | undefined;
    const store = openStore(tempDir('brainstem-batch-'), undefined, { open: (path, options) => (db = openDatabase(path, undefined, options)) });
    (db as Db).exec("CREATE TRIGGER fail_user BEFORE INSERT ON messages WHEN NEW.body LIKE '%explode%' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
    const batch = new TurnBatch(store);
    const transaction = vi.spyOn(store, 'transaction');
    // The first attempt makes session x's full-text scope (a), reads it back (b), then rolls back (explode).
    const outcomes = await Promise.allSettled([batch.accept(accept('a', 'x')), batch.accept(accept('b', 'x')), batch.accept(accept('explode', 'x'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(transaction).toHaveBeenCalledTimes(2);
    await batch.accept(accept('c', 'y'));
    // Every item carries its own session's scope: a scope remembered from the undone attempt would be missing
    // from memory_scopes and handed out again to the next session.
    const rows = (db as Db).prepare('SELECT i.session_key AS key, i.scope AS scope, s.session_key AS owner FROM memory_items i LEFT JOIN memory_scopes s ON s.scope = i.scope').all();
    expect(rows).toEqual([
      { key: 'x', scope: expect.any(Number), owner: 'x' },
      { key: 'x', scope: expect.any(Number), owner: 'x' },
      { key: 'y', scope: expect.any(Number), owner: 'y' },
    ]);
    store.close();
  });

  it('sees an earlier write of the same batch: the same key twice in one batch is one turn', async () => {
    const store = tempStore();
    const batch = new TurnBatch(store);
    const [first, second] = await Promise.all([batch.accept(accept('k')), batch.accept(accept('k'))]);
    expect(first.kind).toBe('accepted');
    expect(second.kind).toBe('duplicate');
    expect(store.transcript.count('agent:main:main', store.sessions.get('agent:main:main')?.sessionId ?? '')).toBe(1);
    store.close();
  });
});

describe('group commit through the wire', () => {
  it('answers two chat.send with one key sent back to back as one turn: started, then in_flight or its result', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 50 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const frame = (id: string) => JSON.stringify({ type: 'req', id, method: 'chat.send', params: { sessionKey: 'main', message: 'once', idempotencyKey: 'same' } });
    client.ws.send(frame('r1'));
    client.ws.send(frame('r2'));
    const [r1, r2] = await Promise.all(['r1', 'r2'].map((id) => client.next((f) => f.type === 'res' && f.id === id)));
    expect(resultOf(r1 as never, 'chat.send').status).toBe('started');
    expect(resultOf(r2 as never, 'chat.send').status).toBe('in_flight');
    await client.event('chat', isChat('same', 'final'));
    const history = resultOf(await client.request('chat.history', { sessionKey: 'main' }), 'chat.history');
    expect('messages' in history && history.messages.filter((m) => m.role === 'user')).toHaveLength(1);
  });
});
