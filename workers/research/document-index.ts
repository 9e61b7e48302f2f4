/**
 * What the research worker needs from the long-term store: document items (`kind: "document"`) upserted by
 * path and chunk, each with a MemoryID that never changes, and a full-text search over them. memory/'s
 * document store (`Documents.upsert` / `Documents.search`) has this shape; until it is bound here, the
 * interim SQLite index in sqlite-document-index.ts stands in for it.
 */
import type { MemoryId } from '../../memory/ids.js';

export interface DocumentChunk {
  /** Owner session; `global` for the workspace, which belongs to no one session. */
  sessionKey: string;
  /** Stable name of the document: a workspace-relative file path. */
  path: string;
  /** Position of the chunk in the document, from 0. */
  chunk: number;
  text: string;
  /** sha256 of the text, hex: the same hash means the same content (nothing to write). */
  hash?: string;
}

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
  /** Chunks matching free text, best first. */
  search(text: string, options: { sessionKey?: string; limit: number }): DocumentHit[];
}

/** Session key of workspace documents. */
export const WORKSPACE_SESSION_KEY = 'global';
