/**
 * A small pool of worker threads for CPU-heavy pure functions (chunking and hashing documents, drafting
 * summaries), so the event loop never blocks on them. The thread runs either the function's own source
 * (`new Worker(code, {eval: true})`: it must be self-contained — no imports or outer variables; it gets
 * `require` as its second argument) or, for a function that imports others, the same function imported from
 * its module (`ThreadPoolOptions.module`). Both work the same from the compiled build and from TypeScript
 * sources under tsx/vitest (a `.ts` module is imported through tsx's `tsImport`, a devDependency).
 *
 * Threads start on first use, up to `size`, run one call at a time, and end after `idleMs` without work (a
 * thread is a whole V8 isolate, ~10 MB: an idle gateway should not keep them). An input the `small` predicate
 * accepts runs on the calling thread instead: for a few kilobytes of text, starting an isolate costs far more
 * time and memory than the work. Aborting a call that is queued drops it; aborting one that runs terminates
 * its thread (a new one starts when needed): abort is immediate. A thread that cannot load its function (a module
 * without it, a `.ts` module without tsx) rejects the call that found out, with the reason; from then on the
 * pool runs every call on the calling thread, so a caller that falls back on failure logs it once, not per call.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** A function that can run in a thread: plain data in, plain data out. */
export type ThreadFunction<I, O> = (input: I, require: (id: string) => unknown) => O;

interface Call {
  input: unknown;
  signal: AbortSignal;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  onAbort: () => void;
}

interface Thread {
  worker: Worker;
  call: Call | undefined;
  /** Ends the thread after THREAD_IDLE_MS without a call. */
  idle: NodeJS.Timeout | undefined;
}

/** A thread without work for this long is ended, in ms. */
export const THREAD_IDLE_MS = 30_000;

/** A module's export, named by the module's `import.meta.url`. */
export interface ThreadModule {
  url: string;
  name: string;
}

/**
 * An expression, in the thread, for a promise of the module's namespace. Without tsx a `.ts` module cannot be
 * imported: the thread then reports a failed load, and the pool is still made.
 */
function importExpression(url: string): string {
  if (!url.endsWith('.ts')) return `import(${JSON.stringify(url)})`;
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    return `Promise.reject(new Error(${JSON.stringify(`tsx is needed to import ${url} in a thread`)}))`;
  }
  return `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)}))`;
}

function threadSource(fn: ThreadFunction<never, unknown>, module: ThreadModule | undefined): string {
  // `__name` shim: some transpilers (keepNames) wrap inner functions in a helper the thread would not have.
  const handle =
    module === undefined
      ? `Promise.resolve(${fn.toString()})`
      : `${importExpression(module.url)}.then((namespace) => {
  const fn = namespace[${JSON.stringify(module.name)}];
  if (typeof fn !== 'function') throw new Error(${JSON.stringify(`${module.url} has no function ${module.name}`)});
  return fn;
})`;
  return `'use strict';
const { parentPort } = require('node:worker_threads');
const __name = (f) => f;
const handle = ${handle};
let loadFailed = false;
handle.catch(() => { loadFailed = true; }); // settles before any call's handlers: it was attached first
parentPort.on('message', (input) => {
  handle.then((fn) => fn(input, require)).then(
    (value) => parentPort.postMessage({ ok: true, value }),
    (err) => parentPort.postMessage({ ok: false, loadFailed, error: err && err.message ? String(err.message) : String(err) }),
  );
});`;
}

export interface ThreadPoolOptions<I> {
  /** A thread without work ends after this long, in ms (default THREAD_IDLE_MS). */
  idleMs?: number;
  /** Inputs cheap enough to run on the calling thread (default: none). */
  small?: (input: I) => boolean;
  /**
   * The module that exports the function, for one that is not self-contained: the thread imports it (once,
   * when it starts) instead of evaluating the function's source. The calling thread still runs `small` inputs
   * with the function given.
   */
  module?: ThreadModule;
}

const localRequire = createRequire(import.meta.url);

export class ThreadPool<I, O> {
  readonly #fn: ThreadFunction<I, O>;
  readonly #small: ((input: I) => boolean) | undefined;
  readonly #source: string;
  readonly #size: number;
  readonly #threads = new Set<Thread>();
  readonly #queue: Call[] = [];
  #closed = false;
  /** Set once a thread could not load its function: every call then runs here. */
  #cannotLoad = false;

  readonly #idleMs: number;

  constructor(fn: ThreadFunction<I, O>, size: number, options: ThreadPoolOptions<I> = {}) {
    this.#fn = fn;
    this.#small = options.small;
    this.#source = threadSource(fn as ThreadFunction<never, unknown>, options.module);
    this.#size = Math.max(1, size);
    this.#idleMs = options.idleMs ?? THREAD_IDLE_MS;
  }

