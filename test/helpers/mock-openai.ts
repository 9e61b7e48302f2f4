/**
 * A mock OpenAI-compatible server (`POST /v1/chat/completions`, streaming) for tests, on 127.0.0.1.
 *
 * Default answer, for integration tests that just need a model: `mock reply to: <last user message>` streamed
 * in three chunks, then a finish chunk, a usage chunk (prompt_tokens = words in all messages,
 * completion_tokens = words in the reply) and `[DONE]`. Every request is recorded with its parsed body, so a
 * test can read the messages (system prompt included) the gateway sent: `mock.messages(i)`.
 *
 * Per-request behaviour: `mock.enqueue(openaiScript.stream([...], {...}))` or pass `respond` to decide from the
 * request body. Builders below cover the failure cases (slow first token, stall, drop, 429, 500...).
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

export interface MockMessage {
  role: string;
  content: string;
}

export interface MockOpenAI extends MockHttpServer {
  /** Base URL to configure the provider with: `http://127.0.0.1:<port>/v1`. */
  url: string;
  /** The messages of request `index` (default: the last one). */
  messages(index?: number): MockMessage[];
}

export interface OpenAIStreamOptions extends StreamScriptOptions {
  model?: string;
  /** Usage chunk to send; false: none. Default: prompt 10, completion = number of chunks. */
  usage?: { prompt_tokens: number; completion_tokens: number } | false;
  /** Default `stop`. */
  finishReason?: string;
}

/** One SSE event carrying a `chat.completion.chunk`. */
export function openaiChunk(
  delta: Record<string, unknown>,
  finishReason: string | null = null,
  model = 'mock-model',
): string {
  const chunk = {
    id: 'chatcmpl-mock',
    object: 'chat.completion.chunk',
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** Builders of scripts in OpenAI's wire format. */
export const openaiScript = {
  /** A streamed answer made of `texts`, one chunk each. */
  stream(texts: string[], options: OpenAIStreamOptions = {}): MockScript {
    const model = options.model ?? 'mock-model';
    const pieces = [openaiChunk({ role: 'assistant', content: '' }, null, model)];
    texts.forEach((text, i) => {
      pieces.push(openaiChunk({ content: text }, null, model));
      if (i === 0 && options.inject) pieces.push(options.inject);
      if (options.keepAlive) pieces.push(': keep-alive\n\n');
    });
    const tail: string[] = [openaiChunk({}, options.finishReason ?? 'stop', model)];
    const usage = options.usage ?? { prompt_tokens: 10, completion_tokens: texts.length };
    if (usage) {
      const total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const chunk = {
        id: 'chatcmpl-mock',
        object: 'chat.completion.chunk',
        model,
        choices: [],
        usage: { ...usage, total_tokens },
      };
      tail.push(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    tail.push('data: [DONE]\n\n');
    return composeScript(pieces, tail, options);
  },

  /** Any SSE text, optionally re-cut into small writes. */
  raw(sse: string, options: StreamScriptOptions = {}): MockScript {
    return composeScript([sse], [], options);
  },

  /** An HTTP error with an OpenAI error body (`{error: {message, type, code}}`). */
  error(
    status: number,
    error: { message: string; type?: string; code?: string | null },
    headers: Record<string, string> = {},
  ): MockScript {
    return {
      status,
      headers: { 'content-type': 'application/json', ...headers },
      steps: [{ write: JSON.stringify({ error }) }],
    };
  },

  /** 429 with `Retry-After` (seconds or an HTTP date). */
  rateLimited(retryAfter: string): MockScript {
    return openaiScript.error(
      429,
      { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
      { 'retry-after': retryAfter },
    );
  },

  /** 400 context_length_exceeded, as OpenAI sends it. */
  contextLength(): MockScript {
    return openaiScript.error(400, {
      message:
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
    });
  },
};

/** The default answer: a deterministic reply to the last user message. */
export const defaultOpenAIReply: ScriptSource = (request) => {
  const messages = messagesOf(request);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const reply = `mock reply to: ${lastUser}`;
  const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
  const model = typeof request.body?.model === 'string' ? request.body.model : 'mock-model';
  return openaiScript.stream(thirds(reply), {
    model,
    usage: { prompt_tokens: messages.reduce((n, m) => n + words(m.content), 0), completion_tokens: words(reply) },
  });
};

/** Starts the mock on 127.0.0.1, port 0. `respond` replaces the default answer. */
export async function startMockOpenAI(options: { respond?: ScriptSource } = {}): Promise<MockOpenAI> {
  const server = await startMockHttpServer({
    respond: options.respond ?? defaultOpenAIReply,
    route: (request) => {
      if (request.method === 'GET' && request.path === '/v1/models') {
        return {
          headers: { 'content-type': 'application/json' },
          steps: [
            {
              write: JSON.stringify({
                object: 'list',
                data: [{ id: 'mock-model', object: 'model', owned_by: 'mock' }],
              }),
            },
          ],
        };
      }
      if (request.method !== 'POST' || request.path !== '/v1/chat/completions') {
        return openaiScript.error(404, {
          message: `no route ${request.method} ${request.path}`,
          type: 'invalid_request_error',
        });
      }
      return undefined;
    },
  });
  return Object.assign(server, {
    url: `${server.origin}/v1`,
    messages: (index?: number) => messagesOf(server.requests.at(index ?? -1)),
  });
}

function messagesOf(request: MockRequest | undefined): MockMessage[] {
  const messages = request?.body?.messages;
  if (!Array.isArray(messages)) return [];
  return messages.map((m: { role?: unknown; content?: unknown }) => ({
    role: String(m.role),
    content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content),
  }));
}

/** Cuts a reply into three chunks at character (not byte) boundaries. */
function thirds(text: string): string[] {
  const chars = [...text];
  const size = Math.max(1, Math.ceil(chars.length / 3));
  const parts: string[] = [];
  for (let i = 0; i < chars.length; i += size) parts.push(chars.slice(i, i + size).join(''));
  return parts;
}
