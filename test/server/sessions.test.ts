import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../memory/db.js';
import { DATABASE_FILE } from '../../memory/store.js';
import { PURGE_BATCH } from '../../workers/session-service.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { storeHistory } from '../helpers/memory-store.js';
import { RawClient, payloadOf, resultOf } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { isChat, runTurn } from '../helpers/turns.js';

const ADMIN = ['operator.admin'];

async function admin(gw: TestGateway): Promise<RawClient> {
  return RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ADMIN });
}

async function list(c: RawClient, params: Record<string, unknown> = {}) {
  return resultOf(await c.request('sessions.list', params), 'sessions.list');
}

async function history(c: RawClient, sessionKey: string) {
  const result = resultOf(await c.request('chat.history', { sessionKey }), 'chat.history');
  if (!('messages' in result) || 'kind' in result) throw new Error('expected a full history page');
  return result;
}

async function describeSession(c: RawClient, key: string) {
  return resultOf(await c.request('sessions.describe', { key }), 'sessions.describe').session;
}

/** Creates sessions in order, with distinct updatedAt milliseconds. */
async function createSessions(c: RawClient, keys: string[]): Promise<void> {
  for (const key of keys) {
    await describeSession(c, key);
    await sleep(3);
  }
}

describe('sessions.list', () => {
  it('lists rows with the OpenClaw fields and the page envelope', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await runTurn(c, 'main', 'r1', 'first words');
    await c.request('sessions.patch', { key: 'main', label: 'Main chat' });
    const result = await list(c);
    expect(result).toMatchObject({ count: 1, totalCount: 1, limitApplied: 100, hasMore: false, path: gw.store.path, defaults: { model: 'local-echo', modelProvider: 'local' } });
    expect(result.nextOffset).toBeUndefined();
    expect(result.ts).toBeGreaterThan(0);
    const [row] = result.sessions;
    expect(row).toMatchObject({
      key: 'agent:main:main',
      kind: 'direct',
      agentId: 'main',
      label: 'Main chat',
      displayName: 'Main chat',
      lastMessagePreview: `${LOCAL_REPLY_PREFIX}first words`,
      messageCount: 2,
      hasActiveRun: false,
    });
    expect(row?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(row?.updatedAt).toBeGreaterThanOrEqual(row?.createdAt ?? Infinity);
    expect(row?.inputTokens).toBeGreaterThan(0);
    expect(row?.outputTokens).toBeGreaterThan(0);
    expect(row?.totalTokens).toBe((row?.inputTokens ?? 0) + (row?.outputTokens ?? 0));
    expect(row?.activeRunIds).toBeUndefined();
  });

  it('orders sessions by updatedAt, most recent first', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await createSessions(c, ['a', 'b', 'c']);
    expect((await list(c)).sessions.map((s) => s.key)).toEqual(['agent:main:c', 'agent:main:b', 'agent:main:a']);
    await c.request('sessions.patch', { key: 'a', label: 'touched' });
    const rows = (await list(c)).sessions;
    expect(rows.map((s) => s.key)).toEqual(['agent:main:a', 'agent:main:c', 'agent:main:b']);
    expect(rows.map((s) => s.updatedAt)).toEqual([...rows.map((s) => s.updatedAt)].sort((x, y) => y - x));
  });

  it('pages with limit and offset, telling hasMore and nextOffset', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await createSessions(c, ['p1', 'p2', 'p3', 'p4', 'p5']);
    const first = await list(c, { limit: 2 });
    expect(first).toMatchObject({ count: 2, totalCount: 5, limitApplied: 2, hasMore: true, nextOffset: 2 });
    expect(first.sessions.map((s) => s.key)).toEqual(['agent:main:p5', 'agent:main:p4']);
    const second = await list(c, { limit: 2, offset: first.nextOffset });
    expect(second.sessions.map((s) => s.key)).toEqual(['agent:main:p3', 'agent:main:p2']);
    expect(second).toMatchObject({ hasMore: true, nextOffset: 4 });
    const last = await list(c, { limit: 2, offset: 4 });
    expect(last).toMatchObject({ count: 1, totalCount: 5, hasMore: false });
    expect(last.nextOffset).toBeUndefined();
    expect(last.sessions.map((s) => s.key)).toEqual(['agent:main:p1']);
  });

  it('filters by search (key or label substring) and by exact label', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await c.request('sessions.patch', { key: 'work-notes', label: 'Project X' });
    await c.request('sessions.patch', { key: 'home', label: 'Groceries' });
    await c.request('sessions.patch', { key: 'misc' });
    expect((await list(c, { search: 'notes' })).sessions.map((s) => s.key)).toEqual(['agent:main:work-notes']);
    expect((await list(c, { search: 'grocer' })).sessions.map((s) => s.key)).toEqual(['agent:main:home']);
    expect((await list(c, { search: '%' })).sessions).toEqual([]);
    expect((await list(c, { label: 'Project X' })).sessions.map((s) => s.key)).toEqual(['agent:main:work-notes']);
    expect((await list(c, { label: 'Project' })).sessions).toEqual([]);
    expect((await list(c, { search: 'zzz' })).totalCount).toBe(0);
  });

  it('with activeOnly lists only sessions with an open run, and names the run', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const c = await admin(gw);
    await createSessions(c, ['idle']);
    await c.request('chat.send', { sessionKey: 'busy', message: 'slow one', idempotencyKey: 'busy-run' });
    const active = await list(c, { activeOnly: true });
    expect(active.sessions.map((s) => [s.key, s.hasActiveRun, s.activeRunIds])).toEqual([['agent:main:busy', true, ['busy-run']]]);
    expect(active.count).toBe(1);
    expect((await list(c)).sessions.map((s) => s.key).sort()).toEqual(['agent:main:busy', 'agent:main:idle']);
    await c.request('chat.abort', { sessionKey: 'busy' });
    await c.event('chat', isChat('busy-run', 'aborted'));
    expect((await list(c, { activeOnly: true })).sessions).toEqual([]);
  });

  it('with activeOnly pages over the active sessions, not over all of them', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const c = await admin(gw);
    await c.request('chat.send', { sessionKey: 'busy', message: 'slow one', idempotencyKey: 'busy-page' });
    await sleep(3);
    await createSessions(c, ['idle-1', 'idle-2']);
    const page = await list(c, { activeOnly: true, limit: 1 });
    expect(page.sessions.map((s) => s.key)).toEqual(['agent:main:busy']);
    expect(page).toMatchObject({ count: 1, totalCount: 1, hasMore: false });
  });
});

