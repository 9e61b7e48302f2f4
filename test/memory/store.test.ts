import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ulid } from 'ulid';
import { describe, expect, it, onTestFinished as onFinished } from 'vitest';
import { openDatabase, type Db } from '../../memory/db.js';
import { newMemoryId } from '../../memory/ids.js';
import { ItemsStore, SCOPE_CACHE_MAX } from '../../memory/items-store.js';
import { MIGRATIONS, type Migration } from '../../memory/migrations.js';
import { DATABASE_FILE, openStore, type Store } from '../../memory/store.js';
import type { AcceptTurnInput, FinishTurnInput } from '../../memory/turn-store.js';
import type { TranscriptMessage } from '../../memory/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const MAIN = 'agent:main:main';
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A store on a fresh temp dir, closed when the test finishes (before the dir is removed). */
function tempStore(): { store: Store; dataDir: string } {
  const dataDir = tempDir('brainstem-store-');
  const store = openStore(dataDir);
  onFinished(() => store.close());
  return { store, dataDir };
}

/** A raw connection to the same database file, for facts the store does not expose. */
function rawDb(dataDir: string): Db {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE));
  onFinished(() => {
    db.close();
  });
  return db;
}

function user(text: string, timestamp: number): TranscriptMessage {
  return { role: 'user', content: text, timestamp };
}

function acceptInput(key: string, text: string, now: number, over: Partial<AcceptTurnInput> = {}): AcceptTurnInput {
  return { idempotencyKey: key, method: 'chat', requestHash: `hash:${text}`, sessionKey: MAIN, agentId: 'main', kind: 'chat', userMessage: user(text, now), now, ...over };
}

function finishInput(key: string, text: string, endedAt: number, over: Partial<FinishTurnInput> = {}): FinishTurnInput {
  return {
    runId: key,
    idempotencyKey: key,
    end: { status: 'ok', endedAt, stopReason: 'stop', usage: { input: 3, output: 5, totalTokens: 8 } },
    assistantMessage: { role: 'assistant', content: [{ type: 'text', text }], timestamp: endedAt, stopReason: 'stop' },
    outcome: 'ok',
    response: { runId: key, status: 'ok' },
    expiresAt: endedAt + 1_000,
    ...over,
  };
}

/** Stores `count` user messages in the main session, seq 1..count. */
function fill(store: Store, count: number): string {
  const { session } = store.sessions.ensure(MAIN, 'main', 1);
  store.transaction(() => {
    for (let i = 1; i <= count; i++) store.transcript.append(MAIN, session.sessionId, user(`m${i}`, 100 + i), undefined);
  });
  return session.sessionId;
}

const seqs = (messages: { seq: number }[]): number[] => messages.map((m) => m.seq);

/** sessions.compact at the store: the point, then steps of `batch`; returns how many messages were hidden. */
function compactAll(store: Store, sessionId: string, keep: number, batch = 100): number {
  const through = store.transcript.compactionPoint(MAIN, sessionId, keep);
  let hidden = 0;
  for (let step = batch; through !== undefined && step === batch; hidden += step) step = store.transcript.compactStep(MAIN, sessionId, through, batch);
  return hidden;
}

