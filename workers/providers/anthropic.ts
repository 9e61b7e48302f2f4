/**
 * The Anthropic provider: `POST {baseUrl}/v1/messages` with `stream: true` (Messages API, SSE).
 * Hand-written on node:http for the same reasons as the OpenAI-compatible provider (see openai.ts): CPU per
 * turn, our own timeouts and abort, no hidden retries; both share the SSE parser and the HTTP layer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpModelProvider, type HttpRequestSpec, type StreamDecoder } from './http-provider.js';
import { asRecord, headerValue, numberField, parseJson, stringField } from './json.js';
import { effectiveBaseUrl } from './model-config.js';
import { errorFromStatus, parseRetryAfter, type VendorError } from './provider-errors.js';
import type { SseEvent } from './sse.js';
import {
  type ModelMessage,
  type ModelRequest,
  type ModelStreamEvent,
  type ModelUsage,
  ProviderError,
} from './types.js';

/** The Messages API version sent in `anthropic-version`. */
export const ANTHROPIC_API_VERSION = '2023-06-01';
/** `max_tokens` is required by the Messages API; used when neither the request nor the config sets it, in tokens. */
export const DEFAULT_ANTHROPIC_MAX_OUTPUT_TOKENS = 4096;

// The HTTP status each documented error type stands for, to map in-stream `error` events like responses.
const ERROR_TYPE_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export class AnthropicProvider extends HttpModelProvider {
  protected buildRequest(request: ModelRequest): HttpRequestSpec {
    const url = new URL(`${effectiveBaseUrl(this.config)}/v1/messages`);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'anthropic-version': ANTHROPIC_API_VERSION,
    };
    if (this.config.apiKey) headers['x-api-key'] = this.config.apiKey;
    const { system, messages } = toAnthropicMessages(request.messages);
    const body: Record<string, unknown> = {
      model: request.model,
      max_tokens: request.maxOutputTokens ?? this.config.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_OUTPUT_TOKENS,
      messages,
      stream: true,
    };
    if (system) body.system = system;
    return { url, headers, body: JSON.stringify(body) };
  }

  protected httpError(label: string, status: number, body: string, headers: IncomingHttpHeaders): ProviderError {
    const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'));
    const options =
      retryAfterMs === undefined ? { secret: this.config.apiKey } : { retryAfterMs, secret: this.config.apiKey };
    return errorFromStatus(label, status, vendorError(parseJson(body)) ?? { message: body.trim() }, options);
  }

  protected createDecoder(label: string, warn: (message: string) => void): StreamDecoder {
    return new AnthropicDecoder(label, warn, this.config.apiKey);
  }
}

/**
 * System messages go to `system` (joined by blank lines); the rest keep their order, with consecutive
 * messages of one role merged and empty ones dropped (the API rejects empty text blocks). A message with
 * images becomes content blocks, the images first (as the API's documentation advises), then its text.
 */
export function toAnthropicMessages(messages: ModelMessage[]): { system: string; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      if (message.content) system.push(message.content);
      continue;
    }
    const content = anthropicContent(message);
    if (content === '') continue;
    const last = out.at(-1);
    if (last?.role !== message.role) out.push({ role: message.role, content });
    else if (typeof last.content === 'string' && typeof content === 'string') last.content += `\n\n${content}`;
    else last.content = [...blocksOf(last.content), ...blocksOf(content)];
  }
  return { system: system.join('\n\n'), messages: out };
}

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

function anthropicContent(message: ModelMessage): AnthropicMessage['content'] {
  if (message.images === undefined || message.images.length === 0) return message.content;
  const images = message.images.map((image): AnthropicBlock => ({ type: 'image', source: { type: 'base64', media_type: image.mimeType, data: image.data } }));
  return message.content === '' ? images : [...images, { type: 'text', text: message.content }];
}

function blocksOf(content: AnthropicMessage['content']): AnthropicBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** `{type: "error", error: {type, message}}`. */
function vendorError(json: unknown): VendorError | undefined {
  const error = asRecord(asRecord(json)?.error);
  if (error === undefined) return undefined;
  return { type: stringField(error, 'type'), message: stringField(error, 'message') };
}

