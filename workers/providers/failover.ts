import { sleep } from '../abortable.js';
import {
  type ModelInfo,
  type ModelProvider,
  type ModelRequest,
  type ModelStreamEvent,
  ProviderError,
  type ProviderErrorKind,
} from './types.js';

/** Longest `Retry-After` the chain waits out on the same model before moving to the next, in ms. */
export const DEFAULT_MAX_RETRY_WAIT_MS = 5_000;

/** Errors that mean "this model, right now" rather than "this request": the next model may well succeed. */
export const FAILOVER_KINDS: ReadonlySet<ProviderErrorKind> = new Set(['connect', 'server', 'timeout', 'rate_limit']);

/** One model of a chain: a provider already built from config, and the vendor model id to ask it for. */
export interface FailoverLink {
  provider: ModelProvider;
  model: string;
  /** Name shown in status events; default `provider.id` (the configured model id). */
  label?: string;
}

export interface FailoverOptions {
  /** The chain's provider id; default `failover`. */
  id?: string;
  /** Default DEFAULT_MAX_RETRY_WAIT_MS, in ms. */
  maxRetryWaitMs?: number;
}

/**
 * A ModelProvider over a chain of models (e.g. primary → fallback → local). Each link asks its provider for
 * its own model. `request.model` picks where a call starts: the link it names (by configured id, vendor model
 * or `provider/model`) is tried first, then the others in chain order; a name the chain does not know leaves
 * the order as configured. Policy, per call:
 * - An error of a FAILOVER_KINDS kind before any text was yielded moves on. If it carries `retryAfterMs` no
 *   longer than `maxRetryWaitMs`, the same model is tried once more after that wait (status `retry`);
 *   otherwise the next model is tried at once (status `failover`, detail `{from, to, reason, retryAfterMs?,
 *   message}`). When no model is left, the last error is thrown.
 * - An error after text was yielded is thrown as is: the partial answer stays and the run ends with its kind.
 * - `context_length`, `refusal`, `unknown` and `aborted` are thrown as is: another model would not help.
 * Before each model it tries, the chain yields a `model` event naming it, so the caller can attribute the answer.
 * Each link applies its own timeouts; the caller's signal stops everything, including a Retry-After wait.
 * The chain owns its links: `close()` closes every link's provider (each close is safe to call twice).
 */
export class FailoverProvider implements ModelProvider {
  readonly id: string;
  readonly #links: readonly FailoverLink[];
  readonly #maxRetryWaitMs: number;

  constructor(links: FailoverLink[], options: FailoverOptions = {}) {
    if (links.length === 0) throw new Error('a failover chain needs at least one model');
    this.#links = [...links];
    this.id = options.id ?? 'failover';
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
  }

  /** Every link's models, first occurrence of an id wins. */
  models(): ModelInfo[] {
    const seen = new Map<string, ModelInfo>();
    for (const link of this.#links) {
      for (const info of link.provider.models()) if (!seen.has(info.id)) seen.set(info.id, info);
    }
    return [...seen.values()];
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const chain = this.#chainFor(request.model);
    for (let index = 0; index < chain.length; index++) {
      const link = chain[index] as FailoverLink;
      let retried = false;
      yield answering(link);
      for (;;) {
        const attempt = yield* this.#attempt(link, request);
        if (attempt === undefined) return;
        const error = attempt;
        const wait = error.retryAfterMs;
        if (!retried && wait !== undefined && wait <= this.#maxRetryWaitMs) {
          retried = true;
          yield status('retry', { model: label(link), reason: error.kind, retryAfterMs: wait, message: error.message });
          await retryWait(wait, request.signal);
          continue;
        }
        const next = chain[index + 1];
        if (next === undefined) throw error;
        const detail: Record<string, unknown> = {
          from: label(link),
          to: label(next),
          reason: error.kind,
          message: error.message,
        };
        if (wait !== undefined) detail.retryAfterMs = wait;
        yield status('failover', detail);
        break;
      }
    }
  }

  /** The links in the order one call tries them: the one `model` names first. */
  #chainFor(model: string | undefined): readonly FailoverLink[] {
    const named = model === undefined ? -1 : this.#links.findIndex((link) => names(link).includes(model));
    if (named <= 0) return this.#links;
    return [this.#links[named] as FailoverLink, ...this.#links.filter((_, i) => i !== named)];
  }

  async close(): Promise<void> {
    const providers = new Set(this.#links.map((link) => link.provider));
    await Promise.all([...providers].map((provider) => provider.close()));
  }

  /**
   * Streams one link. Returns undefined when it finished, or the error to fail over on; throws every error
   * that must end the run.
   */
  async *#attempt(
    link: FailoverLink,
    request: ModelRequest,
  ): AsyncGenerator<ModelStreamEvent, ProviderError | undefined> {
    let textSeen = false;
    try {
      for await (const event of link.provider.stream({ ...request, model: link.model })) {
        if (event.type === 'text') textSeen = true;
        yield event;
      }
      return undefined;
    } catch (error) {
      if (textSeen || request.signal.aborted) throw error;
      if (!(error instanceof ProviderError) || !FAILOVER_KINDS.has(error.kind)) throw error;
      return error;
    }
  }
}

function label(link: FailoverLink): string {
  return link.label ?? link.provider.id;
}

/** The link's provider kind (`openai`, `anthropic`, `local`). */
function providerOf(link: FailoverLink): string {
  return link.provider.models()[0]?.provider ?? link.provider.id;
}

/** What a client may call a link: its configured id, the vendor model, `provider/model`. */
function names(link: FailoverLink): string[] {
  return [label(link), link.model, `${providerOf(link)}/${link.model}`];
}

/** The `model` event for a link: which configured model answers from here on. */
function answering(link: FailoverLink): ModelStreamEvent {
  return { type: 'model', id: label(link), model: link.model, provider: providerOf(link) };
}

function status(phase: string, detail: Record<string, unknown>): ModelStreamEvent {
  return { type: 'status', phase, detail };
}

/** Waits `ms`, or rejects with an `aborted` ProviderError as soon as `signal` aborts. */
function retryWait(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch((cause: unknown) => {
    throw new ProviderError('aborted', 'aborted while waiting to retry', { cause });
  });
}
