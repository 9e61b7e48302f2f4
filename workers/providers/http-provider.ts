import type { IncomingHttpHeaders } from 'node:http';
import { createAgents, destroyAgents, HttpCall, type HttpAgents } from './http-call.js';
import { type ModelConfig, modelInfo, requiresApiKey } from './model-config.js';
import { errorFromNetwork, MAX_VENDOR_MESSAGE_CHARS, redact } from './provider-errors.js';
import { SseParser, type SseEvent } from './sse.js';
import { type ProviderTimeouts, resolveTimeouts, StreamGuard } from './stream-guard.js';
import {
  type ModelInfo,
  type ModelProvider,
  type ModelRequest,
  type ModelStreamEvent,
  ProviderError,
} from './types.js';

/** Something odd in a stream that did not stop it (e.g. a malformed event that was skipped). */
export interface ProviderWarning {
  providerId: string;
  runId: string;
  code: 'malformed_event';
  message: string;
}

/** What every HTTP provider is built from. */
export interface HttpProviderOptions {
  config: ModelConfig;
  /** Overrides of DEFAULT_PROVIDER_TIMEOUTS, in ms. */
  timeouts?: Partial<ProviderTimeouts>;
  /** Keep-alive agents to use instead of the provider's own; the caller owns (and closes) them. */
  agents?: HttpAgents;
  /** Told about skipped malformed events; the run layer logs them. Default: ignored. */
  onWarning?: (warning: ProviderWarning) => void;
}

/** The HTTP request of one model call. */
export interface HttpRequestSpec {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** Turns one vendor's SSE events into ModelStreamEvents, for one call. */
export interface StreamDecoder {
  /** Handles one event; pushes what to yield onto `out`. Throws a ProviderError to end the call. */
  onEvent(event: SseEvent, out: ModelStreamEvent[]): void;
  /** The model has produced output of any kind: the first-token clock stops. */
  readonly started: boolean;
  /** The vendor's end-of-stream marker was seen. */
  readonly finished: boolean;
  /** The body ended without the end marker; push the last events, or throw if the stream was cut short. */
  end(out: ModelStreamEvent[]): void;
}

/**
 * The shared half of the OpenAI and Anthropic providers: node:http keep-alive agents, the StreamGuard
 * timeouts, SSE parsing, error normalization, and closing. A subclass says how to build the request, how to
 * read an HTTP error and how to decode events.
 */
export abstract class HttpModelProvider implements ModelProvider {
  readonly id: string;
  // Private, with a getter: the config holds the API key, and a getter is not serialized if someone logs `this`.
  readonly #config: ModelConfig;
  readonly #timeouts: ProviderTimeouts;
  readonly #agents: HttpAgents;
  readonly #ownsAgents: boolean;
  readonly #onWarning: (warning: ProviderWarning) => void;
  readonly #active = new Set<StreamGuard>();
  #closed = false;

  constructor(options: HttpProviderOptions) {
    this.#config = options.config;
    this.id = options.config.id;
    this.#timeouts = resolveTimeouts(options.timeouts);
    this.#ownsAgents = options.agents === undefined;
    this.#agents = options.agents ?? createAgents();
    this.#onWarning = options.onWarning ?? (() => {});
  }

  protected get config(): ModelConfig {
    return this.#config;
  }

  protected abstract buildRequest(request: ModelRequest): HttpRequestSpec;
  protected abstract httpError(
    label: string,
    status: number,
    body: string,
    headers: IncomingHttpHeaders,
  ): ProviderError;
  protected abstract createDecoder(label: string, warn: (message: string) => void): StreamDecoder;

  models(): ModelInfo[] {
    return [modelInfo(this.config)];
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const label = `${this.config.provider}/${request.model}`;
    if (this.#closed) throw new ProviderError('aborted', `${label}: the provider is closed`);
    if (requiresApiKey(this.config) && !this.config.apiKey) {
      throw new ProviderError('unknown', `${label}: no API key configured for model '${this.id}'`);
    }
    const guard = new StreamGuard(request.signal, this.#timeouts, label);
    this.#active.add(guard);
    let call: HttpCall | undefined;
    try {
      guard.throwIfStopped();
      call = await HttpCall.open({ ...this.buildRequest(request), agents: this.#agents, guard });
      const status = call.res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        throw this.httpError(label, status, await call.text(), call.res.headers);
      }
      const type = call.res.headers['content-type'];
      if (type !== undefined && !type.includes('text/event-stream')) {
        throw notAStream(label, type, await call.text(), this.config.apiKey);
      }
      const warn = (message: string): void =>
        this.#onWarning({ providerId: this.id, runId: request.runId, code: 'malformed_event', message });
      yield* this.#events(call, guard, this.createDecoder(label, warn));
    } catch (error) {
      throw guard.signal.aborted ? guard.signal.reason : errorFromNetwork(label, error);
    } finally {
      call?.close();
      guard.close();
      this.#active.delete(guard);
    }
  }

  /** Aborts calls in flight and destroys the keep-alive sockets; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const guard of this.#active) guard.abort(new ProviderError('aborted', `${this.id}: the provider was closed`));
    if (this.#ownsAgents) destroyAgents(this.#agents);
  }

  async *#events(call: HttpCall, guard: StreamGuard, decoder: StreamDecoder): AsyncGenerator<ModelStreamEvent> {
    const parser = new SseParser();
    const out: ModelStreamEvent[] = [];
    for await (const chunk of call.chunks()) {
      // Past the end marker only the rest of a complete body is left: read it so the socket can be reused.
      if (decoder.finished) continue;
      const failure = decode(parser.push(chunk), decoder, out);
      if (decoder.started) guard.token();
      yield* flush(out, guard);
      if (failure !== undefined) throw failure;
      // A server that keeps the body open after its end marker is not waited for: the socket is dropped.
      if (decoder.finished && !call.res.complete) return;
    }
    if (decoder.finished) return;
    let failure = decode(parser.end(), decoder, out);
    if (failure === undefined && !decoder.finished) failure = decode(undefined, decoder, out);
    yield* flush(out, guard);
    if (failure !== undefined) throw failure;
  }
}

/**
 * Runs events through the decoder up to its end marker (`undefined`: the body ended, call `end`). Returns the
 * error that ends the call instead of throwing it, so that text decoded before it is still yielded.
 */
function decode(events: SseEvent[] | undefined, decoder: StreamDecoder, out: ModelStreamEvent[]): unknown {
  try {
    if (events === undefined) {
      decoder.end(out);
      return undefined;
    }
    for (const event of events) {
      decoder.onEvent(event, out);
      if (decoder.finished) break;
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

/** A 2xx answer that is not an event stream (a proxy's login page, a server that ignored `stream: true`). */
function notAStream(label: string, type: string, body: string, secret: string | undefined): ProviderError {
  const snippet = redact(body.replace(/\s+/g, ' ').trim(), secret).slice(0, MAX_VENDOR_MESSAGE_CHARS);
  return new ProviderError('unknown', `${label}: expected an event stream, got ${type}: ${snippet}`);
}

/** Yields and empties `out`; the idle clock is paused while the consumer holds an event. */
function* flush(out: ModelStreamEvent[], guard: StreamGuard): Generator<ModelStreamEvent> {
  for (const event of out.splice(0)) {
    guard.throwIfStopped();
    guard.suspend();
    yield event;
    guard.resume();
  }
}
