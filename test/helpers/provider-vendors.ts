/**
 * The two HTTP vendors side by side, so one test runs against both: how to start each mock, script each
 * case in the vendor's wire format, and build the provider pointed at the mock.
 */
import http from 'node:http';
import net from 'node:net';
import { onTestFinished } from 'vitest';
import { AnthropicProvider } from '../../workers/providers/anthropic.js';
import type { HttpProviderOptions, ProviderWarning } from '../../workers/providers/http-provider.js';
import type { ModelConfig } from '../../workers/providers/model-config.js';
import { OpenAIProvider } from '../../workers/providers/openai.js';
import type { ProviderTimeouts } from '../../workers/providers/stream-guard.js';
import type { ModelProvider } from '../../workers/providers/types.js';
import { anthropicEvent, anthropicScript, startMockAnthropic } from './mock-anthropic.js';
import type { MockHttpServer, MockScript, StreamScriptOptions } from './mock-http-server.js';
import { openaiScript, startMockOpenAI } from './mock-openai.js';

/** The API key the vendor tests configure; it must never show up in an error message. */
export const TEST_KEY = 'sk-test-SECRET-0123456789';
/** Timeouts short enough for tests, long enough for a loaded CI machine, in ms. */
export const FAST_TIMEOUTS: ProviderTimeouts = { connectMs: 5000, firstTokenMs: 5000, idleMs: 5000, runMs: 15_000 };

export interface Vendor {
  name: 'openai' | 'anthropic';
  start(): Promise<MockHttpServer & { url: string }>;
  stream(texts: string[], options?: StreamScriptOptions): MockScript;
  raw(sse: string, options?: StreamScriptOptions): MockScript;
  rateLimited(retryAfter: string): MockScript;
  serverError(status: number): MockScript;
  contextLength(): MockScript;
  /** A 401 whose message echoes `echo` (some servers echo the key they got). */
  unauthorized(echo: string): MockScript;
  unknownEvent: string;
  malformedEvent: string;
  create(options: HttpProviderOptions): ModelProvider;
}

export const VENDORS: Vendor[] = [
  {
    name: 'openai',
    start: () => startMockOpenAI(),
    stream: (texts, options) => openaiScript.stream(texts, options),
    raw: (sse, options) => openaiScript.raw(sse, options),
    rateLimited: (retryAfter) => openaiScript.rateLimited(retryAfter),
    serverError: (status) =>
      openaiScript.error(status, { message: 'The server had an error processing your request.', type: 'server_error' }),
    contextLength: () => openaiScript.contextLength(),
    unauthorized: (echo) =>
      openaiScript.error(401, {
        message: `Incorrect API key provided: ${echo}`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      }),
    unknownEvent:
      'event: vendor.extension\ndata: {"anything":true}\n\ndata: {"object":"chat.completion.telemetry","choices":[]}\n\n',
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
    malformedEvent:
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"LOST\n\n',
    create: (options) => new AnthropicProvider(options),
  },
];

/** Starts the vendor's mock and a provider pointed at it (model `primary`), both closed when the test ends. */
export async function setupVendor(
  vendor: Vendor,
  timeouts: Partial<ProviderTimeouts> = {},
  config: Partial<ModelConfig> = {},
) {
  const mock = await vendor.start();
  onTestFinished(() => mock.close());
  const warnings: ProviderWarning[] = [];
  const provider = vendor.create({
    config: {
      id: 'primary',
      provider: vendor.name,
      model: 'mock-model',
      baseUrl: mock.url,
      apiKey: TEST_KEY,
      ...config,
    },
    timeouts: { ...FAST_TIMEOUTS, ...timeouts },
    onWarning: (warning) => warnings.push(warning),
  });
  onTestFinished(() => provider.close());
  return { mock, provider, warnings };
}

/** A port nothing listens on (briefly bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An agent whose sockets never finish connecting: a stand-in for an unreachable host, without the network. */
export class NeverConnectingAgent extends http.Agent {
  override createConnection(): net.Socket {
    const socket = new net.Socket();
    // Looks like a connect in progress (writes are buffered) that never completes.
    Object.defineProperty(socket, 'connecting', { value: true, writable: true });
    return socket;
  }
}

/** Polls `condition` every 5 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
