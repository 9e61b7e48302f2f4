import { ProviderError } from './types.js';

/** Time to open the TCP (and TLS) connection to a model server, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Time from sending the request to the first token of model output, in ms. */
export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 60_000;
/** Longest silence between two pieces of the response body once output has started, in ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Longest time one model call may take from request to the end of the stream, in ms. */
export const DEFAULT_RUN_TIMEOUT_MS = 600_000;

/** The four timeouts of one model call, in ms. Each provider instance can override any of them. */
export interface ProviderTimeouts {
  connectMs: number;
  firstTokenMs: number;
  idleMs: number;
  runMs: number;
}

export const DEFAULT_PROVIDER_TIMEOUTS: Readonly<ProviderTimeouts> = Object.freeze({
  connectMs: DEFAULT_CONNECT_TIMEOUT_MS,
  firstTokenMs: DEFAULT_FIRST_TOKEN_TIMEOUT_MS,
  idleMs: DEFAULT_IDLE_TIMEOUT_MS,
  runMs: DEFAULT_RUN_TIMEOUT_MS,
});

/** Fills the missing timeouts with the defaults above. */
export function resolveTimeouts(overrides: Partial<ProviderTimeouts> = {}): ProviderTimeouts {
  return { ...DEFAULT_PROVIDER_TIMEOUTS, ...overrides };
}

/**
 * One model call's stop switch. `signal` aborts when the run's signal aborts or when a timeout fires; its
 * `reason` is always a ProviderError (`aborted` or `timeout`), so whatever await is cut short, the caller
 * rethrows `signal.reason`. The HTTP layer destroys the request on that signal, which is what makes a timeout
 * or an abort close the connection at once.
 *
 * Phases: the connect timer runs until `connected()`; the first-token timer until the first `token()`; after
 * that the idle timer is re-armed by every `activity()`. While the consumer holds a yielded event
 * (`suspend()` … `resume()`) the idle timer does not count: a slow reader is not a stalled server.
 */
export class StreamGuard {
  readonly #controller = new AbortController();
  readonly #runSignal: AbortSignal;
  readonly #label: string;
  readonly #timeouts: ProviderTimeouts;
  readonly #onRunAbort = (): void => this.abort(this.#abortedError());
  #connectTimer: NodeJS.Timeout | undefined;
  #firstTokenTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #runTimer: NodeJS.Timeout | undefined;
  #suspended = false;

  /** `label` names the provider and model in messages (never a key or URL credentials). */
  constructor(runSignal: AbortSignal, timeouts: ProviderTimeouts, label: string) {
    this.#runSignal = runSignal;
    this.#timeouts = timeouts;
    this.#label = label;
    if (runSignal.aborted) {
      this.#controller.abort(this.#abortedError());
      return;
    }
    runSignal.addEventListener('abort', this.#onRunAbort, { once: true });
    this.#connectTimer = this.#arm(timeouts.connectMs, `could not connect within ${timeouts.connectMs} ms`);
    this.#firstTokenTimer = this.#arm(timeouts.firstTokenMs, `no first token within ${timeouts.firstTokenMs} ms`);
    this.#runTimer = this.#arm(timeouts.runMs, `the call took longer than ${timeouts.runMs} ms`);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The connection is open (fresh socket connected, or a keep-alive socket reused). */
  connected(): void {
    clearTimeout(this.#connectTimer);
  }

  /** Model output arrived: the first call ends the first-token phase and starts the idle timer. */
  token(): void {
    if (this.#firstTokenTimer === undefined || this.#idleTimer !== undefined) return;
    clearTimeout(this.#firstTokenTimer);
    this.#idleTimer = this.#arm(this.#timeouts.idleMs, `the stream stalled: no data for ${this.#timeouts.idleMs} ms`);
  }

  /** Bytes arrived: the server is alive, restart the idle timer. */
  activity(): void {
    this.#idleTimer?.refresh();
  }

  /** The consumer holds an event; idle time does not count until `resume()`. */
  suspend(): void {
    this.#suspended = true;
  }

  resume(): void {
    this.#suspended = false;
    this.#idleTimer?.refresh();
  }

  /** Throws the stop reason if the call was aborted or timed out. */
  throwIfStopped(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  /** Stops the call with `reason` (first reason wins) and clears every timer. */
  abort(reason: ProviderError): void {
    if (!this.signal.aborted) this.#controller.abort(reason);
    this.close();
  }

  /** Clears timers and listeners; safe to call twice. Does not abort. */
  close(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#firstTokenTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#runTimer);
    this.#runSignal.removeEventListener('abort', this.#onRunAbort);
  }

  #arm(ms: number, what: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (timer === this.#idleTimer && this.#suspended) return;
      this.abort(new ProviderError('timeout', `${this.#label}: ${what}`));
    }, ms);
    // Timers never keep the process alive on their own; the socket they guard does that.
    timer.unref();
    return timer;
  }

  #abortedError(): ProviderError {
    return new ProviderError('aborted', `${this.#label}: aborted`, { cause: this.#runSignal.reason });
  }
}
