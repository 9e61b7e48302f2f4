import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../memory/db.js';
import { DATABASE_FILE } from '../../memory/store.js';
import type { MemoryItem } from '../../protocol/methods/memory.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf, type Frame } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { scriptedProvider } from '../helpers/scripted-provider.js';

const MEMORY_CONFIG = { memoryMaxItems: 20, memorySummarizeAtPercent: 10, memoryKeepRecentItems: 2, memoryManagerIntervalMs: 3_600_000 };
const TURNS = [
  'Our production kubernetes cluster runs in Frankfurt.',
  'The billing service must be migrated before Friday.',
  'Please remember that Alice owns the invoice pipeline.',
];

const isFinal = (runId: string) => (f: Frame) => f.event === 'chat' && (f.payload as { runId?: string; state?: string }).runId === runId && (f.payload as { state?: string }).state === 'final';

async function chat(client: RawClient, message: string, runId: string): Promise<void> {
  resultOf(await client.request('chat.send', { sessionKey: 'mem', message, idempotencyKey: runId }), 'chat.send');
  await client.event('chat', isFinal(runId));
}

async function recallBoth(client: RawClient, id: string): Promise<{ topic: unknown; byId: unknown; detail: unknown }> {
  return {
    topic: resultOf(await client.request('memory.recall', { topic: 'kubernetes Frankfurt' }), 'memory.recall'),
    byId: resultOf(await client.request('memory.recall', { id }), 'memory.recall'),
    detail: resultOf(await client.request('memory.recall', { id, detail: true }), 'memory.recall'),
  };
}

function withoutScores(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'score' ? undefined : v)));
}

