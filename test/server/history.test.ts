import { describe, expect, it } from 'vitest';
import type { MethodResult } from '../../protocol/registry.js';
import { LOCAL_MODEL_ID, LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient, resultOf } from '../helpers/raw-client.js';
import { runTurn } from '../helpers/turns.js';

type History = MethodResult<'chat.history'>;
type Page = Extract<History, { sessionId: string }>;
type Delta = Extract<History, { kind: 'delta' }>;

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

async function admin(gw: TestGateway): Promise<RawClient> {
  return RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'] });
}

async function page(c: RawClient, params: Record<string, unknown> = {}, method: 'chat.history' | 'chat.startup' = 'chat.history'): Promise<Page> {
  const result = resultOf(await c.request(method, { sessionKey: 'main', ...params }), 'chat.history');
  if (!('sessionId' in result)) throw new Error(`expected a full page, got ${JSON.stringify(result)}`);
  return result;
}

async function delta(c: RawClient, cursor: string): Promise<Delta> {
  const result = resultOf(await c.request('chat.history', { sessionKey: 'main', cursor }), 'chat.history');
  if (!('kind' in result) || result.kind !== 'delta') throw new Error(`expected a delta, got ${JSON.stringify(result)}`);
  return result;
}

/** Appends `n` assistant messages `m1` … `mn` with chat.inject (cheap: no model run). */
async function inject(c: RawClient, n: number, prefix = 'm'): Promise<void> {
  const pending = Array.from({ length: n }, (_, i) => c.request('chat.inject', { sessionKey: 'main', message: `${prefix}${i + 1}` }));
  for (const res of await Promise.all(pending)) resultOf(res, 'chat.inject');
}

const textOf = (m: Page['messages'][number]): string =>
  typeof m.content === 'string' ? m.content : m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

