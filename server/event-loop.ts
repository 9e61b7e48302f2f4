/** Event-loop delay, sampled continuously (perf_hooks histogram over a rolling window). */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Sampling resolution of the event-loop delay histogram, in ms. */
export const EVENT_LOOP_RESOLUTION_MS = 10;
/** The histogram starts over this often, so figures describe the recent past, in ms. */
export const EVENT_LOOP_WINDOW_MS = 60_000;

export interface LoopDelay {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

export class EventLoopMonitor {
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  readonly #timer: NodeJS.Timeout;
  #previous: LoopDelay = { meanMs: 0, p99Ms: 0, maxMs: 0 };

  constructor() {
    this.#histogram.enable();
    this.#timer = setInterval(() => {
      this.#previous = this.#current();
      this.#histogram.reset();
    }, EVENT_LOOP_WINDOW_MS);
    this.#timer.unref();
  }

  /** Delay beyond the sampling resolution in the current window (or the last one if this one is empty), in ms. */
  read(): LoopDelay {
    return this.#histogram.count === 0 ? this.#previous : this.#current();
  }

  #current(): LoopDelay {
    const h = this.#histogram;
    const toMs = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - EVENT_LOOP_RESOLUTION_MS) * 100) / 100);
    return { meanMs: toMs(h.mean), p99Ms: toMs(h.percentile(99)), maxMs: toMs(h.max) };
  }

  /** Safe to call twice. */
  close(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }
}
