/**
 * The OpenAI-compatible provider: `POST {baseUrl}/chat/completions` with `stream: true`, for OpenAI, Ollama,
 * vLLM, llama.cpp server, LM Studio and the like.
 *
 * Hand-written on node:http rather than the `openai` SDK, on purpose:
 * - CPU: the SDK rides on `fetch` (undici); DESIGN measured node:http with a keep-alive agent at 1.5 ms CPU
 *   per turn against 4.0 ms for fetch, and the model call is on every turn.
 * - Control: we need connect / first-token / idle / whole-call timeouts, an abort that destroys the socket at
 *   once, and no retries (failover is ours). The SDK has one overall timeout and retries by default; each of
 *   those would have to be switched off or wrapped, and verified again on every SDK upgrade.
 * - Size: we use one endpoint and one event shape; the SSE parser is ~100 lines with its own tests, shared
 *   with the Anthropic provider.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpModelProvider, type HttpRequestSpec, type StreamDecoder } from './http-provider.js';
import { effectiveBaseUrl } from './model-config.js';
import { errorFromStatus, isContextLength, parseRetryAfter, type VendorError } from './provider-errors.js';
import type { SseEvent } from './sse.js';
import { type ModelMessage, type ModelRequest, type ModelStreamEvent, type ModelUsage, ProviderError } from './types.js';
import { asRecord, headerValue, numberField, parseJson, stringField } from './json.js';

export class OpenAIProvider extends HttpModelProvider {
  protected buildRequest(request: ModelRequest): HttpRequestSpec {
    const base = effectiveBaseUrl(this.config);
    const url = new URL(`${base}/chat/completions`);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const body: Record<string, unknown> = {
      model: request.model,
      messages: request.messages.map(toOpenAIMessage),
      stream: true,
      stream_options: { include_usage: true },
    };
    const maxTokens = request.maxOutputTokens ?? this.config.maxOutputTokens;
    // OpenAI itself wants `max_completion_tokens` (reasoning models reject `max_tokens`); compatible servers
    // know `max_tokens`.
    if (maxTokens !== undefined) {
      body[url.hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens'] = maxTokens;
    }
    return { url, headers, body: JSON.stringify(body) };
  }

  protected httpError(label: string, status: number, body: string, headers: IncomingHttpHeaders): ProviderError {
    const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), headerValue(headers, 'retry-after-ms'));
    const options =
      retryAfterMs === undefined ? { secret: this.config.apiKey } : { retryAfterMs, secret: this.config.apiKey };
    return errorFromStatus(label, status, vendorError(parseJson(body)) ?? { message: body.trim() }, options);
  }

  protected createDecoder(label: string, warn: (message: string) => void): StreamDecoder {
    return new OpenAIDecoder(label, warn, this.config.apiKey);
  }
}

/** A message of the Chat Completions API: its text, or content parts when it carries images (as data URLs). */
export function toOpenAIMessage(message: ModelMessage): { role: ModelMessage['role']; content: string | OpenAIPart[] } {
  if (message.images === undefined || message.images.length === 0) return { role: message.role, content: message.content };
  const text: OpenAIPart[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
  const images = message.images.map((image): OpenAIPart => ({ type: 'image_url', image_url: { url: `data:${image.mimeType};base64,${image.data}` } }));
  return { role: message.role, content: [...text, ...images] };
}

type OpenAIPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** `{error: {message, code, type}}` (or a bare string `error`, as some compatible servers send). */
function vendorError(json: unknown): VendorError | undefined {
  const root = asRecord(json);
  if (root === undefined || !('error' in root)) return undefined;
  if (typeof root.error === 'string') return { message: root.error };
  const error = asRecord(root.error);
  if (error === undefined) return undefined;
  const code = error.code;
  return {
    message: stringField(error, 'message'),
    code: typeof code === 'number' ? String(code) : stringField(error, 'code'),
    type: stringField(error, 'type'),
  };
}

/**
 * Reads `chat.completion.chunk` events. Malformed JSON in one event is skipped with a warning: events are
 * self-contained, so the rest of the answer is still good. Events with an `event:` name (not part of the
 * protocol) are ignored. An `{error}` object in the stream ends the call with that error's kind.
 */
class OpenAIDecoder implements StreamDecoder {
  started = false;
  finished = false;
  readonly #label: string;
  readonly #warn: (message: string) => void;
  readonly #secret: string | undefined;
  #finishReason: string | undefined;
  #usage: ModelUsage | undefined;
  #refusal = '';

  constructor(label: string, warn: (message: string) => void, secret: string | undefined) {
    this.#label = label;
    this.#warn = warn;
    this.#secret = secret;
  }

  onEvent(event: SseEvent, out: ModelStreamEvent[]): void {
    if (event.event !== 'message' && event.event !== 'error') return;
    if (event.data.trim() === '[DONE]') {
      this.#finish(out);
      return;
    }
    const json = asRecord(parseJson(event.data));
    if (json === undefined) {
      this.#warn(`${this.#label}: skipped a malformed stream event (${event.data.length} bytes)`);
      return;
    }
    const error = vendorError(json);
    if (error !== undefined) {
      throw errorFromStatus(this.#label, inStreamStatus(json, error), error, { secret: this.#secret });
    }
    const usage = asRecord(json.usage);
    if (usage !== undefined) this.#usage = readUsage(usage);
    const choices = Array.isArray(json.choices) ? json.choices : [];
    for (const choice of choices) this.#choice(asRecord(choice), out);
  }

  end(out: ModelStreamEvent[]): void {
    // Some servers (older llama.cpp) send no `[DONE]`; a finish_reason is enough.
    if (this.#finishReason === undefined) {
      throw new ProviderError('connect', `${this.#label}: the stream ended before the model finished`);
    }
    this.#finish(out);
  }

  #choice(choice: Record<string, unknown> | undefined, out: ModelStreamEvent[]): void {
    if (choice === undefined || (choice.index !== undefined && choice.index !== 0)) return;
    const delta = asRecord(choice.delta);
    if (delta !== undefined) {
      const text = delta.content;
      if (typeof text === 'string' && text.length > 0) out.push({ type: 'text', text });
      const refusal = delta.refusal;
      if (typeof refusal === 'string') this.#refusal += refusal;
      // Reasoning and tool-call deltas are not text, but they prove the model is generating.
      if (text || refusal || delta.reasoning_content || delta.reasoning || delta.tool_calls) this.started = true;
    }
    const finish = stringField(choice, 'finish_reason');
    if (finish !== undefined) this.#finishReason = finish;
  }

  #finish(out: ModelStreamEvent[]): void {
    this.finished = true;
    if (this.#finishReason === 'content_filter' || this.#refusal) {
      const why = this.#refusal ? `: ${this.#refusal}` : ' (content filter)';
      throw new ProviderError('refusal', `${this.#label}: the model refused${why}`);
    }
    if (this.#usage !== undefined) out.push({ type: 'usage', usage: this.#usage });
    out.push({ type: 'done', stopReason: normalizeFinish(this.#finishReason) });
  }
}

/** The HTTP status an in-stream error stands for: as sent, else inferred (unexplained errors are the server's). */
function inStreamStatus(json: Record<string, unknown>, error: VendorError): number {
  const status = numberField(json, 'status') ?? Number(error.code);
  if (Number.isInteger(status) && status >= 400 && status <= 599) return status;
  if (isContextLength(error)) return 400;
  if (/rate_limit/.test(`${error.code} ${error.type}`)) return 429;
  return 500;
}

function readUsage(usage: Record<string, unknown>): ModelUsage {
  const result: ModelUsage = {};
  const input = numberField(usage, 'prompt_tokens');
  const output = numberField(usage, 'completion_tokens');
  const total = numberField(usage, 'total_tokens');
  if (input !== undefined) result.input = input;
  if (output !== undefined) result.output = output;
  if (total !== undefined) result.totalTokens = total;
  else if (input !== undefined && output !== undefined) result.totalTokens = input + output;
  return result;
}

/** `stop` | `length` | `tool_calls` | ... as sent; `stop` when the server sent none. */
function normalizeFinish(reason: string | undefined): string {
  if (reason === undefined || reason === 'eos' || reason === 'stop_sequence') return 'stop';
  return reason === 'function_call' ? 'tool_calls' : reason;
}
