/**
 * The one serialized mutation queue of a session's active context. Operations are applied one at a time, in
 * the order they were submitted, each to completion (apply is synchronous), with one exception that keeps
 * runs safe: an operation that targets an item a run holds (pinned) waits until the run lets go. While it
 * waits, later operations on other items go ahead; a later operation on an item that a waiting operation
 * targets waits behind it, so the operations on any one item always apply in submission order.
 */
import type { MemoryId } from './ids.js';
import type { OpResult } from './memory-types.js';

interface QueuedOp {
  readonly targets: readonly MemoryId[];
  readonly apply: () => OpResult;
  readonly resolve: (result: OpResult) => void;
  readonly reject: (err: unknown) => void;
}

export class MutationQueue {
  readonly #waiting: QueuedOp[] = [];
  readonly #isPinned: (id: MemoryId) => boolean;
  #draining = false;
  /** Every applied operation's targets, in apply order (kept only when tracing; tests check it). */
  readonly #trace: { targets: readonly MemoryId[]; pinned: MemoryId[] }[] | undefined;

  constructor(isPinned: (id: MemoryId) => boolean, options: { trace?: boolean } = {}) {
    this.#isPinned = isPinned;
    this.#trace = options.trace === true ? [] : undefined;
  }

  /** Operations waiting for a pinned item. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Applies at once when the targets are free; otherwise when they are released. */
  submit(targets: readonly MemoryId[], apply: () => OpResult): Promise<OpResult> {
    return new Promise<OpResult>((resolve, reject) => {
      this.#waiting.push({ targets, apply, resolve, reject });
      this.drain();
    });
  }

  /** Applies, in order, every waiting operation whose targets are free. Call after pins are released. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      const blocked = new Set<MemoryId>();
      for (let i = 0; i < this.#waiting.length; i++) {
        const op = this.#waiting[i] as QueuedOp;
        if (op.targets.some((id) => blocked.has(id) || this.#isPinned(id))) {
          for (const id of op.targets) blocked.add(id);
          continue;
        }
        this.#waiting.splice(i, 1);
        i -= 1;
        this.#trace?.push({ targets: op.targets, pinned: op.targets.filter((id) => this.#isPinned(id)) });
        try {
          op.resolve(op.apply());
        } catch (err) {
          op.reject(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** The apply trace (tracing on): for each applied op, its targets and those of them that were pinned. */
  trace(): readonly { targets: readonly MemoryId[]; pinned: MemoryId[] }[] {
    return this.#trace ?? [];
  }
}
