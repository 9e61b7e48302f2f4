/**
 * The cases issue 6 lists, run against both HTTP providers and their mock servers: what the caller receives,
 * and what the mock saw on the wire (connection closed on abort and timeouts, requests recorded).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { anthropicEvent, anthropicScript, startMockAnthropic } from '../../helpers/mock-anthropic.js';
import type { MockHttpServer, MockScript, StreamScriptOptions } from '../../helpers/mock-http-server.js';
import { openaiScript, startMockOpenAI } from '../../helpers/mock-openai.js';
import { run } from '../../helpers/provider-stream.js';
import { AnthropicProvider } from '../../../workers/providers/anthropic.js';
import type { HttpProviderOptions, ProviderWarning } from '../../../workers/providers/http-provider.js';
import type { ModelConfig } from '../../../workers/providers/model-config.js';
import { OpenAIProvider } from '../../../workers/providers/openai.js';
import type { ProviderTimeouts } from '../../../workers/providers/stream-guard.js';
import type { ModelProvider } from '../../../workers/providers/types.js';

const KEY = 'sk-test-SECRET-0123456789';
const FAST: ProviderTimeouts = { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, runMs: 5000 };
/** How soon after an abort or timeout the mock must see the connection close, in ms. */
const PROMPT_CLOSE_MS = 150;

interface Vendor {
  name: 'openai' | 'anthropic';
  start(): Promise<MockHttpServer & { url: string }>;
  stream(texts: string[], options?: StreamScriptOptions): MockScript;
  raw(sse: string, options?: StreamScriptOptions): MockScript;
  rateLimited(retryAfter: string): MockScript;
  serverError(status: number): MockScript;
  contextLength(): MockScript;
  unauthorized(echo: string): MockScript;
  unknownEvent: string;
  malformedEvent: string;
  create(options: HttpProviderOptions): ModelProvider;
}

const vendors: Vendor[] = [
  {
    name: 'openai',
    start: () => startMockOpenAI(),
    stream: (texts, options) => openaiScript.stream(texts, options),
    raw: (sse, options) => openaiScript.raw(sse, options),
    rateLimited: (retryAfter) => openaiScript.rateLimited(retryAfter),
    serverError: (status) => openaiScript.error(status, { message: 'The server had an error while processing your request.', type: 'server_error' }),
    contextLength: () => openaiScript.contextLength(),
    unauthorized: (echo) => openaiScript.error(401, { message: `Incorrect API key provided: ${echo}`, type: 'invalid_request_error', code: 'invalid_api_key' }),
    unknownEvent: 'event: vendor.extension\ndata: {"anything":true}\n\ndata: {"object":"chat.completion.telemetry","choices":[]}\n\n',
    malformedEvent: 'data: {"choices":[{"delta":{"content":"LOST\n\n',
    create: (options) => new OpenAIProvider(options),
  },
  {
    name: 'anthropic',
    start: () => startMockAnthropic(),
    stream: (texts, options) => anthropicScript.stream(texts, options),
    raw: (sse, options) => anthropicScript.raw(sse, options),
    rateLimited: (retryAfter) => anthropicScript.rateLimited(retryAfter),
    serverError: (status) => anthropicScript.error(status, 'api_error', 'Internal server error'),
    contextLength: () => anthropicScript.contextLength(),
    unauthorized: (echo) => anthropicScript.error(401, 'authentication_error', `invalid x-api-key ${echo}`),
    unknownEvent: anthropicEvent({ type: 'brand_new_event', payload: { x: 1 } }),
    malformedEvent: 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"LOST\n\n',
    create: (options) => new AnthropicProvider(options),
  },
];

