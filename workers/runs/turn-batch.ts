/**
 * Group commit for the two writes every turn makes. Accepts and finishes asked for during one event-loop
 * iteration are written in one transaction at the end of the iteration (`setImmediate`); each caller's promise
 * settles after the commit, so an ack or a final event is sent only for what is on disk. One commit per
 * iteration instead of two per turn: under load the cost of committing (page writes to the WAL, the commit
 * itself) is shared by every turn of the batch.
 *
 * A failing write must fail alone. The batch is first written with no savepoints (each costs a copy of every
 * page its turn writes); if any write throws, that transaction is rolled back and the batch written again with
 * each write in its own savepoint, so the failure undoes only its own writes and the others are stored.
 *
 * A fatal database error inside the batch (the file became unusable) is left to the store, which switches to
 * its in-memory copy and runs the whole batch again there (memory/resilient-store.ts).
 */
import { isFatalSqliteError } from '../../memory/resilient-store.js';
import type { Store } from '../../memory/store.js';
import type { AcceptTurnInput, AcceptTurnResult, FinishTurnInput } from '../../memory/turn-store.js';
import type { StoredMessage } from '../../memory/types.js';

type Op =
  | { kind: 'accept'; input: AcceptTurnInput; settle: Settle<AcceptTurnResult> }
  | { kind: 'finish'; input: FinishTurnInput; settle: Settle<StoredMessage | undefined> };

interface Settle<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

export class TurnBatch {
  #ops: Op[] = [];
  #scheduled = false;

  constructor(private readonly store: Store) {}

  /** Stores the user turn (idempotency, run, message); settles after the commit. */
  accept(input: AcceptTurnInput): Promise<AcceptTurnResult> {
    return new Promise((resolve, reject) => this.#add({ kind: 'accept', input, settle: { resolve, reject } }));
  }

  /** Stores the run's ending; settles after the commit with the stored assistant message, if any. */
  finish(input: FinishTurnInput): Promise<StoredMessage | undefined> {
    return new Promise((resolve, reject) => this.#add({ kind: 'finish', input, settle: { resolve, reject } }));
  }

  /** Commits what is pending now (shutdown); the promises settle in the next microtasks. */
  flush(): void {
    const ops = this.#ops;
    this.#ops = [];
    this.#scheduled = false;
    if (ops.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.#writeBare(ops) ?? this.#writeIsolated(ops);
    } catch (err) {
      for (const op of ops) op.settle.reject(err);
      return;
    }
    ops.forEach((op, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) (op.settle.resolve as (value: unknown) => void)(outcome.value);
      else op.settle.reject(outcome.err);
    });
  }

  #add(op: Op): void {
    this.#ops.push(op);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** The batch with no savepoints; undefined when a write threw (the whole transaction was rolled back). */
  #writeBare(ops: Op[]): Outcome[] | undefined {
    const { turns } = this.store;
    try {
      return this.store.transaction(() =>
        ops.map((op): Outcome => ({ ok: true, value: op.kind === 'accept' ? turns.acceptWithin(op.input) : turns.finishWithin(op.input) })),
      );
    } catch {
      return undefined;
    }
  }

  /** The batch with each write in its own savepoint: a failure is that op's outcome, the others are stored. */
  #writeIsolated(ops: Op[]): Outcome[] {
    return this.store.transaction(() => ops.map((op) => this.#isolated(op)));
  }

  /** One op in its own savepoint; a fatal error is rethrown so the whole batch moves to the in-memory copy. */
  #isolated(op: Op): Outcome {
    try {
      return { ok: true, value: op.kind === 'accept' ? this.store.turns.accept(op.input) : this.store.turns.finish(op.input) };
    } catch (err) {
      if (isFatalSqliteError(err)) throw err;
      return { ok: false, err };
    }
  }
}