  /** Threads started (at most `size`). */
  get threads(): number {
    return this.#threads.size;
  }

  /** Runs the function in a thread (here, if small); rejects with the signal's reason as soon as it aborts. */
  run(input: I, signal: AbortSignal): Promise<O> {
    if (this.#closed) return Promise.reject(new Error('thread pool closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#cannotLoad || this.#small?.(input) === true) return this.#runHere(input);
    return new Promise<O>((resolve, reject) => {
      const call: Call = { input, signal, resolve: resolve as (value: unknown) => void, reject, onAbort: () => this.#abort(call) };
      signal.addEventListener('abort', call.onAbort, { once: true });
      this.#queue.push(call);
      this.#dispatch();
    });
  }

  /** Terminates every thread and rejects what is queued or running. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    const { running, ended } = this.#endThreads();
    for (const call of [...this.#queue.splice(0), ...running]) this.#settle(call, new Error('thread pool closed'));
    await ended;
  }

  /** Terminates every thread; returns the calls they were running and when they have all ended. */
  #endThreads(): { running: Call[]; ended: Promise<unknown> } {
    const threads = [...this.#threads];
    this.#threads.clear();
    const running: Call[] = [];
    for (const thread of threads) {
      clearTimeout(thread.idle);
      if (thread.call !== undefined) running.push(thread.call);
      thread.call = undefined;
    }
    return { running, ended: Promise.all(threads.map((thread) => thread.worker.terminate())) };
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const thread = this.#idleThread();
      if (thread === undefined) return;
      const call = this.#queue.shift() as Call;
      clearTimeout(thread.idle);
      thread.idle = undefined;
      thread.call = call;
      thread.worker.postMessage(call.input);
    }
    for (const thread of this.#threads) if (thread.call === undefined) this.#retireWhenIdle(thread);
  }

  #retireWhenIdle(thread: Thread): void {
    if (thread.idle !== undefined) return;
    thread.idle = setTimeout(() => {
      if (thread.call !== undefined || !this.#threads.delete(thread)) return;
      void thread.worker.terminate();
    }, this.#idleMs);
    thread.idle.unref();
  }

  #idleThread(): Thread | undefined {
    for (const thread of this.#threads) if (thread.call === undefined) return thread;
    if (this.#threads.size >= this.#size) return undefined;
    const thread: Thread = { worker: new Worker(this.#source, { eval: true }), call: undefined, idle: undefined };
    thread.worker.unref();
    thread.worker.on('message', (reply: { ok: boolean; value?: unknown; error?: string; loadFailed?: boolean }) => {
      const call = thread.call;
      thread.call = undefined;
      if (call !== undefined) {
        if (reply.ok) this.#settle(call, undefined, reply.value);
        else this.#settle(call, new Error(reply.error ?? 'thread function failed'));
      }
      if (reply.loadFailed === true) this.#giveUpThreads();
      else this.#dispatch();
    });
    const lost = (err: unknown): void => {
      clearTimeout(thread.idle);
      if (!this.#threads.delete(thread)) return;
      if (thread.call !== undefined) this.#settle(thread.call, err instanceof Error ? err : new Error('worker thread exited'));
      thread.call = undefined;
      this.#dispatch();
    };
    thread.worker.on('error', lost);
    thread.worker.on('exit', () => lost(new Error('worker thread exited')));
    this.#threads.add(thread);
    return thread;
  }

  #runHere(input: I): Promise<O> {
    return new Promise<O>((resolve) => resolve(this.#fn(input, localRequire)));
  }

  /** A thread could not load its function, nor will the next: ends the threads, runs their calls and the queue here. */
  #giveUpThreads(): void {
    this.#cannotLoad = true;
    const { running } = this.#endThreads();
    for (const call of [...running, ...this.#queue.splice(0)]) {
      this.#runHere(call.input as I).then(
        (value) => this.#settle(call, undefined, value),
        (err: unknown) => this.#settle(call, err ?? new Error('thread function failed')),
      );
    }
  }

  #abort(call: Call): void {
    const queued = this.#queue.indexOf(call);
    if (queued >= 0) this.#queue.splice(queued, 1);
    for (const thread of this.#threads) {
      if (thread.call !== call) continue;
      this.#threads.delete(thread);
      thread.call = undefined;
      void thread.worker.terminate();
    }
    this.#settle(call, call.signal.reason);
    this.#dispatch();
  }

  #settle(call: Call, err: unknown, value?: unknown): void {
    call.signal.removeEventListener('abort', call.onAbort);
    if (err === undefined) call.resolve(value);
    else call.reject(err);
  }
}