describe('openDatabase', () => {
  it('records every migration in schema_migrations', () => {
    const { dataDir } = tempStore();
    const rows = rawDb(dataDir).prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('does not re-run applied migrations when reopened, and runs only new ones', () => {
    const path = join(tempDir('brainstem-db-'), 'test.db');
    const first: Migration[] = [
      { version: 1, name: 'table', sql: 'CREATE TABLE counter (n INTEGER)' },
      { version: 2, name: 'row', sql: 'INSERT INTO counter VALUES (1)' },
    ];
    openDatabase(path, undefined, { migrations: first }).close();
    const applied: number[] = [];
    const logger = { info: (obj: object) => applied.push((obj as { version: number }).version) };
    const db = openDatabase(path, logger, { migrations: [...first, { version: 3, name: 'another row', sql: 'INSERT INTO counter VALUES (3)' }] });
    onFinished(() => {
      db.close();
    });
    expect(applied).toEqual([3]);
    expect(db.prepare('SELECT n FROM counter ORDER BY n').all()).toEqual([{ n: 1 }, { n: 3 }]);
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
  });

  it('upgrades a database made before migration 3: its messages stay, messages_run is gone', () => {
    const dataDir = tempDir('brainstem-upgrade-');
    const before = openDatabase(join(dataDir, DATABASE_FILE), undefined, { migrations: MIGRATIONS.filter((m) => m.version < 3) });
    before.prepare("INSERT INTO sessions (key, agent_id, session_id, created_at, updated_at) VALUES ('agent:main:main', 'main', 's1', 1, 1)").run();
    before.prepare("INSERT INTO messages (id, session_key, session_id, seq, role, body, run_id, created_at) VALUES ('m1', 'agent:main:main', 's1', 1, 'user', '{}', 'r1', 1)").run();
    before.close();
    const store = openStore(dataDir);
    onFinished(() => store.close());
    const db = rawDb(dataDir);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'messages_run'").all()).toEqual([]);
    expect(db.prepare('SELECT id, run_id FROM messages').all()).toEqual([{ id: 'm1', run_id: 'r1' }]);
  });

  it('upgrades a database made before migration 5: sessions keep their archived state and are counted', () => {
    const dataDir = tempDir('brainstem-upgrade-');
    const before = openDatabase(join(dataDir, DATABASE_FILE), undefined, { migrations: MIGRATIONS.filter((m) => m.version < 5) });
    const insert = before.prepare('INSERT INTO sessions (key, agent_id, session_id, created_at, updated_at, settings) VALUES (?, ?, ?, 1, ?, ?)');
    insert.run('agent:main:a', 'main', 's1', 10, '{}');
    insert.run('agent:main:b', 'main', 's2', 20, '{"archived":true}');
    insert.run('agent:ops:c', 'ops', 's3', 30, '{"label":"x"}');
    before.close();
    const store = openStore(dataDir);
    onFinished(() => store.close());
    expect(store.sessions.count()).toBe(3);
    expect(store.sessions.list({ limit: 10, offset: 0 })).toMatchObject({ total: 2, rows: [{ key: 'agent:ops:c' }, { key: 'agent:main:a' }] });
    expect(store.sessions.list({ limit: 10, offset: 0, agentId: 'main', archived: true })).toMatchObject({ total: 1, rows: [{ key: 'agent:main:b' }] });
    expect(store.sessions.recent(5).map((session) => session.key)).toEqual(['agent:ops:c', 'agent:main:a']);
  });

  it('upgrades a database made before migration 6: rows whose rowid was freed by a delete get indexed', () => {
    const dataDir = tempDir('brainstem-upgrade-');
    const before = openDatabase(join(dataDir, DATABASE_FILE), undefined, { migrations: MIGRATIONS.filter((m) => m.version < 6) });
    const insert = before.prepare(
      "INSERT INTO memory_items (n, id, session_key, session_id, scope, kind, text, state, created_at, updated_at) VALUES (?, ?, 'agent:main:main', 's1', 1, 'turn', ?, 'active', 1, 1)",
    );
    insert.run(1, newMemoryId(1), 'kept words');
    // Rows 2 and 3 were indexed, then deleted: last_n stayed above the highest row left.
    before.prepare('UPDATE memory_index_state SET last_n = 3').run();
    before.close();
    const store = openStore(dataDir);
    onFinished(() => store.close());
    store.memory.items.insert({ id: newMemoryId(), sessionKey: MAIN, sessionId: 's1', kind: 'turn', role: 'user', text: 'fresh words', tokens: 2, state: 'active', createdAt: 2, updatedAt: 2, summarizedBy: undefined, summaryOf: undefined, document: undefined });
    expect(store.transaction(() => store.memory.index.catchUp())).toBe(1);
    expect(store.memory.recall.search('fresh', {}, { candidates: 10, halfLifeMs: 1, now: 2 })).toHaveLength(1);
  });

  it('keeps forgotten (emptied) items out of the full-text index and FTS5\'s delete-merge off (migration 8)', () => {
    const { store, dataDir } = tempStore();
    const item = (text: string) => ({ id: newMemoryId(), sessionKey: MAIN, sessionId: 's1', kind: 'turn' as const, role: 'user' as const, text, tokens: 2, state: 'evicted' as const, createdAt: 1, updatedAt: 1, summarizedBy: undefined, summaryOf: undefined, document: undefined });
    const kept = item('kept words');
    const gone = item('gone words');
    store.memory.items.insert(kept);
    store.memory.items.insert(gone);
    store.transaction(() => store.memory.index.catchUp());
    const db = rawDb(dataDir);
    const tagged = () => db.prepare<[], { rowid: number }>("SELECT rowid FROM memory_fts WHERE memory_fts MATCH 'tags : s1'").all().length;
    expect(tagged()).toBe(2);
    store.transaction(() => store.memory.forget.purge([gone.id], 2));
    expect(tagged()).toBe(1);
    expect(db.prepare("SELECT v FROM memory_fts_config WHERE k = 'deletemerge'").get()).toEqual({ v: 0 });
  });

  it('upgrades a database made before migration 10: runs no message refers to (left by deletes) are removed', () => {
    const dataDir = tempDir('brainstem-upgrade-');
    const before = openDatabase(join(dataDir, DATABASE_FILE), undefined, { migrations: MIGRATIONS.filter((m) => m.version < 10) });
    before.prepare("INSERT INTO sessions (key, agent_id, session_id, created_at, updated_at) VALUES ('agent:main:main', 'main', 's1', 1, 1)").run();
    const message = before.prepare("INSERT INTO messages (id, session_key, session_id, seq, role, body, run_id, created_at) VALUES (?, ?, ?, ?, 'user', '{}', ?, 1)");
    const run = before.prepare("INSERT INTO runs (run_id, session_key, session_id, agent_id, kind, status, created_at) VALUES (?, ?, ?, 'main', 'chat', 'ok', 1)");
    message.run('m1', 'agent:main:main', 's1', 1, 'kept');
    run.run('kept', 'agent:main:main', 's1');
    // A session deleted with its transcript: its runs stayed.
    run.run('gone-1', 'agent:main:deleted', 's2');
    // A session purged halfway: the run of a purged message stayed, the one of a message left is kept.
    message.run('m2', 'agent:main:halfway', 's3', 7, 'halfway-kept');
    run.run('halfway-gone', 'agent:main:halfway', 's3');
    run.run('halfway-kept', 'agent:main:halfway', 's3');
    // A run whose id only a message of another session uses (an id used again): no message of its own.
    message.run('m3', 'agent:main:reused', 'old', 1, 'reused');
    run.run('reused', 'agent:main:reused', 'new');
    before.close();
    const store = openStore(dataDir);
    onFinished(() => store.close());
    const db = rawDb(dataDir);
    expect(db.prepare('SELECT run_id FROM runs ORDER BY run_id').all()).toEqual([{ run_id: 'halfway-kept' }, { run_id: 'kept' }]);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'messages_run_once'").all()).toEqual([]);
  });

  it('upgrades a database made before migration 11: the scopes of keys with no item left (purged) are removed', () => {
    const dataDir = tempDir('brainstem-upgrade-');
    const before = openDatabase(join(dataDir, DATABASE_FILE), undefined, { migrations: MIGRATIONS.filter((m) => m.version < 11) });
    const scope = before.prepare('INSERT INTO memory_scopes (session_key) VALUES (?)');
    for (const key of ['agent:main:kept', 'agent:main:purged']) scope.run(key);
    before
      .prepare("INSERT INTO memory_items (id, session_key, session_id, scope, kind, role, text, state, created_at, updated_at) VALUES ('i1', 'agent:main:kept', 's1', 1, 'turn', 'user', 'hello', 'active', 1, 1)")
      .run();
    before.close();
    const store = openStore(dataDir);
    onFinished(() => store.close());
    expect(rawDb(dataDir).prepare('SELECT scope, session_key FROM memory_scopes').all()).toEqual([{ scope: 1, session_key: 'agent:main:kept' }]);
  });

  it('keeps the largest lead of a MemoryID over its createdAt: computed once (migration 12), then by each insert', () => {
    const dataDir = tempDir('brainstem-upgrade-');
    const before = openDatabase(join(dataDir, DATABASE_FILE), undefined, { migrations: MIGRATIONS.filter((m) => m.version < 12) });
    before.prepare("INSERT INTO memory_scopes (session_key) VALUES ('agent:main:lead')").run();
    const item = before.prepare(
      "INSERT INTO memory_items (id, session_key, session_id, scope, kind, role, text, state, created_at, updated_at) VALUES (?, 'agent:main:lead', 's1', 1, 'turn', 'user', 'x', 'active', ?, ?)",
    );
    const t = 1_763_800_000_000;
    for (const [idTime, createdAt] of [[t + 5_000, t], [t + 200, t + 100], [t, t + 60_000]] as const) item.run(ulid(idTime), createdAt, createdAt);
    item.run('not-a-memory-id', t, t);
    before.close();
    const store = openStore(dataDir);
    onFinished(() => store.close());
    const lead = (): unknown => rawDb(dataDir).prepare('SELECT max_id_lead AS lead FROM memory_index_state').get();
    expect(lead()).toEqual({ lead: 5_000 });
    const { session } = store.sessions.ensure('agent:main:lead', 'main', t);
    const insert = (idTime: number, createdAt: number) =>
      store.memory.items.insert({ id: ulid(idTime), sessionKey: 'agent:main:lead', sessionId: session.sessionId, kind: 'turn', role: 'user', text: 'y', tokens: 1, state: 'active', createdAt, updatedAt: createdAt, summarizedBy: undefined, summaryOf: undefined, document: undefined });
    insert(t + 1_000, t);
    expect(lead()).toEqual({ lead: 5_000 });
    expect(() =>
      store.transaction(() => {
        insert(t + 90_000, t);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(lead()).toEqual({ lead: 5_000 });
    insert(t + 7_500, t);
    expect(lead()).toEqual({ lead: 7_500 });
  });

  it('takes a lead raised in a rolled-back savepoint back with it, and raises it again for a later item', () => {
    const db = openDatabase(join(tempDir('brainstem-db-'), 'test.db'));
    onFinished(() => {
      db.close();
    });
    const items = new ItemsStore(db);
    const t = 1_763_800_000_000;
    const insert = (idTime: number) =>
      items.insert({ id: ulid(idTime), sessionKey: MAIN, sessionId: 's1', kind: 'turn', role: 'user', text: 'z', tokens: 1, state: 'active', createdAt: t, updatedAt: t, summarizedBy: undefined, summaryOf: undefined, document: undefined });
    insert(t + 100);
    expect(items.maxIdLead()).toBe(100);
    db.transaction(() => {
      try {
        db.transaction(() => {
          insert(t + 90_000);
          throw new Error('undone');
        })();
      } catch {
        // The savepoint rolled back; the outer transaction goes on.
      }
      insert(t + 300);
    })();
    expect(items.maxIdLead()).toBe(300);
    // Under the lead that was rolled back, over the one stored: still recorded.
    insert(t + 50_000);
    expect(items.maxIdLead()).toBe(50_000);
  });

  it('rolls a failing migration back whole and does not record it', () => {
    const path = join(tempDir('brainstem-db-'), 'test.db');
    const migrations: Migration[] = [
      { version: 1, name: 'table', sql: 'CREATE TABLE t (n INTEGER)' },
      { version: 2, name: 'half broken', sql: 'INSERT INTO t VALUES (2); INSERT INTO missing VALUES (1);' },
    ];
    expect(() => openDatabase(path, undefined, { migrations })).toThrow(/no such table: missing/);
    const db = new BetterSqlite3(path);
    onFinished(() => {
      db.close();
    });
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
  });

  it('opens the store a second time on the same data dir with the data intact', () => {
    const dataDir = tempDir('brainstem-store-');
    const first = openStore(dataDir);
    first.turns.accept(acceptInput('k1', 'kept', 10));
    first.close();
    const second = openStore(dataDir);
    onFinished(() => second.close());
    expect(second.runs.get('k1')?.status).toBe('queued');
    expect(second.sessions.get(MAIN)?.messageCount).toBe(1);
  });

  it('puts the database in WAL mode', () => {
    const { dataDir } = tempStore();
    expect(rawDb(dataDir).pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('closes safely twice', () => {
    const { store } = tempStore();
    store.close();
    expect(() => store.close()).not.toThrow();
  });
});

describe('TurnStore.accept', () => {
  it('creates the session, the queued run, the in-flight idempotency record and the user message', () => {
    const { store } = tempStore();
    const result = store.turns.accept(acceptInput('k1', 'hello', 1_000));
    if (result.kind !== 'accepted') throw new Error(`expected accepted, got ${result.kind}`);
    expect(result.sessionCreated).toBe(true);
    expect(result.run).toMatchObject({ runId: 'k1', sessionKey: MAIN, status: 'queued', kind: 'chat', createdAt: 1_000 });
    expect(result.userMessage).toMatchObject({ seq: 1, runId: 'k1', message: { role: 'user', content: 'hello' } });
    expect(result.userMessage.id).toMatch(ULID);
    expect(store.runs.get('k1')?.status).toBe('queued');
    expect(store.idempotency.get('k1', 1_000)).toMatchObject({ status: 'in_flight', runId: 'k1', requestHash: 'hash:hello', method: 'chat' });
    expect(store.sessions.get(MAIN)).toMatchObject({ messageCount: 1, lastPreview: 'hello' });
    expect(store.transcript.page(MAIN, result.session.sessionId, 10, 0).messages.map((m) => m.runId)).toEqual(['k1']);
  });

  it('answers a repeat with the same input as a duplicate and stores nothing new', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    const again = store.turns.accept(acceptInput('k1', 'hello', 1_001));
    expect(again).toMatchObject({ kind: 'duplicate', record: { status: 'in_flight', runId: 'k1' } });
    expect(store.sessions.get(MAIN)?.messageCount).toBe(1);
  });

  it('answers the same key with another input or method as a conflict', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    expect(store.turns.accept(acceptInput('k1', 'other', 1_001)).kind).toBe('conflict');
    expect(store.turns.accept(acceptInput('k1', 'hello', 1_001, { method: 'agent' })).kind).toBe('conflict');
    expect(store.sessions.get(MAIN)?.messageCount).toBe(1);
  });

  it('replays the finished response to a duplicate', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    store.turns.finish(finishInput('k1', 'reply', 1_100));
    expect(store.turns.accept(acceptInput('k1', 'hello', 1_200))).toMatchObject({
      kind: 'duplicate',
      record: { status: 'ok', response: { runId: 'k1', status: 'ok' } },
    });
  });

  it('accepts a key again as a new run once its record has expired', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    store.turns.finish(finishInput('k1', 'reply', 1_100, { expiresAt: 2_000 }));
    const again = store.turns.accept(acceptInput('k1', 'hello', 3_000));
    expect(again.kind).toBe('accepted');
    expect(store.runs.get('k1')).toMatchObject({ status: 'queued', createdAt: 3_000, endedAt: undefined, usage: undefined });
    expect(store.idempotency.get('k1', 3_000)?.status).toBe('in_flight');
  });

  it('never replaces a run that is still open', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    expect(() => store.runs.insert({ runId: 'k1', sessionKey: MAIN, sessionId: 'x', agentId: 'main', kind: 'chat', createdAt: 2_000 })).toThrow(/still open/);
    expect(store.runs.get('k1')).toMatchObject({ status: 'queued', createdAt: 1_000 });
  });

  it('writes nothing when a write inside the transaction fails', () => {
    const dataDir = tempDir('brainstem-store-');
    let opened: Db | undefined;
    const store = openStore(dataDir, undefined, { open: (path, options) => (opened = openDatabase(path, undefined, options)) });
    onFinished(() => store.close());
    const db = opened as Db;
    // The user message is the last write of accept: failing it must undo the session, run and key.
    db.exec("CREATE TRIGGER fail_user BEFORE INSERT ON messages WHEN NEW.body LIKE '%explode%' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
    expect(() => store.turns.accept(acceptInput('k1', 'explode', 1_000))).toThrow(/simulated failure/);
    expect(store.sessions.get(MAIN)).toBeUndefined();
    expect(store.runs.get('k1')).toBeUndefined();
    expect(store.idempotency.get('k1', 1_000)).toBeUndefined();
    expect(store.turns.accept(acceptInput('k1', 'fine', 1_001)).kind).toBe('accepted');
  });
});

describe('memory scopes', () => {
  it('forgets a scope read back in a transaction that rolled back: the next session does not get it too', () => {
    const { store, dataDir } = tempStore();
    // The first accept makes session x's full-text scope, the second reads it back; then the transaction rolls back.
    expect(() =>
      store.transaction(() => {
        store.turns.accept(acceptInput('a', 'one', 1_000, { sessionKey: 'x' }));
        store.turns.accept(acceptInput('b', 'two', 1_001, { sessionKey: 'x' }));
        throw new Error('undo');
      }),
    ).toThrow('undo');
    store.transaction(() => store.turns.accept(acceptInput('c', 'three', 1_002, { sessionKey: 'x' })));
    store.transaction(() => store.turns.accept(acceptInput('d', 'four', 1_003, { sessionKey: 'y' })));
    const rows = rawDb(dataDir).prepare('SELECT i.session_key AS key, s.session_key AS owner FROM memory_items i LEFT JOIN memory_scopes s ON s.scope = i.scope ORDER BY i.n').all();
    expect(rows).toEqual([{ key: 'x', owner: 'x' }, { key: 'y', owner: 'y' }]);
  });

  it('keeps answering each key its own scope after the bounded cache let the oldest keys go', () => {
    const { store, dataDir } = tempStore();
    const keys = Array.from({ length: SCOPE_CACHE_MAX + 10 }, (_, i) => `agent:main:s${i}`);
    store.transaction(() => keys.forEach((key) => store.memory.items.scope(key)));
    const made = keys.map((key) => store.memory.items.scope(key));
    // The first keys left the cache while the last ones were read; they are read back from the table.
    const owners = rawDb(dataDir).prepare<[], { scope: number; session_key: string }>('SELECT scope, session_key FROM memory_scopes').all();
    const owner = new Map(owners.map((row) => [row.scope, row.session_key]));
    expect(keys.every((key, i) => owner.get(made[i] ?? -1) === key && store.memory.items.scope(key) === made[i] && store.memory.items.existingScope(key) === made[i])).toBe(true);
  });
});

describe('TurnStore.finish', () => {
  it('stores the assistant message, the run ending, the tokens and the replayable response', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    const stored = store.turns.finish(finishInput('k1', 'the reply', 1_100, { end: { status: 'ok', startedAt: 1_010, endedAt: 1_100, stopReason: 'stop', usage: { input: 3, output: 5, totalTokens: 8 } } }));
    expect(stored).toMatchObject({ seq: 2, runId: 'k1', message: { role: 'assistant', content: [{ type: 'text', text: 'the reply' }] } });
    expect(store.runs.get('k1')).toMatchObject({ status: 'ok', startedAt: 1_010, endedAt: 1_100, stopReason: 'stop', usage: { input: 3, output: 5, totalTokens: 8 } });
    expect(store.idempotency.get('k1', 1_100)).toMatchObject({ status: 'ok', response: { runId: 'k1', status: 'ok' }, expiresAt: 2_100 });
    expect(store.sessions.get(MAIN)).toMatchObject({ messageCount: 2, inputTokens: 3, outputTokens: 5, lastPreview: 'the reply' });
    expect(store.transcript.page(MAIN, stored?.sessionId ?? '', 10, 0).messages.map((m) => [m.seq, m.runId])).toEqual([[1, 'k1'], [2, 'k1']]);
  });

  it('stores an error ending without an assistant message', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    const stored = store.turns.finish(
      finishInput('k1', '', 1_100, {
        end: { status: 'error', endedAt: 1_100, error: 'boom', errorKind: 'server', stopReason: 'error' },
        assistantMessage: undefined,
        outcome: 'error',
        response: { runId: 'k1', status: 'error', summary: 'boom' },
      }),
    );
    expect(stored).toBeUndefined();
    expect(store.runs.get('k1')).toMatchObject({ status: 'error', error: 'boom', errorKind: 'server' });
    expect(store.idempotency.get('k1', 1_100)).toMatchObject({ status: 'error', response: { status: 'error', summary: 'boom' } });
    expect(store.sessions.get(MAIN)?.messageCount).toBe(1);
  });

  it('ends the run and the key even when the session was deleted meanwhile', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    store.sessions.delete(MAIN);
    expect(store.turns.finish(finishInput('k1', 'late', 1_100))).toBeUndefined();
    expect(store.runs.get('k1')?.status).toBe('ok');
    expect(store.idempotency.get('k1', 1_100)?.status).toBe('ok');
  });

  it('lists only runs that have not ended as open', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('a', 'one', 1_000));
    store.turns.accept(acceptInput('b', 'two', 1_001));
    store.turns.accept(acceptInput('c', 'three', 1_002));
    store.turns.finish(finishInput('b', 'done', 1_004));
    expect(store.runs.open().map((r) => r.runId)).toEqual(['a', 'c']);
  });

  it('keeps the first ending of a run', () => {
    const { store } = tempStore();
    store.turns.accept(acceptInput('k1', 'hello', 1_000));
    expect(store.runs.end('k1', { status: 'aborted', endedAt: 1_100, stopReason: 'aborted' })).toBe(true);
    expect(store.runs.end('k1', { status: 'ok', endedAt: 1_200 })).toBe(false);
    expect(store.runs.get('k1')).toMatchObject({ status: 'aborted', endedAt: 1_100 });
  });
});

