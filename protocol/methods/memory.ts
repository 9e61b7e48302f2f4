/** memory.v1 extension methods (protocol-extensions.md): memory.query, memory.recall, memory.forget. */
import { Type, type Static } from '@sinclair/typebox';
import { ExtensionCap } from '../capabilities.js';
import { EpochMs, SessionKey, defineMethod } from '../schema.js';
import { Scope } from '../scopes.js';

/** A MemoryID: a ULID (26 characters, Crockford base32), unique, stable forever, sortable by creation time. */
export const MemoryId = Type.String({ minLength: 1, maxLength: 64 });

export const MemoryKind = Type.Union([Type.Literal('turn'), Type.Literal('summary'), Type.Literal('tombstone'), Type.Literal('document')]);
export const MemoryState = Type.Union([Type.Literal('active'), Type.Literal('evicted'), Type.Literal('summarized'), Type.Literal('forgotten')]);

export const MemoryItem = Type.Object({
  id: MemoryId,
  sessionKey: Type.String(),
  kind: MemoryKind,
  role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('assistant')])),
  text: Type.String(),
  createdAt: EpochMs,
  state: MemoryState,
  summaryOf: Type.Optional(Type.Array(MemoryId)),
  summarizedBy: Type.Optional(MemoryId),
  score: Type.Optional(Type.Number()),
});
export type MemoryItem = Static<typeof MemoryItem>;

/** Items a memory.query returns when the request has no `limit`. */
export const MEMORY_QUERY_DEFAULT_LIMIT = 20;
/** Most items one memory.query returns. */
export const MEMORY_QUERY_MAX_LIMIT = 200;
/** Summaries a memory.recall returns when the request has no `limit`. */
export const MEMORY_RECALL_DEFAULT_LIMIT = 5;
/** Most summaries (and, separately, items) one memory.recall returns. */
export const MEMORY_RECALL_MAX_LIMIT = 50;
/** Most ids one memory.query or memory.forget takes. */
export const MEMORY_MAX_IDS = 1_000;

const Ids = Type.Array(MemoryId, { maxItems: MEMORY_MAX_IDS });

export const memoryMethods = {
  'memory.query': defineMethod({
    scope: Scope.READ,
    extension: ExtensionCap.MEMORY_V1,
    summary: 'Stored memory items by text (ranked), ids, kinds, time range and session; newest first; cursor pagination.',
    params: Type.Object({
      sessionKey: Type.Optional(SessionKey),
      text: Type.Optional(Type.String({ maxLength: 4_096 })),
      ids: Type.Optional(Ids),
      kinds: Type.Optional(Type.Array(MemoryKind, { maxItems: 4 })),
      since: Type.Optional(EpochMs),
      until: Type.Optional(EpochMs),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MEMORY_QUERY_MAX_LIMIT })),
      cursor: Type.Optional(Type.String({ maxLength: 512 })),
    }),
    result: Type.Object({ items: Type.Array(MemoryItem), nextCursor: Type.Optional(Type.String()) }),
  }),
  'memory.recall': defineMethod({
    scope: Scope.READ,
    extension: ExtensionCap.MEMORY_V1,
    summary: 'Recall by topic or by MemoryID: summaries first; the original items behind them only with detail: true.',
    params: Type.Object({
      sessionKey: Type.Optional(SessionKey),
      topic: Type.Optional(Type.String({ minLength: 1, maxLength: 4_096 })),
      id: Type.Optional(MemoryId),
      detail: Type.Optional(Type.Boolean()),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MEMORY_RECALL_MAX_LIMIT })),
    }),
    result: Type.Object({ summaries: Type.Array(MemoryItem), items: Type.Optional(Type.Array(MemoryItem)) }),
  }),
  'memory.forget': defineMethod({
    scope: Scope.WRITE,
    extension: ExtensionCap.MEMORY_V1,
    summary: 'Purge the text and index entries of items (by ids, session, time); forgotten tombstones keep the ids.',
    params: Type.Object({
      ids: Type.Optional(Ids),
      sessionKey: Type.Optional(SessionKey),
      before: Type.Optional(EpochMs),
    }),
    result: Type.Object({ forgotten: Type.Array(MemoryId) }),
  }),
} as const;
