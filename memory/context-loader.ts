/**
 * Builds a session's active context when it is first used after a start (or after a reset): from its RAM
 * snapshot — the snapshot's items that are still active, plus active items newer than the snapshot (accepted
 * after the last batch write) — or, for a session with no memory rows (memory off, or data from before
 * memory existed), from the newest transcript messages.
 */
import type { MemoryId } from './ids.js';
import type { ContextLimits } from './limits.js';
import type { ContextItem, MemoryRecord } from './memory-types.js';
import type { Store } from './store.js';
import { oversizeSummary } from './oversize-summary.js';
import { countTokens } from './tokens.js';
import { messageText } from './transcript-store.js';

export function recordToItem(record: MemoryRecord, now: number): ContextItem {
  return {
    id: record.id,
    kind: record.kind,
    role: record.role,
    text: record.text,
    tokens: record.tokens > 0 || record.text === '' ? record.tokens : countTokens(record.text),
    createdAt: record.createdAt,
    anchor: record.anchor,
    touchedAt: now,
    ...(record.summaryOf === undefined ? {} : { summaryOf: record.summaryOf }),
    ...(record.document === undefined ? {} : { document: record.document }),
  };
}

export interface Restored {
  items: ContextItem[];
  from: 'snapshot' | 'items' | 'transcript' | 'empty';
  highWater: MemoryId | undefined;
}

export function restoreContext(store: Store, sessionKey: string, sessionId: string, indexMemory: boolean, limits: ContextLimits, now: number): Restored {
  if (indexMemory) {
    const snapshot = store.memory.snapshots.get(sessionKey);
    if (snapshot !== undefined && snapshot.sessionId === sessionId) {
      const active = store.memory.items.activeSince(sessionKey, sessionId, snapshot.itemIds, snapshot.highWater);
      const items = active.map((record) => recordToItem(record, now));
      return { items, from: 'snapshot', highWater: maxId(items, snapshot.highWater) };
    }
    // No snapshot of this generation (never written, or the session was reset since): every active item of
    // it, found by walking the session key's items, once per generation and start.
    const active = store.memory.items.active(sessionKey, sessionId);
    if (active.length > 0) {
      const items = active.map((record) => recordToItem(record, now));
      return { items, from: 'items', highWater: maxId(items, undefined) };
    }
    if (store.memory.items.existingScope(sessionKey) !== undefined) return { items: [], from: 'empty', highWater: undefined };
  }
  const page = store.transcript.page(sessionKey, sessionId, limits.maxItems, 0).messages;
  const items: ContextItem[] = [];
  for (const stored of page) {
    const role = stored.message.role;
    const full = messageText(stored.message);
    if ((role !== 'user' && role !== 'assistant') || full === '') continue;
    // Without a long-term store there is nowhere to keep a summary item: an oversized message is clipped in RAM.
    const text = Buffer.byteLength(full) > limits.maxMessageBytes ? oversizeSummary(full, limits.maxMessageBytes) : full;
    items.push({ id: stored.id, kind: 'turn', role, text, tokens: countTokens(text), createdAt: stored.createdAt, anchor: stored.id, touchedAt: now });
  }
  return { items, from: items.length === 0 ? 'empty' : 'transcript', highWater: maxId(items, undefined) };
}

function maxId(items: readonly ContextItem[], floor: MemoryId | undefined): MemoryId | undefined {
  let max = floor;
  for (const item of items) if (max === undefined || item.id > max) max = item.id;
  return max;
}
