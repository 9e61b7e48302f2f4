/**
 * Timers that judge what a client sent — a handshake that never came, a missing pong, a test's wait for a
 * reply — fire from `setImmediate`, after the poll phase has read the sockets. After the event loop was held
 * past the delay (a long I/O callback, or a descheduled process), the next iteration runs its due timers
 * before it reads the sockets: a reply that came in time would be judged missing.
 */
export class IoTimer {
  readonly #timer: NodeJS.Timeout;
  #immediate: NodeJS.Immediate | undefined;

  constructor(ms: number, fn: () => void, repeat: boolean) {
    const fire = (): void => {
      this.#immediate = setImmediate(fn);
    };
    this.#timer = repeat ? setInterval(fire, ms) : setTimeout(fire, ms);
  }

  /** Does not keep the process alive (as Node's `unref`). */
  unref(): this {
    this.#timer.unref();
    return this;
  }

  /** Cancels the timer and a callback it has scheduled; safe to call twice. */
  clear(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
  }
}

/** `fn` once, `ms` from now, after the sockets were read. */
export function timeoutAfterIo(ms: number, fn: () => void): IoTimer {
  return new IoTimer(ms, fn, false);
}

/** `fn` every `ms`, each time after the sockets were read. */
export function intervalAfterIo(ms: number, fn: () => void): IoTimer {
  return new IoTimer(ms, fn, true);
}
