/**
 * Model failures through the wire, against the mock OpenAI-compatible and Anthropic servers: error kinds,
 * failover with `status` events, Retry-After, timeouts, dropped connections, abort, and the whole-run deadline.
 * Each case checks what the client receives and that the stored run tells the same story.
 */
import { describe, expect, it } from 'vitest';
import type { MockRequest } from '../helpers/mock-http-server.js';
import { anthropicScript } from '../helpers/mock-anthropic.js';
import { openaiScript } from '../helpers/mock-openai.js';
import { captureLogs } from '../helpers/log-capture.js';
import { modelOn, startModelGateway, startVendorMock } from '../helpers/model-gateway.js';
import { TEST_KEY, VENDORS, type Vendor } from '../helpers/provider-vendors.js';
import { resultOf } from '../helpers/raw-client.js';
import { chatTurn, expectConsistent, send, storedRun, wireRun } from '../helpers/run-outcome.js';

const turn = (idempotencyKey: string, extra: { timeoutMs?: number; queueMode?: string } = {}) => ({
  sessionKey: 'main',
  message: 'hello',
  idempotencyKey,
  ...extra,
});
/** Short provider limits for the timeout cases, in ms: short enough to keep the suite quick, long enough for a busy machine. */
const SHORT = { providerFirstTokenTimeoutMs: 600, providerIdleTimeoutMs: 600 };
/** Upper bound for "at once" on a shared 2-core machine, in ms. */
const PROMPTLY_MS = 1_500;

/** Resolves with the time the mock saw the client close the request, or fails after `ms`. */
async function closedWithin(request: MockRequest | undefined, ms: number): Promise<number> {
  if (request === undefined) throw new Error('no such request');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the mock did not see the connection close within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([request.closed, late]);
  } finally {
    clearTimeout(timer);
  }
}

function refusal(vendor: Vendor) {
  return vendor.name === 'openai'
    ? openaiScript.stream([], { finishReason: 'content_filter' })
    : anthropicScript.stream([], { stopReason: 'refusal' });
}

