/**
 * The `memory_items`, `memory_scopes` and `summaries` tables: the long-term store of every MemoryItem.
 * Writes happen inside the caller's transaction (the turn's accept/finish transaction for turns, the batch
 * writer's for everything the RAM model changed). The full-text index follows through triggers.
 */
import type { Db } from './db.js';
import { IdLead } from './id-lead.js';
import type { MemoryId } from './ids.js';
import { notPurged } from './purge-store.js';
import type { ContextItem, DocumentRef, ItemKind, ItemRole, ItemState, MemoryRecord, SummaryDraft } from './memory-types.js';
import { countTokens } from './tokens.js';

/**
 * Session keys whose full-text scope is cached in RAM (least recently used first out): without a bound the cache
 * held every session key seen since start (~100 bytes each). A miss costs one indexed read.
 */
export const SCOPE_CACHE_MAX = 10_000;

/** Texts longer than this are stored with no token count (they never enter a context as themselves), in bytes. */
export const TOKEN_COUNT_MAX_BYTES = 262_144;

export interface ItemRow {
  id: string;
  session_key: string;
  session_id: string;
  kind: string;
  role: string | null;
  text: string;
  tokens: number | null;
  state: string;
  created_at: number;
  updated_at: number;
  summarized_by: string | null;
  summary_of: string | null;
  doc_path: string | null;
  doc_chunk: number | null;
  doc_hash: string | null;
  anchor: string | null;
}

export function toRecord(row: ItemRow): MemoryRecord {
  return {
    id: row.id,
    sessionKey: row.session_key,
    sessionId: row.session_id,
    kind: row.kind as ItemKind,
    role: (row.role ?? undefined) as ItemRole | undefined,
    text: row.text,
    tokens: row.tokens ?? 0,
    state: row.state as ItemState,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    summarizedBy: row.summarized_by ?? undefined,
    summaryOf: row.summary_of === null ? undefined : (JSON.parse(row.summary_of) as MemoryId[]),
    document: row.doc_path === null ? undefined : { path: row.doc_path, chunk: row.doc_chunk ?? 0, hash: row.doc_hash ?? '' },
    anchor: row.anchor ?? row.id,
  };
}

/** Token count of a stored text, or undefined past the counting cap. */
export function storedTokens(text: string): number | undefined {
  return Buffer.byteLength(text) > TOKEN_COUNT_MAX_BYTES ? undefined : countTokens(text);
}

const COLUMNS = 'id, session_key, session_id, kind, role, text, tokens, state, created_at, updated_at, summarized_by, summary_of, doc_path, doc_chunk, doc_hash, anchor';

export class ItemsStore {
  readonly #scopes = new Map<string, number>();
  readonly #scopeGet;
  readonly #scopeInsert;
  readonly #scopeDrop;
  readonly #insert;
  readonly #get;
  readonly #setState;
  readonly #setText;
  readonly #insertSummary;
  readonly #activeOf;
  readonly #activeSince;
  readonly #document;
  readonly #documentTail;
  readonly #documentPaths;
  readonly #updateDocument;
  readonly #idLead: IdLead;