describe.each(vendors)('$name provider against its mock server', (vendor) => {
  async function setup(timeouts: Partial<ProviderTimeouts> = {}, config: Partial<ModelConfig> = {}) {
    const mock = await vendor.start();
    onTestFinished(() => mock.close());
    const warnings: ProviderWarning[] = [];
    const provider = vendor.create({
      config: { id: 'primary', provider: vendor.name, model: 'mock-model', baseUrl: mock.url, apiKey: KEY, ...config },
      timeouts: { ...FAST, ...timeouts },
      onWarning: (warning) => warnings.push(warning),
    });
    onTestFinished(() => provider.close());
    return { mock, provider, warnings };
  }

  it('streams the text in order, then usage, then done', async () => {
    const { mock, provider } = await setup();
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
    const { provider } = await setup();
    const outcome = await run(provider, { messages: [{ role: 'user', content: 'ping me' }] });
    expect(outcome.text).toBe('mock reply to: ping me');
    expect(outcome.usage).toEqual({ input: 2, output: 5, totalTokens: 7 });
  });

  it('reassembles chunks split mid-line and mid-UTF-8 character', async () => {
    const { mock, provider } = await setup();
    const texts = ['Grüße, ', 'wörld ✓ ', '😀 二三'];
    mock.enqueue(vendor.stream(texts, { splitBytes: 5 }));
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe(texts.join(''));
    expect(outcome.text).not.toContain('\uFFFD');
  });

  it('ignores keep-alive comments', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.stream(['a', 'b', 'c'], { keepAlive: true }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('abc');
    expect(outcome.stopReason).toBe('stop');
  });

  it('ignores an unknown event type', async () => {
    const { mock, provider, warnings } = await setup();
    mock.enqueue(vendor.stream(['one ', 'two'], { inject: vendor.unknownEvent }));
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('one two');
    expect(warnings).toEqual([]);
  });

  it('skips a malformed chunk, reports it, and keeps the rest of the answer', async () => {
    const { mock, provider, warnings } = await setup();
    mock.enqueue(vendor.stream(['one ', 'two'], { inject: vendor.malformedEvent }));
    const outcome = await run(provider, { runId: 'run-malformed' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('one two');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ providerId: 'primary', runId: 'run-malformed', code: 'malformed_event' });
  });

  it('times out a slow first token and closes the connection', async () => {
    const { mock, provider } = await setup({ firstTokenMs: 80 });
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
    const { mock, provider } = await setup({ idleMs: 80 });
    mock.enqueue(vendor.stream(['par', 'tial'], { then: 'hang' }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('partial');
    expect(outcome.error?.kind).toBe('timeout');
    expect(outcome.error?.message).toMatch(/stalled: no data for 80 ms/);
    await mock.requests[0]?.closed;
    expect(mock.requests[0]?.clientClosed).toBe(true);
  });

  it('maps 429 to rate_limit with Retry-After in seconds or as an HTTP date', async () => {
    const { mock, provider } = await setup();
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
    const { mock, provider } = await setup();
    mock.enqueue(vendor.serverError(500), vendor.serverError(503));
    const first = await run(provider);
    expect(first.error).toMatchObject({ kind: 'server', status: 500 });
    expect(first.error?.message).toMatch(/^\w+\/mock-model: server error \(HTTP 500\): \w+: .+/);
    expect((await run(provider)).error?.kind).toBe('server');
  });

  it('maps a context-length error to context_length', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.contextLength());
    expect((await run(provider)).error?.kind).toBe('context_length');
  });

  it('reports a dropped connection as connect, keeping the partial text', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.stream(['cut ', 'off'], { then: 'drop' }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('cut off');
    expect(outcome.error?.kind).toBe('connect');
  });

  it('reports a connection dropped before any response as connect', async () => {
    const { mock, provider } = await setup();
    mock.enqueue({ sendHeaders: false, steps: [{ destroy: true }] });
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('connect');
  });

  it('reports a refused connection as connect', async () => {
    const port = await freePort();
    const provider = vendor.create({ config: { id: 'p', provider: vendor.name, model: 'm', baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY }, timeouts: FAST });
    onTestFinished(() => provider.close());
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('connect');
    expect(outcome.error?.message).toMatch(/cannot reach the model server \(ECONNREFUSED\)/);
  });

  it('times out a connection that does not open', async () => {
    const agent = new NeverConnectingAgent();
    onTestFinished(() => agent.destroy());
    const provider = vendor.create({
      config: { id: 'p', provider: vendor.name, model: 'm', baseUrl: 'http://127.0.0.1:9', apiKey: KEY },
      timeouts: { ...FAST, connectMs: 60 },
      agents: { http: agent, https: new https.Agent() },
    });
    onTestFinished(() => provider.close());
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('timeout');
    expect(outcome.error?.message).toMatch(/could not connect within 60 ms/);
  });

  it('stops at once on abort in the middle (while waiting for the next chunk), and the mock sees the connection close', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.stream(Array.from({ length: 8 }, (_, i) => `w${i} `), { chunkDelayMs: 250 }));
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
    const { mock, provider } = await setup();
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
    const { mock, provider } = await setup();
    const outcome = await run(provider, { signal: AbortSignal.abort() });
    expect(outcome.error?.kind).toBe('aborted');
    expect(mock.requests).toHaveLength(0);
  });

  it('closes the connection when the consumer stops reading early', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.stream(['a', 'b', 'c', 'd'], { chunkDelayMs: 30 }));
    for await (const event of provider.stream({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }], signal: new AbortController().signal, runId: 'r' })) {
      if (event.type === 'text') break;
    }
    await mock.requests[0]!.closed;
    expect(mock.requests[0]!.clientClosed).toBe(true);
  });

  it('never puts the API key in an error message', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.unauthorized(KEY));
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('unknown');
    expect(outcome.error?.message).toMatch(/HTTP 401/);
    expect(outcome.error?.message).not.toContain(KEY);
    expect(outcome.error?.message).toContain('[redacted]');
  });

  it('reuses one keep-alive connection, and close() destroys it (safe twice)', async () => {
    const { mock, provider } = await setup();
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
    const { mock, provider } = await setup();
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

  it('does not log or serialize the API key with the provider', async () => {
    const { provider } = await setup();
    expect(JSON.stringify(provider)).not.toContain(KEY);
    expect(JSON.stringify(provider.models())).not.toContain(KEY);
  });

  it('close() aborts a call in flight', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(vendor.stream(['a'], { then: 'hang' }));
    const pending = run(provider, {}, (event) => {
      if (event.type === 'text') void provider.close();
    });
    const outcome = await pending;
    expect(outcome.error?.kind).toBe('aborted');
    await mock.requests[0]!.closed;
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
    const { mock, provider } = await setup();
    const script = vendor.stream(['x', 'y']);
    const body = script.steps.map((s) => ('write' in s ? String(s.write) : '')).join('');
    mock.enqueue(vendor.raw(body));
    expect((await run(provider)).text).toBe('xy');
  });
});

/** A port nothing listens on (briefly bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An agent whose sockets never finish connecting: a stand-in for an unreachable host. */
class NeverConnectingAgent extends http.Agent {
  override createConnection(): net.Socket {
    const socket = new net.Socket();
    // Looks like a connect in progress (writes are buffered) that never completes.
    Object.defineProperty(socket, 'connecting', { value: true, writable: true });
    return socket;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