describe('sessions.describe', () => {
  it('answers with the canonical key agent:main:<key> for a bare and a canonical key alike', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const bare = await describeSession(c, 'topic');
    expect(bare).toMatchObject({ key: 'agent:main:topic', agentId: 'main', messageCount: 0, hasActiveRun: false });
    const canonical = await describeSession(c, 'agent:main:topic');
    expect(canonical.sessionId).toBe(bare.sessionId);
    expect((await describeSession(c, 'main')).key).toBe('agent:main:main');
  });

  it('refuses an unknown agent with INVALID_REQUEST unknown agent id', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const byParam = await c.request('sessions.describe', { key: 'main', agentId: 'ghost' });
    expect(byParam.error).toEqual({ code: 'INVALID_REQUEST', message: 'unknown agent id "ghost"', details: { code: 'UNKNOWN_AGENT_ID' } });
    const byKey = await c.request('chat.send', { sessionKey: 'agent:ghost:main', message: 'hi', idempotencyKey: 'ghost-1' });
    expect(byKey.error).toEqual({ code: 'INVALID_REQUEST', message: 'unknown agent id "ghost"', details: { code: 'UNKNOWN_AGENT_ID' } });
    expect((await list(c)).sessions).toEqual([]);
  });
});

describe('sessions.patch', () => {
  it('sets a label and clears it with null', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const set = resultOf(await c.request('sessions.patch', { key: 'main', label: 'Hello', thinkingLevel: 'low' }), 'sessions.patch');
    expect(set).toMatchObject({ ok: true, key: 'agent:main:main', entry: { label: 'Hello', thinkingLevel: 'low' }, resolved: { key: 'agent:main:main', agentId: 'main' } });
    expect((await describeSession(c, 'main')).label).toBe('Hello');
    const cleared = resultOf(await c.request('sessions.patch', { key: 'main', label: null }), 'sessions.patch');
    expect(cleared.entry.label).toBeUndefined();
    expect(cleared.entry.displayName).toBeUndefined();
    expect(cleared.entry.thinkingLevel).toBe('low');
    expect((await describeSession(c, 'main')).label).toBeUndefined();
  });

  it('refuses a stale expectedSessionId with SESSION_ID_MISMATCH and accepts the current one', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const { sessionId } = await describeSession(c, 'main');
    const res = await c.request('sessions.patch', { key: 'main', expectedSessionId: 'not-the-id', label: 'x' });
    expect(res.error).toEqual({
      code: 'INVALID_REQUEST',
      message: `session id changed: expected not-the-id, found ${sessionId}`,
      details: { code: 'SESSION_ID_MISMATCH' },
    });
    expect((await describeSession(c, 'main')).label).toBeUndefined();
    const ok = resultOf(await c.request('sessions.patch', { key: 'main', expectedSessionId: sessionId, label: 'x' }), 'sessions.patch');
    expect(ok.entry.label).toBe('x');
  });
});

