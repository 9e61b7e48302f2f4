/**
 * Issue 6's streaming cases, run against both HTTP providers and their mock servers: what the caller
 * receives (text, usage, error kinds and messages) and what the mock saw.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../../helpers/provider-stream.js';
import { setupVendor, TEST_KEY, VENDORS } from '../../helpers/provider-vendors.js';

/** How soon after a timeout the mock must see the connection close, in ms. */
const PROMPT_CLOSE_MS = 200;

describe.each(VENDORS)('$name provider: streaming', (vendor) => {
  it('streams the text in order, then usage, then done', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['Hel', 'lo, ', 'world'], { chunkDelayMs: 5 }));
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.events).toEqual([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo, ' },
      { type: 'text', text: 'world' },
      { type: 'usage', usage: { input: 10, output: 3, totalTokens: 13 } },
      { type: 'done', stopReason: 'stop' },
    ]);
    expect(mock.requests).toHaveLength(1);
  });

  it('answers with the default deterministic reply when nothing is scripted', async () => {
    const { provider } = await setupVendor(vendor);
    const outcome = await run(provider, { messages: [{ role: 'user', content: 'ping me' }] });
    expect(outcome.text).toBe('mock reply to: ping me');
    expect(outcome.usage).toEqual({ input: 2, output: 5, totalTokens: 7 });
  });

  it('reassembles chunks split mid-line and mid-UTF-8 character', async () => {
    const { mock, provider } = await setupVendor(vendor);
    const texts = ['Grüße, ', 'wörld ✓ ', '😀 二三'];
    mock.enqueue(vendor.stream(texts, { splitBytes: 5 }));
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe(texts.join(''));
    expect(outcome.text).not.toContain('\uFFFD');
  });

  it('ignores keep-alive comments', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['a', 'b', 'c'], { keepAlive: true }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('abc');
    expect(outcome.stopReason).toBe('stop');
  });

  it('ignores an unknown event type', async () => {
    const { mock, provider, warnings } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['one ', 'two'], { inject: vendor.unknownEvent }));
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('one two');
    expect(warnings).toEqual([]);
  });

  it('skips a malformed chunk, reports it, and keeps the rest of the answer', async () => {
    const { mock, provider, warnings } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['one ', 'two'], { inject: vendor.malformedEvent }));
    const outcome = await run(provider, { runId: 'run-malformed' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('one two');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ providerId: 'primary', runId: 'run-malformed', code: 'malformed_event' });
  });

  it('times out a slow first token and closes the connection', async () => {
    const { mock, provider } = await setupVendor(vendor, { firstTokenMs: 80 });
    mock.enqueue(vendor.stream(['late'], { firstDelayMs: 1000 }));
    const started = performance.now();
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('timeout');
    expect(outcome.error?.message).toMatch(/no first token within 80 ms/);
    expect(outcome.text).toBe('');
    expect(performance.now() - started).toBeLessThan(600);
    const closedAt = await mock.requests[0]?.closed;
    expect(closedAt! - started).toBeLessThan(80 + PROMPT_CLOSE_MS);
  });

  it('times out a stall mid-stream, after yielding the partial text', async () => {
    const { mock, provider } = await setupVendor(vendor, { idleMs: 80 });
    mock.enqueue(vendor.stream(['par', 'tial'], { then: 'hang' }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('partial');
    expect(outcome.error?.kind).toBe('timeout');
    expect(outcome.error?.message).toMatch(/stalled: no data for 80 ms/);
    await mock.requests[0]?.closed;
    expect(mock.requests[0]?.clientClosed).toBe(true);
  });

  it('maps 429 to rate_limit with Retry-After in seconds or as an HTTP date', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.rateLimited('2'), vendor.rateLimited(new Date(Date.now() + 30_000).toUTCString()));
    const seconds = await run(provider);
    expect(seconds.error).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 2000 });
    expect(seconds.error?.message).toMatch(/rate limited \(HTTP 429\)/);
    const date = await run(provider);
    expect(date.error?.kind).toBe('rate_limit');
    expect(date.error?.retryAfterMs).toBeGreaterThan(25_000);
    expect(date.error?.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('maps 500 and 503 to server with a readable message', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.serverError(500), vendor.serverError(503));
    const first = await run(provider);
    expect(first.error).toMatchObject({ kind: 'server', status: 500 });
    expect(first.error?.message).toMatch(/^\w+\/mock-model: server error \(HTTP 500\): \w+: .+/);
    expect((await run(provider)).error?.kind).toBe('server');
  });

  it('maps a context-length error to context_length', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.contextLength());
    expect((await run(provider)).error?.kind).toBe('context_length');
  });

  it('never puts the API key in an error message', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.unauthorized(TEST_KEY));
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('unknown');
    expect(outcome.error?.message).toMatch(/HTTP 401/);
    expect(outcome.error?.message).not.toContain(TEST_KEY);
    expect(outcome.error?.message).toContain('[redacted]');
  });

  it('refuses to call a vendor API that needs a key it does not have', async () => {
    const provider = vendor.create({ config: { id: 'p', provider: vendor.name, model: 'm', requiresApiKey: true } });
    onTestFinished(() => provider.close());
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('unknown');
    expect(outcome.error?.message).toMatch(/no API key configured for model 'p'/);
    expect(provider.models()[0]?.available).toBe(false);
  });

  it('accepts a stream whose raw SSE text is all in one write', async () => {
    const { mock, provider } = await setupVendor(vendor);
    const script = vendor.stream(['x', 'y']);
    const body = script.steps.map((s) => ('write' in s ? String(s.write) : '')).join('');
    mock.enqueue(vendor.raw(body));
    expect((await run(provider)).text).toBe('xy');
  });

  it('does not log or serialize the API key with the provider', async () => {
    const { provider } = await setupVendor(vendor);
    expect(JSON.stringify(provider)).not.toContain(TEST_KEY);
    expect(JSON.stringify(provider.models())).not.toContain(TEST_KEY);
  });
});
