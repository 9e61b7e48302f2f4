/**
 * The rows of sessions deleted with their transcript, removed in the background. Deleting a session's
 * messages and memory items in the delete's own transaction cost 15-40 µs per stored message (the full-text
 * index's deletes most of it): a session of 50,000 messages held the event loop 0.7-2 s. `sessions.delete`
 * now deletes the session row and records a purge: the key and the bounds of what existed then (messages
 * below `below_seq`, with their runs and the replies their idempotency records keep; memory items, summaries
 * and events up to the MemoryID `through_id`); `step` removes them a batch at a time. Everything made later
 * under the same key is above both bounds: a new session's seqs go on after the highest stored one
 * (sessions-store.ts) and MemoryIDs only grow. The key's full-text scope (its name in `memory_scopes`) goes
 * with the last batch. Until a purge is done, its memory items are hidden from every read (`notPurged`); its
 * messages are not read by anyone (history reads by sessionId). A purge row is on disk in the delete's
 * commit, so a restart goes on where it stopped.
 */
import type { Db } from './db.js';
import type { ItemsStore } from './items-store.js';

/** A purge still to do. */
interface PurgeRow {
  session_key: string;
  below_seq: number;
  through_id: string;
  requested_at: number;
}

/** SQL condition: the memory_items row under `alias` is not waiting to be purged. */
export function notPurged(alias: string): string {
  return `NOT EXISTS (SELECT 1 FROM purges p WHERE p.session_key = ${alias}.session_key AND ${alias}.id <= p.through_id)`;
}

export class PurgeStore {
  readonly #request;
  readonly #documents;
  readonly #snapshot;
  readonly #any;
  readonly #oldest;
  readonly #messages;
  readonly #replies;
  readonly #runs;
  readonly #byId;
  readonly #done;
  readonly #items;

  constructor(db: Db, items: ItemsStore) {
    this.#items = items;
    this.#request = db.prepare<[{ key: string; now: number }]>(
      `INSERT INTO purges (session_key, below_seq, through_id, requested_at)
       SELECT @key,
              coalesce((SELECT max(seq) + 1 FROM messages WHERE session_key = @key), 1),
              max(coalesce((SELECT max(id) FROM memory_items WHERE session_key = @key), ''),
                  coalesce((SELECT max(id) FROM events WHERE session_key = @key), '')),
              @now
       WHERE true
       ON CONFLICT (session_key) DO UPDATE SET
         below_seq = max(below_seq, excluded.below_seq), through_id = max(through_id, excluded.through_id), requested_at = excluded.requested_at`,
    );
    // Document chunks are keyed by (session, path, chunk): a new session's research must be able to store the
    // same chunk at once, so they go in the delete itself (a few per session, not one per message).
    this.#documents = db.prepare("DELETE FROM memory_items WHERE session_key = ? AND kind = 'document'");
    this.#snapshot = db.prepare('DELETE FROM ram_snapshots WHERE session_key = ?');
    this.#any = db.prepare<[], { one: number }>('SELECT 1 AS one FROM purges LIMIT 1');
    this.#oldest = db.prepare<[], PurgeRow>('SELECT * FROM purges ORDER BY requested_at LIMIT 1');
    // A step's messages, oldest first: the highest seq stays until the last batch, so a session made meanwhile
    // starts above it.
    const batch = 'SELECT rowid, run_id, session_key, session_id FROM messages WHERE session_key = ? AND seq < ? ORDER BY seq LIMIT ?';
    this.#messages = db.prepare<[string, number, number]>(`DELETE FROM messages WHERE rowid IN (SELECT rowid FROM (${batch}))`);
    // The runs of those messages: every run stores its user message in the transaction that creates it, with the
    // same session. A run id reused later (an expired idempotency key) in a session made after the delete has
    // another sessionId, so its row stays.
    const batchRuns = `SELECT r.rowid, r.run_id FROM (${batch}) m
                       JOIN runs r ON r.run_id = m.run_id AND r.session_key = m.session_key AND r.session_id = m.session_id`;
    // Their idempotency records stay until they expire, so that a repeat of the request still runs nothing; what
    // an `agent` record keeps for repeats, the reply's text, goes now (runId = idempotency key).
    this.#replies = db.prepare<[string, number, number]>(
      `UPDATE idempotency SET response = json_set(response, '$.result.payloads', json('[]'))
       WHERE key IN (SELECT run_id FROM (${batchRuns})) AND json_type(response, '$.result.payloads') = 'array'`,
    );
    this.#runs = db.prepare<[string, number, number]>(`DELETE FROM runs WHERE rowid IN (SELECT rowid FROM (${batchRuns}))`);
    this.#byId = [
      db.prepare<[string, string, number]>('DELETE FROM memory_items WHERE n IN (SELECT n FROM memory_items WHERE session_key = ? AND id <= ? ORDER BY id LIMIT ?)'),
      db.prepare<[string, string, number]>('DELETE FROM summaries WHERE id IN (SELECT id FROM summaries WHERE session_key = ? AND id <= ? LIMIT ?)'),
      db.prepare<[string, string, number]>('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE session_key = ? AND id <= ? ORDER BY id LIMIT ?)'),
    ];
    this.#done = db.prepare<[string, number, string]>('DELETE FROM purges WHERE session_key = ? AND below_seq = ? AND through_id = ?');
  }

  /**
   * Records the purge of everything the session key has stored now; call in the transaction that deletes the
   * session row. Its document chunks and RAM snapshot go at once.
   */
  request(sessionKey: string, now: number): void {
    this.#request.run({ key: sessionKey, now });
    this.#documents.run(sessionKey);
    this.#snapshot.run(sessionKey);
  }

  /** Some purge is not done yet. */
  pending(): boolean {
    return this.#any.get() !== undefined;
  }

  /**
   * Removes at most `max` rows of each table for the oldest purge, and the purge itself once nothing of it is
   * left; call in a transaction. Returns how many rows went and whether any purge is still pending.
   */
  step(max: number): { removed: number; more: boolean } {
    const purge = this.#oldest.get();
    if (purge === undefined) return { removed: 0, more: false };
    this.#replies.run(purge.session_key, purge.below_seq, max);
    const runs = this.#runs.run(purge.session_key, purge.below_seq, max).changes;
    const counts = [
      this.#messages.run(purge.session_key, purge.below_seq, max).changes,
      ...this.#byId.map((statement) => statement.run(purge.session_key, purge.through_id, max).changes),
    ];
    // A later delete of the same key may have raised the bounds: then the row stays for the rest. Once it is
    // done, the key's full-text scope goes too, unless a session made since under the key has items.
    if (counts.every((count) => count < max) && this.#done.run(purge.session_key, purge.below_seq, purge.through_id).changes > 0) {
      this.#items.dropScopeIfUnused(purge.session_key);
    }
    return { removed: counts.reduce((sum, count) => sum + count, runs), more: this.pending() };
  }
}
