/**
 * Issue 6's connection cases, run against both HTTP providers and their mock servers: dropped and refused
 * connections, connect timeouts, abort (the mock must see the connection close at once), keep-alive reuse
 * and close().
 */
import https from 'node:https';
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../../helpers/provider-stream.js';
import {
  FAST_TIMEOUTS,
  freePort,
  NeverConnectingAgent,
  setupVendor,
  TEST_KEY,
  VENDORS,
  waitFor,
} from '../../helpers/provider-vendors.js';

/** How soon after an abort the mock must see the connection close, in ms. */
const PROMPT_CLOSE_MS = 200;

describe.each(VENDORS)('$name provider: connections', (vendor) => {
  it('reports a dropped connection as connect, keeping the partial text', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['cut ', 'off'], { then: 'drop' }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('cut off');
    expect(outcome.error?.kind).toBe('connect');
  });

  it('reports a connection dropped before any response as connect', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue({ sendHeaders: false, steps: [{ destroy: true }] });
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('connect');
  });

  it('reports a refused connection as connect', async () => {
    const port = await freePort();
    const provider = vendor.create({
      config: { id: 'p', provider: vendor.name, model: 'm', baseUrl: `http://127.0.0.1:${port}`, apiKey: TEST_KEY },
      timeouts: FAST_TIMEOUTS,
    });
    onTestFinished(() => provider.close());
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('connect');
    expect(outcome.error?.message).toMatch(/cannot reach the model server \(ECONNREFUSED\)/);
  });

  it('times out a connection that does not open', async () => {
    const agent = new NeverConnectingAgent();
    onTestFinished(() => agent.destroy());
    const provider = vendor.create({
      config: { id: 'p', provider: vendor.name, model: 'm', baseUrl: 'http://127.0.0.1:9', apiKey: TEST_KEY },
      timeouts: { ...FAST_TIMEOUTS, connectMs: 60 },
      agents: { http: agent, https: new https.Agent() },
    });
    onTestFinished(() => provider.close());
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('timeout');
    expect(outcome.error?.message).toMatch(/could not connect within 60 ms/);
  });

  it('stops at once on abort in the middle (while waiting for the next chunk), and the mock sees the connection close', async () => {
    const { mock, provider } = await setupVendor(vendor, { firstTokenMs: 5000, idleMs: 5000 });
    mock.enqueue(
      vendor.stream(
        Array.from({ length: 8 }, (_, i) => `w${i} `),
        { chunkDelayMs: 500 },
      ),
    );
    const controller = new AbortController();
    let abortedAt = 0;
    const outcome = await run(provider, { signal: controller.signal }, (event, sofar) => {
      if (event.type !== 'text' || sofar.text.length < 6 || abortedAt !== 0) return;
      abortedAt = -1;
      // Abort from elsewhere (chat.abort on another connection), while the provider awaits the socket.
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort(new Error('user pressed stop'));
      }, 5);
    });
    expect(outcome.error?.kind).toBe('aborted');
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(outcome.text.startsWith('w0 w1 ')).toBe(true);
    expect(outcome.text.length).toBeLessThan(20);
    const closedAt = await mock.requests[0]!.closed;
    expect(mock.requests[0]!.clientClosed).toBe(true);
    expect(closedAt - abortedAt).toBeLessThan(PROMPT_CLOSE_MS);
  });

  it('stops at once when aborted while the consumer holds an event', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['a', 'b', 'c'], { chunkDelayMs: 30 }));
    const controller = new AbortController();
    const outcome = await run(provider, { signal: controller.signal }, (event) => {
      if (event.type === 'text') controller.abort();
    });
    expect(outcome.error?.kind).toBe('aborted');
    expect(outcome.text).toBe('a');
    await mock.requests[0]!.closed;
  });

  it('does not start a request when the signal is already aborted', async () => {
    const { mock, provider } = await setupVendor(vendor);
    const outcome = await run(provider, { signal: AbortSignal.abort() });
    expect(outcome.error?.kind).toBe('aborted');
    expect(mock.requests).toHaveLength(0);
  });

  it('closes the connection when the consumer stops reading early', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['a', 'b', 'c', 'd'], { chunkDelayMs: 30 }));
    for await (const event of provider.stream({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'x' }],
      signal: new AbortController().signal,
      runId: 'r',
    })) {
      if (event.type === 'text') break;
    }
    await mock.requests[0]!.closed;
    expect(mock.requests[0]!.clientClosed).toBe(true);
  });

  it('reuses one keep-alive connection, and close() destroys it (safe twice)', async () => {
    const { mock, provider } = await setupVendor(vendor);
    expect((await run(provider)).error).toBeUndefined();
    expect((await run(provider)).error).toBeUndefined();
    expect(mock.connections).toBe(1);
    expect(mock.requests[0]?.remotePort).toBe(mock.requests[1]?.remotePort);
    expect(mock.openConnections).toBe(1);
    await provider.close();
    await provider.close();
    await waitFor(() => mock.openConnections === 0);
    expect((await run(provider)).error?.kind).toBe('aborted');
  });

  it('sends a request again on a fresh socket when the reused keep-alive socket turns out closed', async () => {
    const { mock, provider } = await setupVendor(vendor);
    expect((await run(provider)).error).toBeUndefined();
    // The server drops the kept-alive connection as the next request arrives on it, unanswered.
    mock.enqueue({ sendHeaders: false, steps: [{ destroy: true }] });
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('mock reply to: hello');
    expect(mock.requests).toHaveLength(3);
    expect(mock.requests[1]?.remotePort).toBe(mock.requests[0]?.remotePort);
    expect(mock.requests[2]?.remotePort).not.toBe(mock.requests[0]?.remotePort);
  });

  it('close() aborts a call in flight', async () => {
    const { mock, provider } = await setupVendor(vendor);
    mock.enqueue(vendor.stream(['a'], { then: 'hang' }));
    const pending = run(provider, {}, (event) => {
      if (event.type === 'text') void provider.close();
    });
    const outcome = await pending;
    expect(outcome.error?.kind).toBe('aborted');
    await mock.requests[0]!.closed;
  });
});