  constructor(db: Db) {
    this.#idLead = new IdLead(db);
    this.#scopeGet = db.prepare<[string], { scope: number }>('SELECT scope FROM memory_scopes WHERE session_key = ?');
    this.#scopeInsert = db.prepare('INSERT INTO memory_scopes (session_key) VALUES (?)');
    this.#scopeDrop = db.prepare<[string, string]>(
      'DELETE FROM memory_scopes WHERE session_key = ? AND NOT EXISTS (SELECT 1 FROM memory_items WHERE session_key = ?)',
    );
    this.#insert = db.prepare(
      `INSERT INTO memory_items (${COLUMNS}, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#get = db.prepare<[string], ItemRow>(`SELECT ${COLUMNS} FROM memory_items m WHERE id = ? AND ${notPurged('m')}`);
    this.#setState = db.prepare(
      "UPDATE memory_items SET state = ?, summarized_by = ?, updated_at = ? WHERE id = ? AND state != 'forgotten'",
    );
    this.#setText = db.prepare("UPDATE memory_items SET text = ?, tokens = ?, updated_at = ? WHERE id = ? AND state != 'forgotten'");
    this.#insertSummary = db.prepare('INSERT OR IGNORE INTO summaries (id, session_key, source_ids, method, model, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#activeOf = db.prepare<[string, string], ItemRow>(
      `SELECT ${COLUMNS} FROM memory_items WHERE session_key = ? AND session_id = ? AND state = 'active' ORDER BY id`,
    );
    // Two index searches (the ids through the MemoryID index, the newer ones as a range of memory_items_session),
    // so the cost follows the context's size, not the session's history; UNION drops an item both find.
    this.#activeSince = db.prepare<[string, string, string, string, string, string], ItemRow>(
      `SELECT ${COLUMNS} FROM memory_items WHERE id IN (SELECT value FROM json_each(?)) AND session_key = ? AND session_id = ? AND state = 'active'
       UNION
       SELECT ${COLUMNS} FROM memory_items WHERE session_key = ? AND id > ? AND session_id = ? AND state = 'active'
       ORDER BY id`,
    );
    this.#document = db.prepare<[string, string, number], ItemRow>(
      `SELECT ${COLUMNS} FROM memory_items WHERE session_key = ? AND doc_path = ? AND doc_chunk = ? AND kind = 'document'`,
    );
    this.#documentTail = db.prepare<[string, string, number], { id: MemoryId }>(
      "SELECT id FROM memory_items WHERE session_key = ? AND doc_path = ? AND doc_chunk >= ? AND kind = 'document' AND state != 'forgotten'",
    );
    this.#documentPaths = db.prepare<[string], { path: string }>(
      "SELECT DISTINCT doc_path AS path FROM memory_items WHERE session_key = ? AND kind = 'document' AND state != 'forgotten' ORDER BY doc_path",
    );
    this.#updateDocument = db.prepare(
      "UPDATE memory_items SET text = ?, tokens = NULL, doc_hash = ?, updated_at = ?, state = CASE WHEN state = 'forgotten' THEN 'evicted' ELSE state END WHERE id = ?",
    );
  }

  /** The small integer the full-text index uses for a session key (created on first use). */
  scope(sessionKey: string): number {
    const cached = this.#scopes.get(sessionKey);
    if (cached !== undefined) {
      // Map order is recency order: the least recently used key goes first when the cache is full.
      this.#scopes.delete(sessionKey);
      this.#scopes.set(sessionKey, cached);
      return cached;
    }
    const existing = this.#scopeGet.get(sessionKey)?.scope;
    // Cached when read back, not when made: the transaction that makes it may roll back. One that reads back a
    // scope an earlier statement of it made may too; rolledBack() drops the cache then.
    if (existing !== undefined) this.#cacheScope(sessionKey, existing);
    return existing ?? Number(this.#scopeInsert.run(sessionKey).lastInsertRowid);
  }

  #cacheScope(sessionKey: string, scope: number): void {
    if (this.#scopes.size >= SCOPE_CACHE_MAX) {
      const oldest = this.#scopes.keys().next();
      if (oldest.done !== true) this.#scopes.delete(oldest.value);
    }
    this.#scopes.set(sessionKey, scope);
  }

  /**
   * Call when a transaction that may have written through this store rolled back: a scope read back inside it
   * may have been made by an earlier statement of the same transaction, so the cache is dropped; so is a lead it raised.
   */
  rolledBack(): void {
    this.#scopes.clear();
    this.#idLead.rolledBack();
  }

  /** The outermost transaction committed. */
  committed(): void {
    this.#idLead.committed();
  }

  /** The largest lead of an item's MemoryID over its createdAt (id-lead.ts). */
  maxIdLead(): number {
    return this.#idLead.stored();
  }

  /**
   * Removes the session key's scope (its name, in the index's table of tags) when none of its items is left:
   * a purged session's. Its number may then go to another key: the full-text index holds no entry with its
   * tag any more (deleting an item deletes its entry; one not yet indexed never will be).
   */
  dropScopeIfUnused(sessionKey: string): void {
    this.#scopes.delete(sessionKey);
    this.#scopeDrop.run(sessionKey, sessionKey);
  }

  /** Scope of a session key if it has one; never creates. */
  existingScope(sessionKey: string): number | undefined {
    return this.#scopes.get(sessionKey) ?? this.#scopeGet.get(sessionKey)?.scope;
  }

  insert(record: Omit<MemoryRecord, 'tokens' | 'anchor'> & { tokens: number | undefined; anchor?: MemoryId }): void {
    const doc = record.document;
    this.#insert.run(
      record.id,
      record.sessionKey,
      record.sessionId,
      record.kind,
      record.role ?? null,
      record.text,
      record.tokens ?? null,
      record.state,
      record.createdAt,
      record.updatedAt,
      record.summarizedBy ?? null,
      record.summaryOf === undefined ? null : JSON.stringify(record.summaryOf),
      doc?.path ?? null,
      doc?.chunk ?? null,
      doc?.hash ?? null,
      record.anchor === undefined || record.anchor === record.id ? null : record.anchor,
      this.scope(record.sessionKey),
    );
    this.#idLead.record(record.id, record.createdAt);
  }

  /** Stores a summary item (active) and how it was made; its sources become `summarized` tombstones. */
  insertSummary(sessionKey: string, sessionId: string, summary: ContextItem, draft: SummaryDraft, now: number): void {
    const sources = summary.summaryOf ?? [];
    this.insert({
      id: summary.id,
      sessionKey,
      sessionId,
      kind: 'summary',
      role: summary.role,
      text: summary.text,
      tokens: summary.tokens,
      state: 'active',
      createdAt: summary.createdAt,
      updatedAt: now,
      summarizedBy: undefined,
      summaryOf: [...sources],
      document: undefined,
      anchor: summary.anchor,
    });
    this.#insertSummary.run(summary.id, sessionKey, JSON.stringify(sources), draft.method, draft.model ?? null, summary.createdAt);
    for (const id of sources) this.#setState.run('summarized', summary.id, now, id);
  }

  /** The item, unless its session was deleted (it waits to be purged). */
  get(id: MemoryId): MemoryRecord | undefined {
    const row = this.#get.get(id);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Records for ids, in the order asked; unknown ids are left out. */
  many(ids: readonly MemoryId[]): MemoryRecord[] {
    return ids.map((id) => this.get(id)).filter((record): record is MemoryRecord => record !== undefined);
  }

  /** Sets the state of items (a forgotten item stays forgotten); `summarizedBy` only with `summarized`. */
  setState(ids: readonly MemoryId[], state: Exclude<ItemState, 'forgotten'>, now: number, summarizedBy?: MemoryId): void {
    for (const id of ids) this.#setState.run(state, state === 'summarized' ? (summarizedBy ?? null) : null, now, id);
  }

  setText(id: MemoryId, text: string, now: number): void {
    this.#setText.run(text, storedTokens(text) ?? null, now, id);
  }

  /** Active items of a session generation, in id order. Reads every item the session key ever had. */
  active(sessionKey: string, sessionId: string): MemoryRecord[] {
    return this.#activeOf.all(sessionKey, sessionId).map(toRecord);
  }

  /**
   * The active items of a session generation that are among `ids` or newer than `after`, in id order: what a
   * context restored from its snapshot needs, read without walking the session's history as `active` does.
   */
  activeSince(sessionKey: string, sessionId: string, ids: readonly MemoryId[], after: MemoryId): MemoryRecord[] {
    return this.#activeSince.all(JSON.stringify(ids), sessionKey, sessionId, sessionKey, after, sessionId).map(toRecord);
  }

  document(sessionKey: string, path: string, chunk: number): MemoryRecord | undefined {
    const row = this.#document.get(sessionKey, path, chunk);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Paths of the documents of a session that still have a chunk not forgotten. */
  documentPaths(sessionKey: string): string[] {
    return this.#documentPaths.all(sessionKey).map((row) => row.path);
  }

  /** Ids of a document's chunks at position `fromChunk` and after, forgotten ones left out. */
  documentTail(sessionKey: string, path: string, fromChunk: number): MemoryId[] {
    return this.#documentTail.all(sessionKey, path, fromChunk).map((row) => row.id);
  }

  /** New text for a document chunk (same id); a forgotten chunk comes back as evicted; tokens counted on LOAD. */
  updateDocument(id: MemoryId, text: string, hash: string, now: number): void {
    this.#updateDocument.run(text, hash, now, id);
  }
}

export type { DocumentRef };