describe('sessions.reset', () => {
  it('starts a new sessionId with an empty history; old messages are not returned', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await runTurn(c, 'main', 'before-reset', 'old words');
    const before = await describeSession(c, 'main');
    expect((await history(c, 'main')).messages).toHaveLength(2);
    const reset = resultOf(await c.request('sessions.reset', { key: 'main', reason: 'new' }), 'sessions.reset');
    expect(reset.entry.sessionId).not.toBe(before.sessionId);
    expect(reset.entry).toMatchObject({ key: 'agent:main:main', messageCount: 0 });
    const after = await history(c, 'main');
    expect(after.sessionId).toBe(reset.entry.sessionId);
    expect(after.messages).toEqual([]);
    await runTurn(c, 'main', 'after-reset', 'new words');
    const fresh = await history(c, 'main');
    expect(fresh.messages.map((m) => m.content)).toEqual(['new words', [{ type: 'text', text: `${LOCAL_REPLY_PREFIX}new words` }]]);
  });

  it('does not count the partial reply of a run it cut off in the new transcript', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 100 } });
    const c = await admin(gw);
    await c.request('chat.send', { sessionKey: 'main', message: 'one two three four five', idempotencyKey: 'cut-off' });
    await c.event('agent', (f) => (f.payload as { runId: string; stream: string }).runId === 'cut-off' && (f.payload as { stream: string }).stream === 'assistant');
    resultOf(await c.request('sessions.reset', { key: 'main' }), 'sessions.reset');
    await c.event('chat', isChat('cut-off', 'aborted'));
    await c.request('agent.wait', { runId: 'cut-off', timeoutMs: 2000 });
    expect((await history(c, 'main')).messages).toEqual([]);
    const row = await describeSession(c, 'main');
    expect(row.messageCount).toBe(0);
    expect(row.lastMessagePreview).toBeUndefined();
  });

  it('refuses a stale expectedSessionId', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await describeSession(c, 'main');
    const res = await c.request('sessions.reset', { key: 'main', expectedSessionId: 'stale' });
    expect(res.error).toMatchObject({ code: 'INVALID_REQUEST', details: { code: 'SESSION_ID_MISMATCH' } });
  });
});