describe('TranscriptStore', () => {
  it('pages from the newest end, oldest first, saying whether older messages exist', () => {
    const { store } = tempStore();
    const sessionId = fill(store, 5);
    expect(seqs(store.transcript.page(MAIN, sessionId, 2, 0).messages)).toEqual([4, 5]);
    expect(seqs(store.transcript.page(MAIN, sessionId, 2, 2).messages)).toEqual([2, 3]);
    expect(seqs(store.transcript.page(MAIN, sessionId, 10, 4).messages)).toEqual([1]);
    const pages = [[2, 0], [2, 2], [2, 3], [5, 0], [10, 4]] as const;
    expect(pages.map(([limit, offset]) => store.transcript.page(MAIN, sessionId, limit, offset).more)).toEqual([true, true, false, false, false]);
    expect(store.transcript.count(MAIN, sessionId)).toBe(5);
  });

  it('returns the messages after a seq, oldest first, up to a limit', () => {
    const { store } = tempStore();
    const sessionId = fill(store, 5);
    expect(seqs(store.transcript.after(MAIN, sessionId, 2, 10))).toEqual([3, 4, 5]);
    expect(seqs(store.transcript.after(MAIN, sessionId, 2, 1))).toEqual([3]);
    expect(store.transcript.after(MAIN, sessionId, 5, 10)).toEqual([]);
  });

  it('returns the newest messages up to a seq, oldest first', () => {
    const { store } = tempStore();
    const sessionId = fill(store, 5);
    expect(seqs(store.transcript.upTo(MAIN, sessionId, 3, 2))).toEqual([2, 3]);
    expect(seqs(store.transcript.upTo(MAIN, sessionId, 3, 10))).toEqual([1, 2, 3]);
  });

  it('compacts all but the newest messages out of history and never reuses a seq', () => {
    const { store } = tempStore();
    const sessionId = fill(store, 5);
    const compact = (keep: number, batch = 100): number => compactAll(store, sessionId, keep, batch);
    expect(compact(2)).toBe(3);
    expect(store.transcript.count(MAIN, sessionId)).toBe(2);
    expect(store.transcript.page(MAIN, sessionId, 2, 0).more).toBe(false);
    expect(seqs(store.transcript.page(MAIN, sessionId, 10, 0).messages)).toEqual([4, 5]);
    expect(seqs(store.transcript.after(MAIN, sessionId, 0, 10))).toEqual([4, 5]);
    expect(store.transcript.upTo(MAIN, sessionId, 3, 10)).toEqual([]);
    expect(compact(2)).toBe(0);
    expect(compact(10)).toBe(0);
    const next = store.transcript.append(MAIN, sessionId, user('m6', 200), undefined);
    expect(next.seq).toBe(6);
    for (let i = 7; i <= 12; i++) store.transcript.append(MAIN, sessionId, user(`m${i}`, 200 + i), undefined);
    // A step hides the oldest first, so what is hidden stays a prefix of the seqs; the count reads what is above it.
    expect(compact(3, 2)).toBe(6);
    expect(seqs(store.transcript.page(MAIN, sessionId, 20, 0).messages)).toEqual([10, 11, 12]);
    expect(store.transcript.count(MAIN, sessionId)).toBe(3);
  });

  it('keeps the history of a reset session under its old id and starts the new one empty', () => {
    const { store } = tempStore();
    const oldId = fill(store, 3);
    const reset = store.sessions.reset(MAIN, 500);
    if (reset === undefined) throw new Error('session vanished');
    expect(reset.sessionId).not.toBe(oldId);
    expect(reset.messageCount).toBe(0);
    expect(store.transcript.page(MAIN, reset.sessionId, 10, 0)).toEqual({ messages: [], more: false });
    expect(store.transcript.count(MAIN, oldId)).toBe(3);
    expect(store.transcript.append(MAIN, reset.sessionId, user('fresh', 600), undefined).seq).toBe(4);
  });

  it('compacts a reset session, and one made again under a used key, from where their own messages start', () => {
    const { store } = tempStore();
    const oldId = fill(store, 5);
    expect(compactAll(store, oldId, 2)).toBe(3);
    const reset = store.sessions.reset(MAIN, 500);
    if (reset === undefined) throw new Error('session vanished');
    for (let i = 6; i <= 9; i++) store.transcript.append(MAIN, reset.sessionId, user(`m${i}`, 100 + i), undefined);
    expect(compactAll(store, reset.sessionId, 1)).toBe(3);
    expect(store.transcript.count(MAIN, reset.sessionId)).toBe(1);
    // The old id keeps what its own compaction left.
    expect(store.transcript.count(MAIN, oldId)).toBe(2);
    store.sessions.delete(MAIN);
    const { session } = store.sessions.ensure(MAIN, 'main', 700);
    store.transcript.append(MAIN, session.sessionId, user('again', 701), undefined);
    expect(store.transcript.count(MAIN, session.sessionId)).toBe(1);
    expect(store.transcript.compactionPoint(MAIN, session.sessionId, 0)).toBe(10);
  });

  it('refuses to append to a session that does not exist', () => {
    const { store } = tempStore();
    expect(() => store.transcript.append('agent:main:nope', 'x', user('hi', 1), undefined)).toThrow(/unknown session/);
  });
});

