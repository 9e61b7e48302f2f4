/**
 * What the research worker needs from the long-term store: document items (`kind: "document"`) upserted by
 * path and chunk, each with a MemoryID that never changes, and a full-text search over them. memory/'s
 * document store (`Documents.upsert` / `Documents.search`) has this shape and serves it with memoryV1 on
 * (server/agent-setup.ts); with memoryV1 off, the SQLite index in sqlite-document-index.ts stands in for it.
 */
import type { DocumentChunk } from '../../memory/documents.js';
import type { MemoryId } from '../../memory/ids.js';

/** A chunk as memory/ stores it (memory/documents.ts): one type on both sides of the binding. */
export type { DocumentChunk } from '../../memory/documents.js';

export interface DocumentUpsert {
  id: MemoryId;
  status: 'created' | 'updated' | 'unchanged';
}

/** A search hit: a MemoryItem has these fields (`path` only when the index knows it). */
export interface DocumentHit {
  id: MemoryId;
  text: string;
  score?: number;
  path?: string;
}

export interface DocumentIndex {
  /** Stores a chunk or updates its text in place; the MemoryID is stable for (sessionKey, path, chunk). */
  upsert(chunk: DocumentChunk): DocumentUpsert;
  /** Paths of the documents stored for a session. */
  paths(sessionKey: string): string[];
  /** Removes a document's chunks from position `fromChunk` on (0: the file is gone); returns how many. */
  retire(sessionKey: string, path: string, fromChunk: number): number;
  /** Chunks matching free text, best first. */
  search(text: string, options: { sessionKey?: string; limit: number }): DocumentHit[];
}

/** Session key of workspace documents. */
export const WORKSPACE_SESSION_KEY = 'global';