describe('sessions.delete', () => {
  it('removes the session from the list and its transcript', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await runTurn(c, 'doomed', 'doomed-run');
    await createSessions(c, ['kept']);
    const res = resultOf(await c.request('sessions.delete', { key: 'doomed' }), 'sessions.delete');
    expect(res).toEqual({ ok: true, key: 'agent:main:doomed', deleted: true, archived: [] });
    expect((await list(c)).sessions.map((s) => s.key)).toEqual(['agent:main:kept']);
    expect((await history(c, 'doomed')).messages).toEqual([]);
    expect(resultOf(await c.request('sessions.delete', { key: 'doomed-never' }), 'sessions.delete').deleted).toBe(false);
  });

  it('lets the key be used again, also when the transcript was kept', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    for (const deleteTranscript of [false, true]) {
      const key = `again-${deleteTranscript}`;
      await runTurn(c, key, `${key}-1`, 'before the delete');
      expect(resultOf(await c.request('sessions.delete', { key, deleteTranscript }), 'sessions.delete').deleted).toBe(true);
      await runTurn(c, key, `${key}-2`, 'after the delete');
      const { messages } = await history(c, key);
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(JSON.stringify(messages[0])).toContain('after the delete');
    }
  });

  it('answers at once and removes a long transcript in the background, batch by batch', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const oldSessionId = storeHistory(gw.store, 'agent:main:long', PURGE_BATCH * 5);
    expect(resultOf(await c.request('sessions.delete', { key: 'long' }), 'sessions.delete').deleted).toBe(true);
    // The key is usable while the purge goes on; the old lines are never shown again.
    await runTurn(c, 'long', 'long-again', 'a new start');
    expect((await history(c, 'long')).messages).toHaveLength(2);
    await vi.waitFor(() => expect(gw.store.purges.pending()).toBe(false));
    expect(gw.store.transcript.page('agent:main:long', oldSessionId, 10, 0).messages).toEqual([]);
    expect((await history(c, 'long')).messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('finishes a purge the previous process left after a restart', async () => {
    const dataDir = tempDir('brainstem-purge-');
    const first = await startTestGateway({ dataDir, autoClose: false });
    const oldSessionId = storeHistory(first.store, 'agent:main:long', 50);
    // As if the process died right after the delete's commit: the purge is recorded, nothing removed yet.
    first.store.transaction(() => {
      first.store.sessions.delete('agent:main:long');
      first.store.purges.request('agent:main:long', Date.now());
    });
    await first.gateway.close('restart');
    first.store.close();
    const gw = await startTestGateway({ dataDir });
    await vi.waitFor(() => expect(gw.store.purges.pending()).toBe(false));
    expect(gw.store.transcript.page('agent:main:long', oldSessionId, 100, 0).messages).toEqual([]);
  });

  it('leaves no row of the session once purged: messages, memory items, summaries, events, runs', async () => {
    const dataDir = tempDir('brainstem-purge-');
    // A summary is made at the first pass; the batch writer writes it later (a 10-minute timer here, or a flush).
    const config = { memoryMaxItems: 20, memorySummarizeAtPercent: 10, memoryKeepRecentItems: 2, memoryManagerIntervalMs: 3_600_000, memorySnapshotIntervalMs: 600_000 };
    const gw = await startTestGateway({ dataDir, config });
    const c = await admin(gw);
    for (let i = 0; i < 3; i += 1) await runTurn(c, 'doomed', `doomed-${i}`, `doomed line ${i}`);
    // `agent` keeps its reply in its idempotency record, for repeats of the request.
    const agent = { sessionKey: 'doomed', message: 'doomed secret', idempotencyKey: 'doomed-agent' };
    c.send({ type: 'req', id: 'ag', method: 'agent', params: agent });
    await c.next((f) => f.type === 'res' && f.id === 'ag' && (f.payload as { status?: string }).status === 'ok');
    await runTurn(c, 'kept', 'kept-0', 'kept line');
    expect(await gw.gateway.services.memory.manager?.runOnce()).toBe(1);

    expect(resultOf(await c.request('sessions.delete', { key: 'doomed' }), 'sessions.delete').deleted).toBe(true);
    await vi.waitFor(() => expect(gw.store.purges.pending()).toBe(false));
    gw.gateway.services.memory.service.flush();
    // A repeat still runs nothing (the key's record stays until it expires), and no longer carries the reply.
    const repeat = await c.request('agent', agent, 'ag-again');
    expect(repeat.payload).toMatchObject({ runId: 'doomed-agent', status: 'ok', result: { payloads: [] } });
    expect(gw.store.sessions.get('agent:main:doomed')).toBeUndefined();

    const db = openDatabase(join(dataDir, DATABASE_FILE));
    const rows = (key: string) =>
      Object.fromEntries(
        ['messages', 'memory_items', 'summaries', 'events', 'runs', 'ram_snapshots'].map((table) => [
          table,
          db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE session_key = ?`).get(key)?.n,
        ]),
      );
    expect(rows('agent:main:doomed')).toEqual({ messages: 0, memory_items: 0, summaries: 0, events: 0, runs: 0, ram_snapshots: 0 });
    expect(JSON.stringify(db.prepare('SELECT * FROM idempotency').all())).not.toContain('doomed secret');
    expect(rows('agent:main:kept')).toMatchObject({ messages: 2, memory_items: 2, runs: 1 });
    // Nor the key's name in the full-text index's table of session tags.
    const scopes = db.prepare<[], { key: string }>('SELECT session_key AS key FROM memory_scopes').all().map((row) => row.key);
    expect(scopes).toContain('agent:main:kept');
    expect(scopes).not.toContain('agent:main:doomed');
    db.close();
  });

  it('with archivedOnly deletes only an archived session', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await createSessions(c, ['live']);
    await c.request('sessions.patch', { key: 'old', archived: true });
    expect((await list(c)).sessions.map((s) => s.key)).toEqual(['agent:main:live']);
    expect((await list(c, { archived: true })).sessions.map((s) => [s.key, s.archived])).toEqual([['agent:main:old', true]]);

    const live = resultOf(await c.request('sessions.delete', { key: 'live', archivedOnly: true }), 'sessions.delete');
    expect(live.deleted).toBe(false);
    expect((await list(c)).sessions.map((s) => s.key)).toEqual(['agent:main:live']);
    const old = resultOf(await c.request('sessions.delete', { key: 'old', archivedOnly: true }), 'sessions.delete');
    expect(old.deleted).toBe(true);
    expect((await list(c, { archived: true })).sessions).toEqual([]);
  });
});

describe('sessions.compact', () => {
  it('keeps the newest maxLines messages in the history', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    for (const n of [1, 2, 3]) await runTurn(c, 'main', `c${n}`, `turn ${n}`);
    const res = resultOf(await c.request('sessions.compact', { key: 'main', maxLines: 2 }), 'sessions.compact');
    expect(res).toEqual({ ok: true, key: 'agent:main:main', compacted: true, kept: 2, removed: 4 });
    const messages = (await history(c, 'main')).messages;
    expect(messages.map((m) => [m.role, m.__openclaw?.seq])).toEqual([['user', 5], ['assistant', 6]]);
    const again = resultOf(await c.request('sessions.compact', { key: 'main', maxLines: 2 }), 'sessions.compact');
    expect(again).toMatchObject({ compacted: false, kept: 2, removed: 0 });
  });

  it('refuses an unknown session', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const res = await c.request('sessions.compact', { key: 'nothing-here' });
    expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'session not found: agent:main:nothing-here', details: { code: 'SESSION_NOT_FOUND' } });
  });
});

describe('sessions.send, session.send and sessions.steer', () => {
  it.each(['sessions.send', 'session.send'])('%s acks like chat.send and runs the turn', async (method) => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const ack = resultOf(await c.request(method, { key: 'main', message: 'via send', idempotencyKey: `${method}-1` }), 'sessions.send');
    expect(ack).toEqual({ runId: `${method}-1`, status: 'started', messageSeq: 1 });
    await c.event('chat', isChat(`${method}-1`, 'final'));
    const generated = resultOf(await c.request(method, { key: 'main', message: 'no key' }), 'sessions.send');
    expect(generated.runId).toMatch(/^[0-9a-f-]{36}$/);
    await c.event('chat', isChat(generated.runId, 'final'));
    expect((await history(c, 'main')).messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['via send', 'no key']);
  });

  it('sessions.steer interrupts the active run and runs the new message next', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 100 } });
    const c = await admin(gw);
    await c.request('sessions.send', { key: 'main', message: 'a long first reply', idempotencyKey: 'steer-a' });
    await c.event('agent', (f) => (f.payload as { runId: string; stream: string }).runId === 'steer-a' && (f.payload as { stream: string }).stream === 'assistant');
    resultOf(await c.request('sessions.steer', { key: 'main', message: 'change course', idempotencyKey: 'steer-b' }), 'sessions.steer');
    await c.event('chat', isChat('steer-a', 'aborted'));
    await c.event('chat', isChat('steer-b', 'final'));
  });
});

describe('sessions.abort', () => {
  it('aborts the active run of a session by key', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const c = await admin(gw);
    await c.request('chat.send', { sessionKey: 'main', message: 'slow reply here', idempotencyKey: 'ab-key' });
    const res = resultOf(await c.request('sessions.abort', { key: 'main' }), 'sessions.abort');
    expect(res).toEqual({ ok: true, aborted: true, runIds: ['ab-key'] });
    await c.event('chat', isChat('ab-key', 'aborted'));
    expect(resultOf(await c.request('sessions.abort', { key: 'main' }), 'sessions.abort')).toEqual({ ok: true, aborted: false, runIds: [] });
  });

  it('aborts one run by runId alone', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 100 } });
    const c = await admin(gw);
    await c.request('chat.send', { sessionKey: 'one', message: 'slow reply here', idempotencyKey: 'ab-run' });
    await c.request('chat.send', { sessionKey: 'two', message: 'other', idempotencyKey: 'ab-other' });
    expect(resultOf(await c.request('sessions.abort', { runId: 'ab-run' }), 'sessions.abort')).toEqual({ ok: true, aborted: true, runIds: ['ab-run'] });
    await c.event('chat', isChat('ab-run', 'aborted'));
    await c.event('chat', isChat('ab-other', 'final'));
    expect(resultOf(await c.request('sessions.abort', { runId: 'no-such-run' }), 'sessions.abort')).toEqual({ ok: true, aborted: false, runIds: [] });
  });

  it('leaves queued turns alone unless clearQueued is set', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const c = await admin(gw);
    for (const id of ['q1', 'q2', 'q3']) await c.request('chat.send', { sessionKey: 'main', message: `turn ${id}`, idempotencyKey: id });
    await c.event('agent', (f) => (f.payload as { runId: string }).runId === 'q1');
    expect(resultOf(await c.request('sessions.abort', { key: 'main' }), 'sessions.abort').runIds).toEqual(['q1']);
    await c.event('chat', isChat('q1', 'aborted'));
    await c.event('agent', (f) => (f.payload as { runId: string }).runId === 'q2');
    const cleared = resultOf(await c.request('sessions.abort', { key: 'main', clearQueued: true }), 'sessions.abort');
    expect(cleared).toEqual({ ok: true, aborted: true, runIds: ['q2', 'q3'] });
    await c.event('chat', isChat('q2', 'aborted'));
    await c.event('chat', isChat('q3', 'aborted'));
    const wait = resultOf(await c.request('agent.wait', { runId: 'q3', timeoutMs: 1000 }), 'agent.wait');
    expect(wait).toMatchObject({ status: 'error', stopReason: 'aborted' });
  });

  it('refuses a request with neither key nor runId', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const res = await c.request('sessions.abort', {});
    expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid sessions.abort params: key or runId is required' });
  });
});

describe('chat.inject', () => {
  it('appends an assistant message, announces it as a final chat event inject-<messageId>, and shows it in history', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const res = resultOf(await c.request('chat.inject', { sessionKey: 'main', message: 'from the operator' }), 'chat.inject');
    expect(res.ok).toBe(true);
    expect(res.messageId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const event = payloadOf(await c.event('chat', isChat(`inject-${res.messageId}`)), 'chat');
    expect(event).toMatchObject({ runId: `inject-${res.messageId}`, sessionKey: 'agent:main:main', seq: 0, state: 'final' });
    if (event.state !== 'final') throw new Error('unreachable');
    expect(event.message).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'from the operator' }], __openclaw: { id: res.messageId } });
    const messages = (await history(c, 'main')).messages;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'from the operator' }], __openclaw: { id: res.messageId, seq: 1 } });
  });
});