describe('SessionsStore.list', () => {
  function seed(store: Store): void {
    store.sessions.ensure('agent:main:a', 'main', 100);
    store.sessions.ensure('agent:main:b', 'main', 300);
    store.sessions.ensure('agent:ops:c', 'ops', 200);
    store.sessions.ensure('agent:main:d_1', 'main', 300);
    store.sessions.patchSettings('agent:main:a', { label: 'Groceries 100%' }, 400);
    store.sessions.patchSettings('agent:ops:c', { archived: true }, 200);
  }
  const keys = (result: { rows: { key: string }[] }): string[] => result.rows.map((r) => r.key);

  it('lists sessions not archived, most recently updated first, ties by key', () => {
    const { store } = tempStore();
    seed(store);
    const result = store.sessions.list({ limit: 10, offset: 0 });
    expect(keys(result)).toEqual(['agent:main:a', 'agent:main:b', 'agent:main:d_1']);
    expect(result.total).toBe(3);
  });

  it('pages with limit and offset and reports the total of the filter', () => {
    const { store } = tempStore();
    seed(store);
    expect(store.sessions.list({ limit: 1, offset: 1 })).toMatchObject({ total: 3 });
    expect(keys(store.sessions.list({ limit: 1, offset: 1 }))).toEqual(['agent:main:b']);
  });

  it('filters by a list of keys; an empty list matches nothing', () => {
    const { store } = tempStore();
    seed(store);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, keys: ['agent:main:b', 'agent:main:zzz'] }))).toEqual(['agent:main:b']);
    expect(store.sessions.list({ limit: 10, offset: 0, keys: [] })).toEqual({ rows: [], total: 0 });
  });

  it('filters by agent, label, update time and archived', () => {
    const { store } = tempStore();
    seed(store);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, agentId: 'ops', archived: true }))).toEqual(['agent:ops:c']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, agentId: 'ops' }))).toEqual([]);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, label: 'Groceries 100%' }))).toEqual(['agent:main:a']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, updatedSince: 300 }))).toEqual(['agent:main:a', 'agent:main:b', 'agent:main:d_1']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, updatedSince: 301 }))).toEqual(['agent:main:a']);
  });

  it('keeps its totals and the session count exact as sessions are made, archived, unarchived and deleted', () => {
    const { store } = tempStore();
    seed(store);
    // Each total as the list gives it (kept counts) and as a filter that matches every row counts it (a scan).
    const totals = (): number[] => [
      store.sessions.count(),
      ...[undefined, 'main', 'ops'].flatMap((agentId) =>
        [false, true].flatMap((archived) => {
          const query = { limit: 1, offset: 0, archived, ...(agentId === undefined ? {} : { agentId }) };
          return [store.sessions.list(query).total, store.sessions.list({ ...query, updatedSince: 0 }).total];
        }),
      ),
    ];
    expect(totals()).toEqual([4, 3, 3, 1, 1, 3, 3, 0, 0, 0, 0, 1, 1]);
    store.sessions.patchSettings('agent:main:b', { archived: true }, 500);
    store.sessions.patchSettings('agent:ops:c', { archived: null }, 500);
    store.sessions.patchSettings('agent:main:a', { label: 'renamed' }, 500);
    store.sessions.ensure('agent:ops:e', 'ops', 600);
    store.sessions.delete('agent:main:d_1');
    expect(totals()).toEqual([4, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 0, 0]);
  });

  it('searches key and label, ASCII case aside, taking % and _ literally, with a search of any length', () => {
    const { store } = tempStore();
    seed(store);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: 'grocer' }))).toEqual(['agent:main:a']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: 'GROCERIES 1' }))).toEqual(['agent:main:a']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: 'AGENT:MAIN:D' }))).toEqual(['agent:main:d_1']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: 'x'.repeat(100_000) }))).toEqual([]);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: '100%' }))).toEqual(['agent:main:a']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: '%' }))).toEqual(['agent:main:a']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: 'd_' }))).toEqual(['agent:main:d_1']);
    expect(keys(store.sessions.list({ limit: 10, offset: 0, search: '_' }))).toEqual(['agent:main:d_1']);
  });
});

