/**
 * Forgetting, for memory.forget and retention: an item's text and index entries are purged and its row
 * becomes a `forgotten` tombstone (the id stays resolvable). The transcript row of a forgotten turn keeps its
 * place but loses its content. A summary may quote what it summarized, so forgetting an item also forgets the
 * summaries built from it; the other sources of such a summary keep their own text and go back to `evicted`.
 */
import type { Db } from './db.js';
import type { MemoryId } from './ids.js';
import type { ItemsStore } from './items-store.js';

/** Most items one forget selects by session or time; call again for the rest. */
export const FORGET_MAX_PER_CALL = 10_000;

export interface ForgetSelection {
  sessionKey?: string | undefined;
  /** Items created before this time, epoch ms. */
  before?: number | undefined;
}

export class ForgetStore {
  readonly #db: Db;
  readonly #items: ItemsStore;
  readonly #purgeItem;
  readonly #purgeMessage;
  readonly #clearPreview;
  readonly #revertSources;
  readonly #expired;

  constructor(db: Db, items: ItemsStore) {
    this.#db = db;
    this.#items = items;
    this.#purgeItem = db.prepare(
      "UPDATE memory_items SET text = '', tokens = 0, state = 'forgotten', doc_hash = NULL, updated_at = ? WHERE id = ?",
    );
    this.#purgeMessage = db.prepare("UPDATE messages SET body = json_set(body, '$.content', json('[]')) WHERE id = ?");
    this.#clearPreview = db.prepare('UPDATE sessions SET last_preview = NULL WHERE key = ? AND last_preview = substr(?, 1, length(last_preview))');
    this.#revertSources = db.prepare(
      "UPDATE memory_items SET state = 'evicted', summarized_by = NULL, updated_at = ? WHERE summarized_by = ? AND state = 'summarized'",
    );
    // updated_at of an evicted or summarized item is when it left the context (memory_items_expirable).
    this.#expired = db.prepare<[string, number, number], { id: string }>(
      "SELECT id FROM memory_items WHERE kind = ? AND state IN ('evicted', 'summarized') AND updated_at < ? ORDER BY updated_at LIMIT ?",
    );
  }

  /** Ids not yet forgotten that match the selection, oldest first, at most `max`. */
  select(selection: ForgetSelection, max: number = FORGET_MAX_PER_CALL): MemoryId[] {
    const clauses = ["state != 'forgotten'"];
    const args: (string | number)[] = [];
    if (selection.sessionKey !== undefined) (clauses.push('session_key = ?'), args.push(selection.sessionKey));
    if (selection.before !== undefined) (clauses.push('created_at < ?'), args.push(selection.before));
    const sql = `SELECT id FROM memory_items WHERE ${clauses.join(' AND ')} ORDER BY created_at LIMIT ?`;
    return this.#db.prepare<(string | number)[], { id: string }>(sql).all(...args, max).map((row) => row.id);
  }

  /** Turns or summaries that left every active context before `before`, longest gone first: what retention may purge. */
  expired(kind: 'turn' | 'summary', before: number, max: number): MemoryId[] {
    return this.#expired.all(kind, before, max).map((row) => row.id);
  }

  /**
   * Purges the items and, with `cascade` (memory.forget: a summary may quote what it summarized), the
   * summaries built from them; retention does not cascade (summaries are what it keeps). Returns every item
   * newly forgotten.
   */
  purge(ids: readonly MemoryId[], now: number, options: { cascade: boolean } = { cascade: true }): { id: MemoryId; sessionKey: string }[] {
    const forgotten: { id: MemoryId; sessionKey: string }[] = [];
    const seen = new Set<MemoryId>();
    const queue = [...ids];
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      if (seen.has(id)) continue;
      seen.add(id);
      const record = this.#items.get(id);
      if (record === undefined || record.state === 'forgotten') continue;
      this.#purgeItem.run(now, id);
      forgotten.push({ id, sessionKey: record.sessionKey });
      if (record.kind === 'turn') {
        this.#purgeMessage.run(id);
        this.#clearPreview.run(record.sessionKey, record.text);
      }
      if (options.cascade && record.summarizedBy !== undefined) queue.push(record.summarizedBy);
      if (record.kind === 'summary') this.#revertSources.run(now, id);
    }
    return forgotten;
  }
}
