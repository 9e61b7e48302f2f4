import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_KEY_MAX_CHARS } from '../../protocol/schema.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf, type Frame } from '../helpers/raw-client.js';

const isChat = (runId: string, state?: string) => (f: Frame) =>
  f.event === 'chat' && (f.payload as { runId?: string }).runId === runId && (state === undefined || (f.payload as { state?: string }).state === state);

describe('chat.send', () => {
  it('acks with the idempotency key as runId, then streams deltas that add up to the final text', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const ack = resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'one two three four five', idempotencyKey: 'run-1' }), 'chat.send');
    expect(ack).toEqual({ runId: 'run-1', status: 'started', messageSeq: 1 });
    const final = payloadOf(await client.event('chat', isChat('run-1', 'final')), 'chat');
    const expected = `${LOCAL_REPLY_PREFIX}one two three four five`;
    expect(final).toMatchObject({ runId: 'run-1', sessionKey: 'agent:main:main', state: 'final', stopReason: 'stop' });
    if (final.state !== 'final') throw new Error('unreachable');
    expect(final.message?.content).toEqual([{ type: 'text', text: expected }]);
    const deltas = client.events('chat').map((f) => payloadOf(f, 'chat')).filter((p) => p.state === 'delta');
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.map((d) => (d.state === 'delta' ? d.deltaText : '')).join('')).toBe(expected);
    const last = deltas.at(-1);
    expect(last?.state === 'delta' && last.message.content[0]?.text).toBe(expected);
  });

  it('brackets the run with agent lifecycle start and end and streams cumulative assistant text', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: 'run-2' });
    await client.event('agent', (f) => (f.payload as { data: { phase?: string } }).data.phase === 'end');
    const agent = client.events('agent').map((f) => payloadOf(f, 'agent'));
    expect(agent[0]).toMatchObject({ runId: 'run-2', stream: 'lifecycle', data: { phase: 'start' }, sessionKey: 'agent:main:main' });
    expect(agent.at(-1)).toMatchObject({ stream: 'lifecycle', data: { phase: 'end', stopReason: 'stop' } });
    expect(agent.map((a) => a.seq)).toEqual(agent.map((_, i) => i + 1));
    const assistant = agent.filter((a) => a.stream === 'assistant');
    expect(assistant.at(-1)?.data).toMatchObject({ text: `${LOCAL_REPLY_PREFIX}hi` });
  });

  it('ends a run as OpenClaw does: lifecycle end, then the terminal chat event with its seq', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 30, chatDeltaIntervalMs: 0 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const endOf = (runId: string): { lifecycle: number; chat: Frame } => {
      const frames = client.events().filter((f) => (f.event === 'chat' || f.event === 'agent') && (f.payload as { runId?: string }).runId === runId);
      const lifecycle = frames.findIndex((f) => f.event === 'agent' && ['end', 'error'].includes((f.payload as { data: { phase?: string } }).data.phase ?? ''));
      const chat = frames.filter((f) => f.event === 'chat');
      const chatSeqs = chat.map((f) => (f.payload as { seq: number }).seq);
      // Chat seqs rise through the run, and the terminal event takes the lifecycle event's seq.
      expect(chatSeqs).toEqual([...new Set(chatSeqs)].sort((a, b) => a - b));
      expect(frames.indexOf(chat.at(-1) as Frame)).toBe(lifecycle + 1);
      expect((chat.at(-1)?.payload as { seq: number }).seq).toBe((frames[lifecycle]?.payload as { seq: number }).seq);
      return { lifecycle, chat: chat.at(-1) as Frame };
    };

    await client.request('chat.send', { sessionKey: 'main', message: 'one two three four', idempotencyKey: 'ends-ok' });
    await client.event('chat', isChat('ends-ok', 'final'));
    expect(client.events('chat').filter(isChat('ends-ok', 'delta')).length).toBeGreaterThan(1);
    expect(endOf('ends-ok').chat.payload).toMatchObject({ state: 'final' });

    await client.request('chat.send', { sessionKey: 'main', message: 'a b c d e f g h i j k l', idempotencyKey: 'ends-aborted' });
    await client.event('chat', isChat('ends-aborted', 'delta'));
    await client.request('chat.abort', { sessionKey: 'main', runId: 'ends-aborted' });
    await client.event('chat', isChat('ends-aborted', 'aborted'));
    expect(endOf('ends-aborted').chat.payload).toMatchObject({ state: 'aborted' });
  });

  it('numbers events per connection with seq 1, 2, 3 ...', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: 'run-3' });
    await client.event('chat', isChat('run-3', 'final'));
    const seqs = client.events().filter((f) => f.event !== 'connect.challenge').map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('generates an idempotency key when the client sends none (openclaw-node sessions.send)', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const ack = resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'no key' }), 'chat.send');
    expect(ack.status).toBe('started');
    expect(ack.runId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a repeat while running with in_flight and after the end with the cached result', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 40 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const send = { sessionKey: 'main', message: 'same', idempotencyKey: 'dup-1' };
    expect(resultOf(await client.request('chat.send', send), 'chat.send').status).toBe('started');
    expect(resultOf(await client.request('chat.send', send), 'chat.send')).toEqual({ runId: 'dup-1', status: 'in_flight' });
    await client.event('chat', isChat('dup-1', 'final'));
    expect(resultOf(await client.request('chat.send', send), 'chat.send')).toEqual({ runId: 'dup-1', status: 'ok' });
    const history = resultOf(await client.request('chat.history', { sessionKey: 'main' }), 'chat.history');
    expect('messages' in history && history.messages.filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it('refuses the same key with different input as a chat-request-conflict', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'first', idempotencyKey: 'k' });
    const res = await client.request('chat.send', { sessionKey: 'main', message: 'second', idempotencyKey: 'k' });
    expect(res.error).toMatchObject({ code: 'INVALID_REQUEST', details: { reason: 'chat-request-conflict' } });
  });

  it('takes an idempotency key of up to 1,024 characters and refuses a longer one (INVALID_REQUEST)', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const longest = 'k'.repeat(IDEMPOTENCY_KEY_MAX_CHARS);
    expect(resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: longest }), 'chat.send').runId).toBe(longest);
    for (const method of ['chat.send', 'agent'] as const) {
      const res = await client.request(method, { sessionKey: 'main', message: 'hi', idempotencyKey: `${longest}k` });
      expect(res.error, method).toMatchObject({ code: 'INVALID_REQUEST' });
    }
  });

  it('refuses a turn that would take the waiting turns past maxQueuedTurnBytes (QUEUE_FULL), before storing it', async () => {
    const gw = await startTestGateway({ config: { maxConcurrentRuns: 1, maxQueuedTurnBytes: 2_000, localChunkDelayMs: 200 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'busy', message: 'x'.repeat(5_000), idempotencyKey: 'running' });
    await client.event('agent', (f) => (f.payload as { runId?: string }).runId === 'running');
    // The running turn no longer counts; the first waiting one gets in whatever its size.
    expect(resultOf(await client.request('chat.send', { sessionKey: 'other', message: 'y'.repeat(1_500), idempotencyKey: 'waits' }), 'chat.send').status).toBe('started');
    const refused = await client.request('chat.send', { sessionKey: 'third', message: 'z'.repeat(600), idempotencyKey: 'refused' });
    expect(refused.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, retryAfterMs: 1_000, details: { code: 'QUEUE_FULL', queue: 'gateway', limit: 2_000, unit: 'bytes' } });
    expect(gw.store.runs.get('refused')).toBeUndefined();
    expect(resultOf(await client.request('chat.send', { sessionKey: 'third', message: 'small', idempotencyKey: 'fits' }), 'chat.send').status).toBe('started');
  });

  it('answers a repeat of a waiting turn with in_flight while its queue is full, and refuses a new turn there', async () => {
    const gw = await startTestGateway({ config: { maxConcurrentRuns: 1, maxQueuedTurnsPerSession: 1, localChunkDelayMs: 200 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'runs', idempotencyKey: 'runs' });
    await client.event('agent', (f) => (f.payload as { runId?: string }).runId === 'runs');
    const waits = { sessionKey: 'main', message: 'waits', idempotencyKey: 'waits' };
    expect(resultOf(await client.request('chat.send', waits), 'chat.send').status).toBe('started');
    const refused = await client.request('chat.send', { sessionKey: 'main', message: 'one more', idempotencyKey: 'more' });
    expect(refused.error).toMatchObject({ code: 'UNAVAILABLE', details: { code: 'QUEUE_FULL', queue: 'session', limit: 1 } });
    expect(resultOf(await client.request('chat.send', waits), 'chat.send')).toEqual({ runId: 'waits', status: 'in_flight' });
  });

  it('runs the turns of one session strictly in order', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 5 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    for (let i = 0; i < 5; i++) await client.request('chat.send', { sessionKey: 'order', message: `m${i}`, idempotencyKey: `o${i}` });
    await client.event('chat', isChat('o4', 'final'));
    const starts = client.events('agent').map((f) => payloadOf(f, 'agent')).filter((a) => a.data.phase === 'start' || a.data.phase === 'end');
    expect(starts.map((a) => `${a.runId}:${String(a.data.phase)}`)).toEqual(['o0:start', 'o0:end', 'o1:start', 'o1:end', 'o2:start', 'o2:end', 'o3:start', 'o3:end', 'o4:start', 'o4:end']);
  });

  it('chat.abort stops the active run at once and reports it aborted with the partial text', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'a long reply that streams slowly', idempotencyKey: 'slow' });
    await client.event('agent', (f) => (f.payload as { stream: string }).stream === 'assistant');
    const started = Date.now();
    const abort = resultOf(await client.request('chat.abort', { sessionKey: 'main' }), 'chat.abort');
    expect(abort).toEqual({ ok: true, aborted: true, runIds: ['slow'] });
    const aborted = payloadOf(await client.event('chat', isChat('slow', 'aborted')), 'chat');
    expect(Date.now() - started).toBeLessThan(150);
    expect(aborted).toMatchObject({ state: 'aborted', stopReason: 'aborted' });
    const wait = resultOf(await client.request('agent.wait', { runId: 'slow', timeoutMs: 1000 }), 'agent.wait');
    expect(wait).toMatchObject({ runId: 'slow', status: 'error', stopReason: 'aborted' });
  });

  it('takes a timeout beyond what a Node timer holds (~24.8 days) as that long, not as 1 ms', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 20 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const days35 = 3_000_000_000;
    await client.request('chat.send', { sessionKey: 'main', message: 'a patient turn', idempotencyKey: 'patient', timeoutMs: days35 });
    const waited = client.request('agent.wait', { runId: 'patient', timeoutMs: days35 });
    expect(payloadOf(await client.event('chat', (f) => isChat('patient')(f) && (f.payload as { state: string }).state !== 'delta'), 'chat').state).toBe('final');
    expect(resultOf(await waited, 'agent.wait')).toMatchObject({ runId: 'patient', status: 'ok' });
  });

  it('interrupt mode aborts the active run and runs the new turn next', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 100 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'first turn here', idempotencyKey: 'a' });
    await client.event('agent', (f) => (f.payload as { runId: string; stream: string }).runId === 'a' && (f.payload as { stream: string }).stream === 'assistant');
    await client.request('chat.send', { sessionKey: 'main', message: 'second', idempotencyKey: 'b', queueMode: 'interrupt' });
    await client.event('chat', isChat('a', 'aborted'));
    await client.event('chat', isChat('b', 'final'));
  });
});

describe('agent', () => {
  it('answers twice on one id: accepted, then the final result', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    client.send({ type: 'req', id: 'ag-1', method: 'agent', params: { message: 'hello agent', idempotencyKey: 'agent-run' } });
    const first = await client.next((f) => f.type === 'res' && f.id === 'ag-1');
    expect(first.payload).toMatchObject({ runId: 'agent-run', sessionKey: 'agent:main:main', agentId: 'main', status: 'accepted' });
    const second = await client.next((f) => f.type === 'res' && f.id === 'ag-1' && f !== first);
    expect(second).toMatchObject({
      ok: true,
      payload: { runId: 'agent-run', status: 'ok', summary: 'completed', result: { payloads: [{ text: `${LOCAL_REPLY_PREFIX}hello agent` }] } },
    });
  });

  it('agent.wait returns the ending of a finished run', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'x', idempotencyKey: 'w1' });
    const wait = resultOf(await client.request('agent.wait', { runId: 'w1', timeoutMs: 2000 }), 'agent.wait');
    expect(wait).toMatchObject({ runId: 'w1', status: 'ok', stopReason: 'stop' });
    expect(wait.endedAt).toBeGreaterThanOrEqual(wait.startedAt ?? 0);
  });
});