describe('IdempotencyStore', () => {
  it('sweeps at most the given number of records, those that expired first', () => {
    const { store } = tempStore();
    for (const [key, expiresAt] of [['c', 300], ['a', 100], ['b', 200]] as const) {
      store.idempotency.reserve(key, 'chat', 'h', key, 0);
      store.idempotency.complete(key, 'ok', { status: 'ok' }, expiresAt);
    }
    expect(store.idempotency.sweep(1_000, 2)).toBe(2);
    expect(['a', 'b', 'c'].filter((key) => store.idempotency.get(key, 0) !== undefined)).toEqual(['c']);
  });

  it('sweeps only finished records past their expiry, never in-flight ones', () => {
    const { store } = tempStore();
    store.idempotency.reserve('in-flight', 'chat', 'h', 'in-flight', 0);
    store.idempotency.reserve('expired', 'chat', 'h', 'expired', 0);
    store.idempotency.complete('expired', 'ok', { status: 'ok' }, 100);
    store.idempotency.reserve('alive', 'chat', 'h', 'alive', 0);
    store.idempotency.complete('alive', 'error', { status: 'error' }, 1_000);
    expect(store.idempotency.sweep(500, 100)).toBe(1);
    expect(store.idempotency.get('expired', 0)).toBeUndefined();
    expect(store.idempotency.get('in-flight', 10_000_000)?.status).toBe('in_flight');
    expect(store.idempotency.get('alive', 500)?.status).toBe('error');
    expect(store.idempotency.sweep(10_000_000, 100)).toBe(1);
    expect(store.idempotency.get('in-flight', 10_000_000)?.status).toBe('in_flight');
  });

  it('treats an expired record as absent before it is swept', () => {
    const { store } = tempStore();
    store.idempotency.reserve('k', 'chat', 'h', 'k', 0);
    store.idempotency.complete('k', 'ok', { status: 'ok' }, 100);
    expect(store.idempotency.get('k', 100)?.status).toBe('ok');
    expect(store.idempotency.get('k', 101)).toBeUndefined();
  });
});

describe('MemoryIDs', () => {
  it('are 26-character ULIDs', () => {
    expect(newMemoryId()).toMatch(ULID);
  });

  it('sort by creation time, also when many are made in one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 1_000 }, () => newMemoryId(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const later = newMemoryId(now + 1);
    expect(later > (ids.at(-1) ?? '')).toBe(true);
  });

  it('follow the transcript order of one session', () => {
    const { store } = tempStore();
    const { session } = store.sessions.ensure(MAIN, 'main', 1);
    const stored = store.transaction(() => Array.from({ length: 50 }, (_, i) => store.transcript.append(MAIN, session.sessionId, user(`m${i}`, Date.now()), undefined)));
    expect(stored.map((m) => m.id)).toEqual([...stored.map((m) => m.id)].sort());
  });
});
