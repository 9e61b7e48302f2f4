/**
 * The full-text index's catch-up: rows of memory_items newer than `memory_index_state.last_n` are added to
 * `memory_fts` in batches (by the batch writer, once per interval, and before every memory read), so a
 * turn's own transaction never writes the index — an FTS5 write per commit would add a segment per turn.
 * After a crash the first batch indexes whatever was left.
 */
import type { Db } from './db.js';

/** Most rows indexed in one catch-up call. */
export const INDEX_BATCH_ROWS = 50_000;

export class IndexStore {
  readonly #lastIndexed;
  readonly #newest;
  readonly #pending;
  readonly #insert;
  readonly #advance;

  constructor(db: Db) {
    this.#lastIndexed = db.prepare<[], { last_n: number }>('SELECT last_n FROM memory_index_state WHERE id = 1');
    this.#newest = db.prepare<[], { n: number | null }>('SELECT max(n) AS n FROM memory_items');
    this.#pending = db.prepare<[number, number], { n: number; text: string; scope: number }>(
      'SELECT n, text, scope FROM memory_items WHERE n > ? ORDER BY n LIMIT ?',
    );
    this.#insert = db.prepare("INSERT INTO memory_fts (rowid, text, tags) VALUES (?, substr(?, 1, 65536), 's' || ?)");
    this.#advance = db.prepare('UPDATE memory_index_state SET last_n = ? WHERE id = 1');
  }

  /** True when some rows are not indexed yet. */
  behind(): boolean {
    return this.lag() > 0;
  }

  /** How many rows at most are not indexed yet (deleted rows count too). */
  lag(): number {
    return Math.max(0, (this.#newest.get()?.n ?? 0) - (this.#lastIndexed.get()?.last_n ?? 0));
  }

  /** Indexes up to `max` new rows; call inside a transaction. Returns how many. */
  catchUp(max: number = INDEX_BATCH_ROWS): number {
    const rows = this.#pending.all(this.#lastIndexed.get()?.last_n ?? 0, max);
    for (const row of rows) this.#insert.run(row.n, row.text, row.scope);
    const last = rows.at(-1);
    if (last !== undefined) this.#advance.run(last.n);
    return rows.length;
  }
}