describe('chat.history', () => {
  it('returns at most 200 messages by default, the newest, oldest first', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 205);
    const result = await page(c);
    expect(result.messages).toHaveLength(200);
    expect(textOf(result.messages[0] as Page['messages'][number])).toBe('m6');
    expect(textOf(result.messages.at(-1) as Page['messages'][number])).toBe('m205');
    const seqs = result.messages.map((m) => m.__openclaw?.seq ?? 0);
    expect(seqs).toEqual(seqs.map((_, i) => i + 6));
    expect(result).toMatchObject({ hasMore: true, nextOffset: 200 });
  });

  it('returns the given limit and pages back with offset, hasMore and nextOffset', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 12);
    const newest = await page(c, { limit: 5 });
    expect(newest.messages.map(textOf)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect(newest).toMatchObject({ hasMore: true, nextOffset: 5 });
    const older = await page(c, { limit: 5, offset: newest.nextOffset });
    expect(older.messages.map(textOf)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(older).toMatchObject({ hasMore: true, nextOffset: 10 });
    const oldest = await page(c, { limit: 5, offset: older.nextOffset });
    expect(oldest.messages.map(textOf)).toEqual(['m1', 'm2']);
    expect(oldest.hasMore).toBe(false);
    expect(oldest.nextOffset).toBeUndefined();
  });

  it('drops the oldest messages to stay within maxBytes, and says there is more', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 6, 'x'.repeat(100));
    const full = await page(c);
    expect(full.messages).toHaveLength(6);
    expect(full.hasMore).toBe(false);
    const oneSize = Buffer.byteLength(JSON.stringify({ ...full.messages[0], __openclaw: undefined }));
    const trimmed = await page(c, { maxBytes: oneSize * 2 + 10 });
    expect(trimmed.messages.map(textOf)).toEqual(full.messages.slice(-2).map(textOf));
    expect(trimmed.hasMore).toBe(true);
    // Paging back with nextOffset under the same budget reaches every message, none skipped.
    const collected = [...trimmed.messages];
    let next = trimmed;
    while (next.hasMore) {
      next = await page(c, { maxBytes: oneSize * 2 + 10, offset: next.nextOffset });
      collected.unshift(...next.messages);
    }
    expect(collected.map(textOf)).toEqual(full.messages.map(textOf));
    // One message is always returned, even when it alone is over the budget.
    expect((await page(c, { maxBytes: 1 })).messages.map(textOf)).toEqual(full.messages.slice(-1).map(textOf));
  });

  it('drops the oldest messages to stay within maxChars', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 4, 'abcde');
    const trimmed = await page(c, { maxChars: 13 });
    expect(trimmed.messages.map(textOf)).toEqual(['abcde3', 'abcde4']);
    expect(trimmed.hasMore).toBe(true);
  });

  it('with the deltaCursor returns only the newer messages, as kind "delta"', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 3);
    const first = await page(c);
    expect(first.deltaCursor).toBe(`${first.sessionId}:3`);
    const none = await delta(c, first.deltaCursor);
    expect(none).toMatchObject({ kind: 'delta', messages: [], deltaCursor: first.deltaCursor, sessionInfo: { key: 'agent:main:main', sessionId: first.sessionId } });

    await inject(c, 2, 'new');
    const newer = await delta(c, first.deltaCursor);
    expect(newer.messages.map(textOf)).toEqual(['new1', 'new2']);
    expect(newer.deltaCursor).toBe(`${first.sessionId}:5`);
    expect((await delta(c, newer.deltaCursor)).messages).toEqual([]);
  });

  it('gives the cursor of the newest message on an empty and on an older page', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    const empty = await page(c);
    expect(empty.messages).toEqual([]);
    expect(empty.deltaCursor).toBe(`${empty.sessionId}:0`);
    await inject(c, 4);
    const older = await page(c, { limit: 2, offset: 2 });
    expect(older.deltaCursor).toBe(`${empty.sessionId}:4`);
  });

  it('answers an old cursor with kind "reset" after the session was reset', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 2);
    const before = await page(c);
    resultOf(await c.request('sessions.reset', { key: 'main' }), 'sessions.reset');
    expect(resultOf(await c.request('chat.history', { sessionKey: 'main', cursor: before.deltaCursor }), 'chat.history')).toEqual({ kind: 'reset' });
    expect(resultOf(await c.request('chat.history', { sessionKey: 'main', cursor: 'garbage' }), 'chat.history')).toEqual({ kind: 'reset' });
  });

  it('reports the streaming run as inFlightRun with its text so far', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 150 } });
    const c = await admin(gw);
    await c.request('chat.send', { sessionKey: 'main', message: 'one two three four five six', idempotencyKey: 'streaming' });
    const firstText = await c.event('agent', (f) => (f.payload as { runId: string; stream: string }).runId === 'streaming' && (f.payload as { stream: string }).stream === 'assistant');
    const soFar = (firstText.payload as { data: { text: string } }).data.text;
    const during = await page(c);
    expect(during.inFlightRun?.runId).toBe('streaming');
    expect(during.inFlightRun?.text.startsWith(soFar)).toBe(true);
    expect(`${LOCAL_REPLY_PREFIX}one two three four five six`.startsWith(during.inFlightRun?.text ?? '-')).toBe(true);
    expect(during.messages.map((m) => m.role)).toEqual(['user']);
    await c.request('chat.abort', { sessionKey: 'main' });
    await c.request('agent.wait', { runId: 'streaming', timeoutMs: 2000 });
    expect((await page(c)).inFlightRun).toBeUndefined();
  });

  it('stamps every message with its MemoryID (a ULID) and seq, and the assistant with model, provider, usage and stopReason', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await runTurn(c, 'main', 'stamped', 'stamp this');
    const [user, assistant] = (await page(c)).messages;
    expect(user).toMatchObject({ role: 'user', content: 'stamp this', __openclaw: { seq: 1, runId: 'stamped' } });
    expect(assistant).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text', text: `${LOCAL_REPLY_PREFIX}stamp this` }],
      model: LOCAL_MODEL_ID,
      provider: 'local',
      stopReason: 'stop',
      __openclaw: { seq: 2, runId: 'stamped' },
    });
    expect(assistant?.usage?.input).toBeGreaterThan(0);
    expect(assistant?.usage?.output).toBeGreaterThan(0);
    for (const m of [user, assistant]) {
      expect(m?.__openclaw?.id).toMatch(ULID);
      expect(m?.timestamp).toBeGreaterThan(0);
    }
    expect((user?.__openclaw?.id ?? '') < (assistant?.__openclaw?.id ?? '')).toBe(true);
  });

  it('carries the session envelope: sessionKey, sessionId, sessionInfo, defaults and settings', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await c.request('sessions.patch', { key: 'main', label: 'Labelled', thinkingLevel: 'high', fastMode: true, verboseLevel: 'on' });
    const result = await page(c);
    expect(result).toMatchObject({
      sessionKey: 'agent:main:main',
      sessionInfo: { key: 'agent:main:main', sessionId: result.sessionId, agentId: 'main', label: 'Labelled' },
      defaults: { model: LOCAL_MODEL_ID, modelProvider: 'local', agentId: 'main' },
      thinkingLevel: 'high',
      fastMode: true,
      verboseLevel: 'on',
    });
  });
});

describe('chat.startup', () => {
  it('answers with the same shape as chat.history', async () => {
    const gw = await startTestGateway();
    const c = await admin(gw);
    await inject(c, 3);
    const startup = await page(c, { limit: 2 }, 'chat.startup');
    const history = await page(c, { limit: 2 });
    expect(startup).toEqual(history);
    expect(startup.messages.map(textOf)).toEqual(['m2', 'm3']);
  });
});
