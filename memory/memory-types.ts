/**
 * The memory model's records. A MemoryItem is a turn, a summary or a document chunk; its MemoryID never
 * changes. In RAM a session's active context holds ContextItems; in the long-term store every item has a
 * row (memory_items) whose `state` says where it is:
 * - `active`: in its session's active context;
 * - `evicted`: out of the active context, whole, in the long-term store (its row is the tombstone that keeps
 *   the id resolvable);
 * - `summarized`: replaced by a summary (`summarizedBy`); shown as a `tombstone` unless asked for detail;
 * - `forgotten`: text and index entries purged by memory.forget or retention; only the tombstone is left.
 */
import type { MemoryId } from './ids.js';

export type ItemKind = 'turn' | 'summary' | 'document';
export type ItemState = 'active' | 'evicted' | 'summarized' | 'forgotten';
export type ItemRole = 'user' | 'assistant';

/** Where a document chunk came from (document items only). */
export interface DocumentRef {
  readonly path: string;
  readonly chunk: number;
  /** Content hash of the chunk's text (sha256 hex unless the caller gave its own). */
  readonly hash: string;
}

/**
 * One item of an active context. Immutable: UPDATE replaces the object under the same id, so a run that holds
 * a lease keeps seeing exactly what it was given.
 */
export interface ContextItem {
  readonly id: MemoryId;
  readonly kind: ItemKind;
  /** The speaker of a turn; a summary of one oversized message keeps its role; otherwise undefined. */
  readonly role: ItemRole | undefined;
  readonly text: string;
  /** Token count of `text`, computed once when the item is made. */
  readonly tokens: number;
  readonly createdAt: number;
  /** Sort key of the item in its context: its own id, or for a summary the smallest anchor of its sources. */
  readonly anchor: MemoryId;
  /** When the item last entered or changed in the context (LRU order for limit evictions), epoch ms. */
  readonly touchedAt: number;
  readonly summaryOf?: readonly MemoryId[];
  readonly document?: DocumentRef;
}

/** An item's row in the long-term store. */
export interface MemoryRecord {
  id: MemoryId;
  sessionKey: string;
  sessionId: string;
  kind: ItemKind;
  role: ItemRole | undefined;
  text: string;
  tokens: number;
  state: ItemState;
  createdAt: number;
  updatedAt: number;
  summarizedBy: MemoryId | undefined;
  summaryOf: MemoryId[] | undefined;
  document: DocumentRef | undefined;
  /** Place in a context: the id, or for a summary the anchor of its first source. */
  anchor: MemoryId;
}

/** How a summary's text was made. */
export type SummaryMethod = 'extractive' | 'provider';

/** A summary ready to replace its sources. */
export interface SummaryDraft {
  text: string;
  method: SummaryMethod;
  /** Model id when the provider wrote it. */
  model?: string | undefined;
}

/** The ops of the RAM model, as memory.event reports them. */
export type MemoryOp = 'load' | 'update' | 'evict' | 'summarize' | 'recall' | 'forget' | 'error';

/** What one applied operation changed in a context (for persistence and memory.event). */
export interface ContextChange {
  op: 'append' | 'load' | 'update' | 'evict' | 'summarize' | 'forget';
  sessionKey: string;
  /** The items the op acted on (for summarize: the sources). */
  ids: MemoryId[];
  /** The new or changed items (append, load, update, summarize: the summary). */
  items: ContextItem[];
  summaryMethod?: SummaryDraft;
  reason?: string | undefined;
}

/** Result of one queued operation. */
export interface OpResult {
  applied: boolean;
  /** Ids the op changed (those not in the context are skipped). */
  ids: MemoryId[];
  /** Why nothing was applied (`stale`: a source changed while the summary was written). */
  reason?: string;
  /** The summary item a summarize op made. */
  summary?: ContextItem;
}
