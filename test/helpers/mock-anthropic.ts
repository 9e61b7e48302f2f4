/**
 * A mock Anthropic Messages API (`POST /v1/messages`, streaming) for tests, on 127.0.0.1.
 *
 * Default answer: `mock reply to: <last user message>` as message_start, content_block_start, ping, three
 * text_delta events, content_block_stop, message_delta (end_turn, output_tokens = words in the reply),
 * message_stop; input_tokens = words in `system` and all messages. Every request is recorded with its parsed
 * body: `mock.system(i)` and `mock.messages(i)` read what the gateway sent.
 */
import {
  composeScript,
  type MockHttpServer,
  type MockRequest,
  type MockScript,
  type ScriptSource,
  startMockHttpServer,
  type StreamScriptOptions,
} from './mock-http-server.js';

export type { MockRequest, MockScript, MockStep, ScriptSource, StreamScriptOptions } from './mock-http-server.js';

export interface MockAnthropic extends MockHttpServer {
  /** Base URL to configure the provider with: `http://127.0.0.1:<port>` (the provider appends `/v1/messages`). */
  url: string;
  /** The `system` field of request `index` (default: the last one). */
  system(index?: number): string | undefined;
  messages(index?: number): { role: string; content: string }[];
}

export interface AnthropicStreamOptions extends StreamScriptOptions {
  model?: string;
  /** Default `end_turn`. */
  stopReason?: string;
  /** Default: input 10, output = number of chunks. */
  usage?: { input_tokens: number; output_tokens: number };
}

/** One SSE event in Anthropic's format (the `event:` name repeats the payload's `type`). */
export function anthropicEvent(payload: { type: string } & Record<string, unknown>): string {
  return `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** Builders of scripts in Anthropic's wire format. */
export const anthropicScript = {
  /** A streamed answer made of `texts`, one text_delta each. */
  stream(texts: string[], options: AnthropicStreamOptions = {}): MockScript {
    const usage = options.usage ?? { input_tokens: 10, output_tokens: texts.length };
    const message = {
      id: 'msg_mock',
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'mock-model',
      content: [],
      stop_reason: null,
      usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
    };
    const pieces = [
      anthropicEvent({ type: 'message_start', message }),
      anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      anthropicEvent({ type: 'ping' }),
    ];
    texts.forEach((text, i) => {
      pieces.push(anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }));
      if (i === 0 && options.inject) pieces.push(options.inject);
      if (options.keepAlive) pieces.push(anthropicEvent({ type: 'ping' }), ': keep-alive\n\n');
    });
    const tail = [
      anthropicEvent({ type: 'content_block_stop', index: 0 }),
      anthropicEvent({
        type: 'message_delta',
        delta: { stop_reason: options.stopReason ?? 'end_turn', stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      }),
      anthropicEvent({ type: 'message_stop' }),
    ];
    return composeScript(pieces, tail, options);
  },

  /** Any SSE text, optionally re-cut into small writes. */
  raw(sse: string, options: StreamScriptOptions = {}): MockScript {
    return composeScript([sse], [], options);
  },

  /** An HTTP error with an Anthropic error body (`{type: "error", error: {type, message}}`). */
  error(status: number, type: string, message: string, headers: Record<string, string> = {}): MockScript {
    const body = { type: 'error', error: { type, message }, request_id: 'req_mock' };
    return {
      status,
      headers: { 'content-type': 'application/json', ...headers },
      steps: [{ write: JSON.stringify(body) }],
    };
  },

  /** 429 rate_limit_error with `Retry-After` (seconds or an HTTP date). */
  rateLimited(retryAfter: string): MockScript {
    return anthropicScript.error(
      429,
      'rate_limit_error',
      'Number of request tokens has exceeded your per-minute rate limit',
      { 'retry-after': retryAfter },
    );
  },

  /** 529 overloaded_error. */
  overloaded(): MockScript {
    return anthropicScript.error(529, 'overloaded_error', 'Overloaded');
  },

  /** 400 invalid_request_error about a prompt that is too long. */
  contextLength(): MockScript {
    return anthropicScript.error(400, 'invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum');
  },
};

/** The default answer: a deterministic reply to the last user message. */
export const defaultAnthropicReply: ScriptSource = (request) => {
  const messages = messagesOf(request);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const reply = `mock reply to: ${lastUser}`;
  const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
  const input = words(systemOf(request) ?? '') + messages.reduce((n, m) => n + words(m.content), 0);
  const chars = [...reply];
  const size = Math.max(1, Math.ceil(chars.length / 3));
  const texts: string[] = [];
  for (let i = 0; i < chars.length; i += size) texts.push(chars.slice(i, i + size).join(''));
  const model = typeof request.body?.model === 'string' ? request.body.model : 'mock-model';
  return anthropicScript.stream(texts, { model, usage: { input_tokens: input, output_tokens: words(reply) } });
};

/** Starts the mock on 127.0.0.1, port 0. `respond` replaces the default answer. */
export async function startMockAnthropic(options: { respond?: ScriptSource } = {}): Promise<MockAnthropic> {
  const server = await startMockHttpServer({
    respond: options.respond ?? defaultAnthropicReply,
    route: (request) =>
      request.method === 'POST' && request.path === '/v1/messages'
        ? undefined
        : anthropicScript.error(404, 'not_found_error', `no route ${request.method} ${request.path}`),
  });
  return Object.assign(server, {
    url: server.origin,
    system: (index?: number) => systemOf(server.requests.at(index ?? -1)),
    messages: (index?: number) => messagesOf(server.requests.at(index ?? -1)),
  });
}

function systemOf(request: MockRequest | undefined): string | undefined {
  const system = request?.body?.system;
  return typeof system === 'string' ? system : system === undefined ? undefined : JSON.stringify(system);
}

function messagesOf(request: MockRequest | undefined): { role: string; content: string }[] {
  const messages = request?.body?.messages;
  if (!Array.isArray(messages)) return [];
  return messages.map((m: { role?: unknown; content?: unknown }) => ({
    role: String(m.role),
    content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content),
  }));
}