describe.each(VENDORS)('$name failures over the wire', (vendor) => {
  const other = VENDORS.find((v) => v !== vendor) as Vendor;

  /** The vendor's mock as the primary model and the other vendor's mock as the fallback. */
  async function chain(config: Record<string, unknown> = {}) {
    const primary = await startVendorMock(vendor);
    const fallback = await startVendorMock(other);
    const { gw, client } = await startModelGateway([modelOn(vendor, primary, 'primary'), modelOn(other, fallback, 'fallback')], { config });
    return { primary, fallback, gw, client };
  }

  describe('a single model', () => {
    it.each([
      ['HTTP 500', 'unknown', () => vendor.serverError(500), /HTTP 500/],
      ['429 with a Retry-After too long to wait', 'rate_limit', () => vendor.rateLimited('60'), /HTTP 429/],
      ['context length exceeded', 'context_length', () => vendor.contextLength(), /context window/],
      ['a refusal', 'refusal', () => refusal(vendor), /refused/],
    ] as const)('ends the run with an error event on %s, errorKind %s', async (_, kind, script, message) => {
      const mock = await startVendorMock(vendor);
      mock.enqueue(script());
      const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
      const { wire, stored } = await chatTurn(client, gw, turn('fails'));
      expect(wire.terminal).toMatchObject({ state: 'error', errorKind: kind, stopReason: 'error' });
      expect(wire.terminal.state === 'error' && wire.terminal.errorMessage).toMatch(message);
      expect(wire.statuses).toEqual([]);
      expect(mock.requests).toHaveLength(1);
      expectConsistent(wire, stored);
    });

    it('times out a first token that never comes, closes the connection, and ends with errorKind timeout', async () => {
      const mock = await startVendorMock(vendor);
      mock.enqueue({ steps: [{ hang: true }] });
      const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')], { config: SHORT });
      const { wire, stored } = await chatTurn(client, gw, turn('no-first-token'));
      expect(wire.terminal).toMatchObject({ state: 'error', errorKind: 'timeout' });
      expect(wire.terminal.state === 'error' && wire.terminal.errorMessage).toMatch(/no first token within 600 ms/);
      await closedWithin(mock.requests[0], PROMPTLY_MS);
      expectConsistent(wire, stored);
    });

    it('keeps an API key out of the error event, the stored run and the logs, even when the vendor echoes it', async () => {
      const mock = await startVendorMock(vendor);
      mock.enqueue(vendor.unauthorized(TEST_KEY));
      const logs = captureLogs('trace');
      const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')], { logger: logs.logger });
      const { wire, stored } = await chatTurn(client, gw, turn('leaky'));
      expect(wire.terminal).toMatchObject({ state: 'error', errorKind: 'unknown' });
      expect(JSON.stringify(wire.chat)).not.toContain(TEST_KEY);
      expect(JSON.stringify(stored)).not.toContain(TEST_KEY);
      expect(logs.lines.length).toBeGreaterThan(0);
      expect(logs.lines.join('')).not.toContain(TEST_KEY);
      const header = vendor.name === 'openai' ? mock.requests[0]?.headers.authorization : mock.requests[0]?.headers['x-api-key'];
      expect(header).toContain(TEST_KEY);
    });
  });

  describe('failover', () => {
    it('tells the client with a status event and answers from the fallback, which the transcript records', async () => {
      const { primary, fallback, gw, client } = await chain();
      primary.enqueue(vendor.serverError(500));
      const { wire, stored } = await chatTurn(client, gw, turn('failover'));
      expect(wire.statuses).toEqual([
        expect.objectContaining({ state: 'status', phase: 'failover', retry: expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'server' }) }),
      ]);
      expect(wire.chat.indexOf(wire.statuses[0]!)).toBeLessThan(wire.chat.findIndex((p) => p.state === 'delta'));
      expect(wire.terminal.state).toBe('final');
      expect(wire.text).toBe('mock reply to: hello');
      expect(stored.message).toMatchObject({ model: 'fallback-model', provider: other.name });
      expect(fallback.requests[0]?.body?.model).toBe('fallback-model');
      expect(JSON.stringify(fallback.requests[0]?.body?.messages)).toContain('hello');
      expectConsistent(wire, stored);
    });

    it('answers from the model the session was patched to (sessions.patch model), falling back to the others', async () => {
      const { primary, fallback, gw, client } = await chain();
      expect((await client.request('sessions.patch', { key: 'main', model: 'fallback' })).ok).toBe(true);
      const { stored } = await chatTurn(client, gw, turn('patched'));
      expect(stored.message).toMatchObject({ model: 'fallback-model', provider: other.name });
      expect(primary.requests).toHaveLength(0);
      fallback.enqueue(other.serverError(500));
      const { wire } = await chatTurn(client, gw, turn('patched-fails'));
      expect(wire.statuses).toEqual([expect.objectContaining({ phase: 'failover', retry: expect.objectContaining({ from: 'fallback', to: 'primary' }) })]);
      expect(primary.requests).toHaveLength(1);
    });

    it('waits out a short Retry-After on 429 and asks the same model again (status phase retry)', async () => {
      const { primary, fallback, gw, client } = await chain();
      primary.enqueue(vendor.rateLimited('1'));
      const started = performance.now();
      const { wire, stored } = await chatTurn(client, gw, turn('retry'));
      expect(performance.now() - started).toBeGreaterThanOrEqual(950);
      expect(wire.statuses).toEqual([
        expect.objectContaining({ phase: 'retry', retry: expect.objectContaining({ model: 'primary', reason: 'rate_limit', retryAfterMs: 1000 }) }),
      ]);
      expect(wire.terminal.state).toBe('final');
      expect(primary.requests).toHaveLength(2);
      expect(fallback.requests).toHaveLength(0);
      expect(stored.message).toMatchObject({ model: 'primary-model', provider: vendor.name });
      expectConsistent(wire, stored);
    });

    it('moves on at once on 429 with a Retry-After longer than it waits', async () => {
      const { primary, fallback, gw, client } = await chain();
      primary.enqueue(vendor.rateLimited('60'));
      const { wire, stored } = await chatTurn(client, gw, turn('long-retry'));
      expect(wire.statuses).toEqual([
        expect.objectContaining({ phase: 'failover', retry: expect.objectContaining({ reason: 'rate_limit', retryAfterMs: 60_000 }) }),
      ]);
      expect(fallback.requests).toHaveLength(1);
      expect(wire.terminal.state).toBe('final');
      expectConsistent(wire, stored);
    });

    it.each([
      ['a connection dropped before any text', 'connect', () => vendor.raw(': opening\n\n', { then: 'drop' })],
      ['a first token that never comes', 'timeout', () => ({ steps: [{ hang: true as const }] })],
    ])('fails over on %s (reason %s)', async (_, reason, script) => {
      const { primary, fallback, gw, client } = await chain(SHORT);
      primary.enqueue(script());
      const { wire, stored } = await chatTurn(client, gw, turn('before-output'));
      expect(wire.statuses).toEqual([expect.objectContaining({ phase: 'failover', retry: expect.objectContaining({ reason }) })]);
      expect(wire.terminal.state).toBe('final');
      expect(fallback.requests).toHaveLength(1);
      expect(primary.requests[0]?.clientClosed || reason === 'connect').toBe(true);
      expectConsistent(wire, stored);
    });
  });

  describe('a failure after output started', () => {
    it.each([
      ['a stall mid-stream', 'timeout', 'hang', /stalled/],
      ['a dropped connection', 'unknown', 'drop', /ended before the model finished|cannot reach/],
    ] as const)('is not retried on %s: the partial answer stays, errorKind %s', async (_, kind, then, message) => {
      const { primary, fallback, gw, client } = await chain(SHORT);
      primary.enqueue(vendor.stream(['partial ', 'answer'], { then }));
      const { wire, stored } = await chatTurn(client, gw, turn('after-output'));
      expect(wire.terminal).toMatchObject({ state: 'error', errorKind: kind, stopReason: 'error' });
      expect(wire.terminal.state === 'error' && wire.terminal.errorMessage).toMatch(message);
      expect(wire.text).toBe('partial answer');
      expect(wire.statuses).toEqual([]);
      expect(fallback.requests).toHaveLength(0);
      expect(stored.message).toMatchObject({ model: 'primary-model', provider: vendor.name });
      if (then === 'hang') await closedWithin(primary.requests[0], PROMPTLY_MS);
      expectConsistent(wire, stored);
    });
  });

  describe('abort in the middle', () => {
    it.each([
      ['chat.abort', { method: 'chat.abort', params: { sessionKey: 'main' } }],
      ['sessions.abort', { method: 'sessions.abort', params: { key: 'main' } }],
    ] as const)('%s closes the HTTP request at once and keeps the partial answer', async (_, abort) => {
      const mock = await startVendorMock(vendor);
      mock.enqueue(vendor.stream(['the beginning'], { then: 'hang' }));
      const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
      const params = turn('aborted');
      await send(client, params);
      await client.event('chat', (f) => (f.payload as { runId: string; state: string }).state === 'delta');
      const started = performance.now();
      const res = resultOf(await client.request(abort.method, abort.params), abort.method);
      expect(res).toEqual({ ok: true, aborted: true, runIds: ['aborted'] });
      const closedAt = await closedWithin(mock.requests[0], PROMPTLY_MS);
      expect(closedAt - started).toBeLessThan(PROMPTLY_MS);
      const wire = await wireRun(client, 'aborted');
      expect(wire.terminal).toMatchObject({ state: 'aborted', stopReason: 'aborted' });
      expect(wire.text).toBe('the beginning');
      expectConsistent(wire, await storedRun(client, gw, params));
    });

    it('interrupt mode closes the running request at once and answers the new turn', async () => {
      const mock = await startVendorMock(vendor);
      mock.enqueue(vendor.stream(['first '], { then: 'hang' }));
      const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
      await send(client, turn('first'));
      await client.event('chat', (f) => (f.payload as { state: string }).state === 'delta');
      const started = performance.now();
      const second = { ...turn('second', { queueMode: 'interrupt' }), message: 'second' };
      await send(client, second);
      const closedAt = await closedWithin(mock.requests[0], PROMPTLY_MS);
      expect(closedAt - started).toBeLessThan(PROMPTLY_MS);
      expect((await wireRun(client, 'first')).terminal.state).toBe('aborted');
      const wire = await wireRun(client, 'second');
      // The new turn's prompt ends with its own message (Anthropic merges it with the unanswered one before it).
      expect(wire.text).toMatch(/^mock reply to: (hello\n\n)?second$/);
      expect(mock.requests).toHaveLength(2);
      expectConsistent(wire, await storedRun(client, gw, second));
    });
  });

  describe('the whole-run deadline', () => {
    it('covers a Retry-After wait: the run ends timeout and no model is asked again', async () => {
      const { primary, fallback, gw, client } = await chain();
      primary.enqueue(vendor.rateLimited('3'));
      const started = performance.now();
      const { wire, stored } = await chatTurn(client, gw, turn('deadline-wait', { timeoutMs: 600 }));
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(wire.statuses.map((s) => s.phase)).toEqual(['retry']);
      expect(wire.terminal).toMatchObject({ state: 'error', errorKind: 'timeout', errorMessage: 'run timed out after 600 ms', stopReason: 'timeout' });
      expect(primary.requests).toHaveLength(1);
      expect(fallback.requests).toHaveLength(0);
      expect(stored.run?.status).toBe('timeout');
      expectConsistent(wire, stored);
    });

    it('spans the failover: time spent on the primary counts, and the fallback is cut at the same deadline', async () => {
      const { primary, fallback, gw, client } = await chain();
      primary.enqueue({ headerDelayMs: 300, ...vendor.serverError(500) });
      fallback.enqueue(other.stream(['from the fallback'], { then: 'hang' }));
      const { wire, stored } = await chatTurn(client, gw, turn('deadline-chain', { timeoutMs: 1_000 }));
      expect(wire.statuses.map((s) => s.phase)).toEqual(['failover']);
      expect(wire.terminal).toMatchObject({ state: 'error', errorKind: 'timeout', stopReason: 'timeout' });
      expect(wire.text).toBe('from the fallback');
      expect(stored.message).toMatchObject({ model: 'fallback-model', provider: other.name });
      await closedWithin(fallback.requests[0], PROMPTLY_MS);
      const run = stored.run!;
      expect(run.endedAt! - run.startedAt!).toBeGreaterThanOrEqual(950);
      expect(run.endedAt! - run.startedAt!).toBeLessThan(1_000 + PROMPTLY_MS);
      expectConsistent(wire, stored);
    });
  });
});