/**
 * Reads Messages API events by their `type`. Unknown types (and `ping`) are ignored, as Anthropic's
 * versioning policy asks. A malformed event is skipped with a warning, except a malformed `error` event,
 * which ends the call as `unknown`: we know it failed, not why.
 */
class AnthropicDecoder implements StreamDecoder {
  started = false;
  finished = false;
  readonly #label: string;
  readonly #warn: (message: string) => void;
  readonly #secret: string | undefined;
  readonly #usage: ModelUsage = {};
  #stopReason: string | undefined;

  constructor(label: string, warn: (message: string) => void, secret: string | undefined) {
    this.#label = label;
    this.#warn = warn;
    this.#secret = secret;
  }

  onEvent(event: SseEvent, out: ModelStreamEvent[]): void {
    const json = asRecord(parseJson(event.data));
    if (json === undefined) {
      if (event.event === 'error') {
        throw new ProviderError('unknown', `${this.#label}: the server sent an unreadable error event`);
      }
      this.#warn(`${this.#label}: skipped a malformed stream event (${event.data.length} bytes)`);
      return;
    }
    const type = stringField(json, 'type') ?? event.event;
    if (type === 'message_start') this.#readUsage(asRecord(asRecord(json.message)?.usage));
    else if (type === 'content_block_start') this.#text(asRecord(json.content_block), out);
    else if (type === 'content_block_delta') this.#delta(asRecord(json.delta), out);
    else if (type === 'message_delta') this.#messageDelta(json);
    else if (type === 'message_stop') this.#finish(out);
    else if (type === 'error') this.#error(json);
  }

  end(out: ModelStreamEvent[]): void {
    if (this.#stopReason === undefined) {
      throw new ProviderError('connect', `${this.#label}: the stream ended before the model finished`);
    }
    this.#finish(out);
  }

  #delta(delta: Record<string, unknown> | undefined, out: ModelStreamEvent[]): void {
    if (delta === undefined) return;
    // thinking / tool-input deltas are not text, but they prove the model is generating.
    this.started = true;
    if (delta.type === 'text_delta') this.#text(delta, out);
  }

  #text(block: Record<string, unknown> | undefined, out: ModelStreamEvent[]): void {
    const text = block === undefined ? undefined : stringField(block, 'text');
    if (!text) return;
    this.started = true;
    out.push({ type: 'text', text });
  }

  #messageDelta(json: Record<string, unknown>): void {
    const reason = stringField(asRecord(json.delta) ?? {}, 'stop_reason');
    if (reason !== undefined) this.#stopReason = reason;
    this.#readUsage(asRecord(json.usage));
  }

  #readUsage(usage: Record<string, unknown> | undefined): void {
    if (usage === undefined) return;
    const input = numberField(usage, 'input_tokens');
    if (input !== undefined) {
      // Cached prompt tokens are still prompt tokens.
      const cached =
        (numberField(usage, 'cache_creation_input_tokens') ?? 0) + (numberField(usage, 'cache_read_input_tokens') ?? 0);
      this.#usage.input = input + cached;
    }
    const output = numberField(usage, 'output_tokens');
    if (output !== undefined) this.#usage.output = output;
  }

  #error(json: Record<string, unknown>): void {
    const error = vendorError(json) ?? {};
    const status = (error.type !== undefined ? ERROR_TYPE_STATUS[error.type] : undefined) ?? 500;
    throw errorFromStatus(this.#label, status, error, { secret: this.#secret });
  }

  #finish(out: ModelStreamEvent[]): void {
    this.finished = true;
    if (this.#stopReason === 'refusal') {
      throw new ProviderError('refusal', `${this.#label}: the model refused to answer`);
    }
    const { input, output } = this.#usage;
    if (input !== undefined || output !== undefined) {
      const usage: ModelUsage = { ...this.#usage };
      if (input !== undefined && output !== undefined) usage.totalTokens = input + output;
      out.push({ type: 'usage', usage });
    }
    out.push({ type: 'done', stopReason: normalizeStop(this.#stopReason) });
  }
}

/** Anthropic stop reasons in OpenAI's words: `stop`, `length`, `tool_calls`, or as sent. */
function normalizeStop(reason: string | undefined): string {
  switch (reason) {
    case undefined:
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    default:
      return reason;
  }
}
