/**
 * Document chunks for the agent runtime (a research worker indexing files or pages). A chunk is identified
 * by (sessionKey, path, chunk index) and keeps one MemoryID forever: upserting the same text (same content
 * hash) changes nothing; new text updates the item in place (UPDATE, id stays) — also in an active context
 * that holds it. A new chunk is stored `evicted` (in the long-term store, in no context) until `load` brings
 * it into a session's active context. Chunks are found through the same full-text index as everything else.
 * Use `sessionKey: "global"` for chunks that belong to no one session.
 */
import { createHash } from 'node:crypto';
import type { MemoryItem } from '../protocol/methods/memory.js';
import { recordToItem } from './context-loader.js';
import type { MemoryId } from './ids.js';
import { newMemoryId } from './ids.js';
import { wireItem, type RecallRanking } from './memory-api.js';
import type { MemoryService } from './memory-service.js';
import type { OpResult } from './memory-types.js';

export interface DocumentChunk {
  sessionKey: string;
  /** Where the chunk comes from: a file path, a URL, any stable name. */
  path: string;
  /** Position of the chunk in its document, from 0. */
  chunk: number;
  text: string;
  /** Content hash; sha256 of the text (hex) when not given. */
  hash?: string;
}

export interface UpsertResult {
  id: MemoryId;
  status: 'created' | 'updated' | 'unchanged';
}

/** Document chunks in the long-term store (all writes are immediate, never on a turn's path). */
export class Documents {
  readonly #memory: MemoryService;
  readonly #ranking: RecallRanking;
  readonly #now: () => number;

  constructor(memory: MemoryService, ranking: RecallRanking, now: () => number) {
    this.#memory = memory;
    this.#ranking = ranking;
    this.#now = now;
  }

  /** Stores a chunk, or updates its text in place; returns its MemoryID (stable for path + chunk). */
  upsert(chunk: DocumentChunk): UpsertResult {
    const { store } = this.#memory;
    const hash = chunk.hash ?? createHash('sha256').update(chunk.text).digest('hex');
    const now = this.#now();
    const result = store.transaction((): UpsertResult => {
      const existing = store.memory.items.document(chunk.sessionKey, chunk.path, chunk.chunk);
      if (existing !== undefined && existing.document?.hash === hash && existing.state !== 'forgotten') return { id: existing.id, status: 'unchanged' };
      if (existing !== undefined) {
        store.memory.items.updateDocument(existing.id, chunk.text, hash, now);
        return { id: existing.id, status: 'updated' };
      }
      const id = newMemoryId(now);
      store.memory.items.insert({
        id,
        sessionKey: chunk.sessionKey,
        sessionId: '',
        kind: 'document',
        role: undefined,
        text: chunk.text,
        // Counted when a LOAD brings the chunk into a context (memory/context-loader.ts): indexing a workspace
        // then needs no tokenizer (~25 MB), which a gateway that has served no turn has not loaded.
        tokens: undefined,
        state: 'evicted',
        createdAt: now,
        updatedAt: now,
        summarizedBy: undefined,
        summaryOf: undefined,
        document: { path: chunk.path, chunk: chunk.chunk, hash },
      });
      return { id, status: 'created' };
    });
    if (result.status === 'updated') {
      const held = this.#memory.contexts().find((context) => context.has(result.id));
      if (held !== undefined) void held.update(result.id, chunk.text, 'document-updated');
      else this.#memory.emit({ sessionKey: chunk.sessionKey, op: 'update', ids: [result.id], reason: 'document-updated', ts: now });
    }
    return result;
  }

  /** Paths of the session's documents (those with a chunk not forgotten). */
  paths(sessionKey: string): string[] {
    return this.#memory.store.memory.items.documentPaths(sessionKey);
  }

  /**
   * Forgets a document's chunks from position `fromChunk` on: the file is gone (0) or now has fewer chunks.
   * Like memory.forget, each becomes a `forgotten` tombstone (its MemoryID stays resolvable) and leaves the
   * contexts that held it; unlike it, summaries that quote a chunk are kept (they hold conversation too, and
   * a file leaving the workspace is no request to erase anything). Returns the ids forgotten.
   */
  retire(sessionKey: string, path: string, fromChunk: number): MemoryId[] {
    const { store } = this.#memory;
    const now = this.#now();
    const forgotten = store.transaction(() => store.memory.forget.purge(store.memory.items.documentTail(sessionKey, path, fromChunk), now, { cascade: false }));
    const ids = forgotten.map((entry) => entry.id);
    if (ids.length === 0) return ids;
    const gone = new Set(ids);
    for (const context of this.#memory.contexts()) {
      const present = context.items.filter((item) => gone.has(item.id)).map((item) => item.id);
      if (present.length > 0) void context.forget(present, 'document-removed');
    }
    this.#memory.emit({ sessionKey, op: 'forget', ids, reason: 'document-removed', ts: now });
    return ids;
  }

  /** Chunks matching free text, best first (same ranking as memory.query). */
  search(text: string, options: { sessionKey?: string; limit: number }): MemoryItem[] {
    this.#memory.flush();
    const hits = this.#memory.store.memory.recall.search(text, { sessionKey: options.sessionKey, kinds: ['document'] }, { ...this.#ranking, now: this.#now() }, options.limit);
    return hits.map((hit) => wireItem(hit.record, { score: hit.score }));
  }

  /** LOADs stored items (chunks, or any evicted item) into a session's active context. */
  load(sessionKey: string, sessionId: string, ids: readonly MemoryId[]): Promise<OpResult> {
    this.#memory.flush();
    const now = this.#now();
    const records = this.#memory.store.memory.items.many(ids).filter((record) => record.state !== 'forgotten' && record.text !== '');
    return this.#memory.context(sessionKey, sessionId).load(records.map((record) => recordToItem(record, now)), 'loaded');
  }
}
