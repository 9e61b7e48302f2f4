/**
 * How far MemoryIDs run ahead of their items' `createdAt`. An id holds its item's `createdAt` or a later time:
 * the monotonic factory goes on from the last id it made, so an item stamped earlier (a message stamped before
 * another id was made, a clock stepped back) gets an id ahead of it. `memory.query`'s `until` bounds its scan of
 * ids at until + 1 + the largest such lead (recall-store.ts), kept in `memory_index_state.max_id_lead`
 * (migration 12 computed it for the items before it).
 *
 * The lead is raised in the transaction that inserts the item, so a rollback, a savepoint's too, takes it back.
 * A lead known to be committed is cached: an insert at or under it writes and reads nothing. The cache is raised
 * only from what is read back after a commit, never from what a transaction wrote, which may yet roll back.
 */
import type { Db } from './db.js';
import { memoryIdTime, type MemoryId } from './ids.js';

const READ_LEAD = 'SELECT max_id_lead AS lead FROM memory_index_state WHERE id = 1';

/** Raises `into`'s lead to `from`'s when that is larger: RAM-mode rows written back to the file (write-back.ts). */
export function mergeIdLead(from: Db, into: Db): void {
  const lead = from.prepare<[], { lead: number }>(READ_LEAD).get()?.lead ?? 0;
  into.prepare('UPDATE memory_index_state SET max_id_lead = max(max_id_lead, ?) WHERE id = 1').run(lead);
}

export class IdLead {
  readonly #db: Db;
  readonly #read;
  readonly #raise;
  /** A lead stored and committed: the stored one is at least this. */
  #committed: number;
  /** The open transaction raised the stored lead. */
  #raised = false;

  constructor(db: Db) {
    this.#db = db;
    this.#read = db.prepare<[], { lead: number }>(READ_LEAD);
    this.#raise = db.prepare<[number, number]>('UPDATE memory_index_state SET max_id_lead = ? WHERE id = 1 AND max_id_lead < ?');
    this.#committed = this.stored();
  }

  /** The largest lead stored (outside a transaction: committed). */
  stored(): number {
    return this.#read.get()?.lead ?? 0;
  }

  /** Records the lead of an item being inserted; call in the transaction that inserts it. */
  record(id: MemoryId, createdAt: number): void {
    const lead = memoryIdTime(id) - createdAt;
    // NaN (an id that is not a MemoryID) is never greater.
    if (!(lead > this.#committed)) return;
    this.#raise.run(lead, lead);
    if (this.#db.inTransaction) this.#raised = true;
    else this.#committed = this.stored();
  }

  /** The outermost transaction committed: what it stored is known to be on disk. */
  committed(): void {
    if (!this.#raised) return;
    this.#raised = false;
    this.#committed = this.stored();
  }

  /** The outermost transaction rolled back, and whatever it raised with it. */
  rolledBack(): void {
    this.#raised = false;
  }
}
