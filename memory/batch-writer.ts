/**
 * Writes what the RAM model changed (state changes, summaries, updates, the event log) and the sessions'
 * RAM snapshots in batches, never a commit per turn on the turn's path. Every `intervalMs` the timer writes
 * what changed since the last time, in slices of at most SLICE_MS of work, each its own transaction, with
 * the event loop free between two slices: one transaction for everything stalled turns behind it (measured
 * at 500 turns/s: 12–24 ms once a second, of which ~7 ms indexing a thousand rows and ~4 ms writing a hundred
 * snapshots). `flush()` writes everything now, in one transaction (memory methods call it first, so they
 * read what RAM did); `close()` flushes and stops the timer. A crash loses at most about one interval of RAM
 * bookkeeping, never a turn (turns are written by the accept/finish transactions): on restore such items
 * are simply still `active`, and the limits and the memory manager deal with them again.
 */
import type { Store } from './store.js';

/** Default of `memorySnapshotIntervalMs`: time between batch writes, in ms. */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1_000;

/** Most work in one slice of a timed batch write, in ms (a slice ends after the write that crosses it). */
export const SLICE_MS = 2;

/** Rows added to the full-text index per step of a slice (~1.5 ms of FTS5 work). */
export const INDEX_STEP_ROWS = 200;

export interface BatchLogger {
  warn(obj: object, msg?: string): void;
}

/** Work taken off the queues to be written: writes in order, the latest snapshot per session, index rows. */
interface Batch {
  writes: (() => void)[];
  snapshots: Map<string, () => void>;
  /** Rows the full-text index is behind by (at most; it stops early when caught up). */
  indexRows: number;
}

export class BatchWriter {
  readonly #store: Store;
  readonly #logger: BatchLogger;
  readonly #index: boolean;
  #queued: Batch = emptyBatch();
  /** The timed batch being written in slices, if any. */
  #slicing: Batch | undefined;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  /** With `index`, each batch also adds new memory rows to the full-text index (index-store.ts). */
  constructor(store: Store, intervalMs: number, logger: BatchLogger, options: { index: boolean } = { index: false }) {
    this.#store = store;
    this.#index = options.index;
    this.#logger = logger;
    this.#timer = setInterval(() => this.#startSlicing(), intervalMs);
    this.#timer.unref();
  }

  /** Writes waiting to be written. */
  get size(): number {
    const slicing = this.#slicing === undefined ? 0 : this.#slicing.writes.length + this.#slicing.snapshots.size;
    return slicing + this.#queued.writes.length + this.#queued.snapshots.size;
  }

  /** Queues a write (run inside a batch's transaction, in the order added). */
  add(write: () => void): void {
    this.#queued.writes.push(write);
  }

  /** Queues (or replaces) the snapshot write of a session: only the latest one per batch is written. */
  snapshot(sessionKey: string, write: () => void): void {
    this.#queued.snapshots.set(sessionKey, write);
  }

  /** Writes everything queued, the timed batch in progress first, in one transaction. */
  flush(): void {
    const batch = this.#take();
    const slicing = this.#slicing;
    this.#slicing = undefined;
    if (slicing !== undefined) {
      batch.writes.unshift(...slicing.writes);
      batch.snapshots = new Map([...slicing.snapshots, ...batch.snapshots]);
    }
    this.#write(batch, Infinity);
  }

  /** Flushes and stops; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.flush();
  }

  #startSlicing(): void {
    if (this.#closed || this.#slicing !== undefined) return;
    this.#slicing = this.#take();
    this.#slice();
  }

  /** Writes SLICE_MS of the timed batch; schedules the next slice while some is left. */
  #slice(): void {
    const batch = this.#slicing;
    if (batch === undefined) return;
    if (this.#write(batch, performance.now() + SLICE_MS)) setImmediate(() => this.#slice());
    else this.#slicing = undefined;
  }

  /** Takes what is queued (with the index's lag) as a batch; new work queues anew. */
  #take(): Batch {
    const batch = this.#queued;
    this.#queued = emptyBatch();
    batch.indexRows = this.#index ? this.#indexLag() : 0;
    return batch;
  }

  /**
   * Writes `batch` in order (its writes, its snapshots, then the index) in one transaction until `deadline`,
   * removing what was written from it; true when some is left. When the transaction fails, it is logged and
   * the whole batch dropped.
   */
  #write(batch: Batch, deadline: number): boolean {
    if (batch.writes.length === 0 && batch.snapshots.size === 0 && batch.indexRows === 0) return false;
    const due = (): boolean => performance.now() >= deadline;
    let writes = 0;
    let snapshots: string[] = [];
    let indexed = 0;
    try {
      this.#store.transaction(() => {
        // Reset on every attempt: the store runs this again on its in-memory copy after a fatal error.
        writes = 0;
        snapshots = [];
        indexed = 0;
        for (const write of batch.writes) {
          if (due()) break;
          write();
          writes += 1;
        }
        for (const [sessionKey, write] of batch.snapshots) {
          if (due()) break;
          write();
          snapshots.push(sessionKey);
        }
        while (indexed < batch.indexRows && !due()) {
          const rows = this.#store.memory.index.catchUp(Math.min(INDEX_STEP_ROWS, batch.indexRows - indexed));
          indexed = rows === 0 ? batch.indexRows : indexed + rows;
        }
      });
    } catch (err) {
      this.#logger.warn({ err, writes: batch.writes.length, snapshots: batch.snapshots.size }, 'memory batch write failed; dropped');
      return false;
    }
    batch.writes.splice(0, writes);
    for (const sessionKey of snapshots) batch.snapshots.delete(sessionKey);
    batch.indexRows -= indexed;
    return batch.writes.length > 0 || batch.snapshots.size > 0 || batch.indexRows > 0;
  }

  #indexLag(): number {
    try {
      return this.#store.memory.index.lag();
    } catch (err) {
      this.#logger.warn({ err }, 'reading the index state failed');
      return 0;
    }
  }
}

function emptyBatch(): Batch {
  return { writes: [], snapshots: new Map(), indexRows: 0 };
}