describe('memory.v1 over the wire', () => {
  it('chat → MemoryIDs → forced summarization → recall by topic and by a summarized id → restart → the same answers', async () => {
    const dataDir = tempDir('brainstem-memwire-');
    const provider = scriptedProvider('scripted');
    let gw: TestGateway = await startTestGateway({ dataDir, config: MEMORY_CONFIG, provider });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    const legacy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    for (const [i, text] of TURNS.entries()) await chat(client, text, `m${i}`);

    const history = resultOf(await client.request('chat.history', { sessionKey: 'mem' }), 'chat.history');
    const messageIds = 'messages' in history ? history.messages.map((m) => m.__openclaw?.id) : [];
    const stored = resultOf(await client.request('memory.query', { sessionKey: 'mem', limit: 50 }), 'memory.query');
    expect(stored.items.map((item) => item.id).sort()).toEqual([...messageIds].sort());
    expect(stored.items.every((item) => item.kind === 'turn' && item.state === 'active')).toBe(true);
    const first = stored.items.find((item) => item.text === TURNS[0]) as MemoryItem;

    expect(await gw.gateway.services.memory.manager?.runOnce()).toBe(1);
    const event = payloadOf(await client.event('memory.event', (f) => (f.payload as { op: string }).op === 'summarize'), 'memory.event');
    expect(event).toMatchObject({ sessionKey: 'agent:main:mem', op: 'summarize', summaryId: expect.any(String) });
    expect(event.ids).toContain(first.id);

    const before = await recallBoth(client, first.id);
    expect(before.topic).toMatchObject({ summaries: [{ id: event.summaryId, kind: 'summary', state: 'active' }] });
    expect(before.byId).toEqual({ summaries: [expect.objectContaining({ id: event.summaryId })] });
    expect(before.detail).toMatchObject({ items: [{ id: first.id, kind: 'turn', state: 'summarized', text: TURNS[0], summarizedBy: event.summaryId }] });
    await client.event('memory.event', (f) => (f.payload as { op: string }).op === 'recall');

    // The next turn's prompt is built from the context: the summary, then the turns kept.
    await chat(client, 'What do you remember?', 'm3');
    const prompt = provider.requests.at(-1)?.messages ?? [];
    expect(prompt[0]?.role).toBe('system');
    expect(prompt[0]?.content).toContain('[summary]');
    expect(prompt.at(-1)).toEqual({ role: 'user', content: 'What do you remember?' });

    // Restart on the same data dir: the context comes back from its snapshot, the answers are the same.
    expect(legacy.events().map((f) => f.event).filter((name) => name === 'memory.event' || name === 'session.ack')).toEqual([]);
    await gw.close();
    gw = await startTestGateway({ dataDir, config: MEMORY_CONFIG, provider });
    const again = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    const after = await recallBoth(again, first.id);
    expect(withoutScores(after)).toEqual(withoutScores(before));
    await chat(again, 'And now?', 'm4');
    const next = provider.requests.at(-1)?.messages ?? [];
    expect(next.slice(0, prompt.length)).toEqual(prompt);
    expect(next.slice(prompt.length)).toEqual([{ role: 'assistant', content: 'ok from scripted' }, { role: 'user', content: 'And now?' }]);
  });

  it('recall by an evicted id returns the whole item, before and after a restart', async () => {
    const dataDir = tempDir('brainstem-evict-');
    let gw = await startTestGateway({ dataDir, config: { memoryMaxItems: 3 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    await chat(client, 'The spare key is under the blue pot.', 'e1');
    await chat(client, 'second turn', 'e2');
    const evict = payloadOf(await client.event('memory.event', (f) => (f.payload as { op: string }).op === 'evict'), 'memory.event');
    expect(evict.reason).toBe('over-limit');
    const id = evict.ids[0] as string;
    const before = resultOf(await client.request('memory.recall', { id }), 'memory.recall');
    expect(before).toEqual({ summaries: [], items: [expect.objectContaining({ id, kind: 'turn', state: 'evicted', text: 'The spare key is under the blue pot.' })] });
    await gw.close();
    gw = await startTestGateway({ dataDir, config: { memoryMaxItems: 3 } });
    const again = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    expect(resultOf(await again.request('memory.recall', { id }), 'memory.recall')).toEqual(before);
  });

  it('answers memory.forget with the forgotten ids and logs nothing to legacy clients', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    const legacy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await chat(client, 'my locker code is 4711', 'f1');
    const { items } = resultOf(await client.request('memory.query', { text: 'locker' }), 'memory.query');
    const target = items[0] as MemoryItem;
    const res = resultOf(await client.request('memory.forget', { ids: [target.id] }), 'memory.forget');
    expect(res.forgotten).toEqual([target.id]);
    const forgetEvent = payloadOf(await client.event('memory.event', (f) => (f.payload as { op: string }).op === 'forget'), 'memory.event');
    expect(forgetEvent.ids).toEqual([target.id]);
    const left = resultOf(await client.request('memory.query', { text: 'locker' }), 'memory.query').items;
    expect(left.map((item) => item.id)).not.toContain(target.id);
    expect(resultOf(await client.request('memory.query', { ids: [target.id] }), 'memory.query').items).toEqual([expect.objectContaining({ kind: 'tombstone', state: 'forgotten', text: '' })]);
    const bad = await client.request('memory.forget', {});
    expect(bad.error).toMatchObject({ code: 'INVALID_REQUEST' });
    await legacy.request('health', {});
    expect(legacy.events().some((f) => f.event === 'memory.event')).toBe(false);
  });

  it('memory methods are unknown when memoryV1 is off, and chat still works from the active context', async () => {
    const gw = await startTestGateway({ config: { memoryV1: false } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    const res = await client.request('memory.query', {});
    expect(res.error).toMatchObject({ code: 'INVALID_REQUEST', message: 'unknown method: memory.query' });
    await chat(client, 'hello without memory', 'off1');
  });

  it('drafts a summary of long messages in the summary thread, the same as on the event loop (memorySummaryThread off)', async () => {
    const long = (topic: string): string =>
      Array.from({ length: 60 }, (_, i) => `The ${topic} step ${i} needs a review by the platform team before Friday.`).join(' ');
    const summaries: string[] = [];
    for (const memorySummaryThread of [true, false]) {
      const warnings: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
      const gw = await startTestGateway({ config: { ...MEMORY_CONFIG, memorySummarizer: 'extractive', memorySummaryThread }, provider: scriptedProvider('scripted'), logger });
      const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
      for (const [i, topic] of ['ledger migration', 'billing cutover', 'invoice pipeline'].entries()) await chat(client, long(topic), `long${i}`);
      expect(await gw.gateway.services.memory.manager?.runOnce()).toBe(1);
      const event = payloadOf(await client.event('memory.event', (f) => (f.payload as { op: string }).op === 'summarize'), 'memory.event');
      const recalled = resultOf(await client.request('memory.recall', { id: event.summaryId }), 'memory.recall');
      summaries.push(recalled.summaries[0]?.text ?? '');
      await gw.close();
      expect(warnings).toEqual([]);
    }
    expect(summaries[0]).toContain('ledger migration');
    expect(summaries[0]).toBe(summaries[1]);
  });

  it('with the default offline model, summaries are extractive (memorySummarizer auto), not an echo of the transcript', async () => {
    const dataDir = tempDir('brainstem-memauto-');
    // No provider given: built from the config as the CLI does, the local model behind a failover chain.
    const gw = await startTestGateway({ dataDir, config: MEMORY_CONFIG });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    for (const [i, text] of TURNS.entries()) await chat(client, text, `auto${i}`);
    expect(await gw.gateway.services.memory.manager?.runOnce()).toBe(1);
    const event = payloadOf(await client.event('memory.event', (f) => (f.payload as { op: string }).op === 'summarize'), 'memory.event');
    gw.gateway.services.memory.service.flush();
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    const row = db.prepare('SELECT method, model FROM summaries WHERE id = ?').get(event.summaryId);
    db.close();
    await gw.close();
    expect(row).toEqual({ method: 'extractive', model: null });
  });
});
