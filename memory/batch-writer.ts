/**
 * Writes what the RAM model changed (state changes, summaries, updates, the event log) and the sessions'
 * RAM snapshots in batches: one transaction every `intervalMs` for everything that changed since the last
 * one, never a commit per turn on the turn's path. `flush()` writes now (memory methods call it first, so
 * they read what RAM did); `close()` flushes and stops the timer. A crash loses at most one interval of RAM
 * bookkeeping, never a turn (turns are written by the accept/finish transactions): on restore such items
 * are simply still `active`, and the limits and the memory manager deal with them again.
 */
import type { Store } from './store.js';

/** Default of `memorySnapshotIntervalMs`: time between batch writes, in ms. */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1_000;

export interface BatchLogger {
  warn(obj: object, msg?: string): void;
}

export class BatchWriter {
  readonly #store: Store;
  readonly #logger: BatchLogger;
  #pending: (() => void)[] = [];
  readonly #snapshots = new Map<string, () => void>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  readonly #index: boolean;

  /** With `index`, each batch also adds new memory rows to the full-text index (index-store.ts). */
  constructor(store: Store, intervalMs: number, logger: BatchLogger, options: { index: boolean } = { index: false }) {
    this.#store = store;
    this.#index = options.index;
    this.#logger = logger;
    this.#timer = setInterval(() => this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Writes waiting for the next batch. */
  get size(): number {
    return this.#pending.length + this.#snapshots.size;
  }

  /** Queues a write (run inside the batch's transaction, in the order added). */
  add(write: () => void): void {
    this.#pending.push(write);
  }

  /** Queues (or replaces) the snapshot write of a session: only the latest one per batch is written. */
  snapshot(sessionKey: string, write: () => void): void {
    this.#snapshots.set(sessionKey, write);
  }

  /** Writes everything queued, in one transaction. A batch that fails is logged and dropped. */
  flush(): void {
    const index = this.#index && this.#indexBehind();
    if (this.#pending.length === 0 && this.#snapshots.size === 0 && !index) return;
    const writes = this.#pending;
    const snapshots = [...this.#snapshots.values()];
    this.#pending = [];
    this.#snapshots.clear();
    try {
      this.#store.transaction(() => {
        for (const write of writes) write();
        for (const write of snapshots) write();
        if (index) this.#store.memory.index.catchUp();
      });
    } catch (err) {
      this.#logger.warn({ err, writes: writes.length, snapshots: snapshots.length }, 'memory batch write failed; dropped');
    }
  }

  #indexBehind(): boolean {
    try {
      return this.#store.memory.index.behind();
    } catch (err) {
      this.#logger.warn({ err }, 'reading the index state failed');
      return false;
    }
  }

  /** Flushes and stops; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.flush();
  }
}
