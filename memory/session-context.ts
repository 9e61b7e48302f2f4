/**
 * SessionContext: a session's active context in RAM, the one object through which every chat path reads and
 * writes it. Items are kept in context order (by anchor: MemoryIDs sort by time). Every change goes through
 * the session's MutationQueue:
 * - APPEND a turn (the queue applies it at once: a new id is never pinned);
 * - LOAD items back from the long-term store, UPDATE an item in place (same id, new object),
 *   EVICT items to the long-term store, SUMMARIZE several items into one, FORGET items.
 * A run takes a lease on the items of its prompt; leased items are pinned, and operations on them wait
 * until the lease is released. Limits (limits.ts) are enforced after every change: an oversized message is
 * replaced by an extractive summary that fits, and a context over its item or token limit evicts its least
 * recently touched unpinned items (never its newest one) — never an error.
 */
import type { MemoryId } from './ids.js';
import { newMemoryId } from './ids.js';
import type { ContextLimits } from './limits.js';
import type { ContextChange, ContextItem, OpResult, SummaryDraft } from './memory-types.js';
import { MutationQueue } from './mutation-queue.js';
import { oversizeSummary } from './oversize-summary.js';
import { countTokens } from './tokens.js';

/** The items of one run's prompt, pinned until `release()` (safe to call twice). */
export interface Lease {
  readonly items: readonly ContextItem[];
  release(): void;
}

export interface SessionContextDeps {
  limits: ContextLimits;
  now: () => number;
  /** Told about every applied change, synchronously, in order. */
  onChange: (change: ContextChange, context: SessionContext) => void;
  /** Record the queue's apply trace (tests). */
  trace?: boolean;
}

/** Reason given for evictions made to get back under a limit. */
export const LIMIT_EVICTION_REASON = 'over-limit';
/** Reason given when a message longer than maxMessageBytes is summarized to fit. */
export const OVERSIZE_REASON = 'message-too-large';

export class SessionContext {
  readonly sessionKey: string;
  readonly sessionId: string;
  readonly #items: ContextItem[] = [];
  /**
   * The items by id, in touch order: every change takes an item out and puts its new version in, so iteration
   * starts with the least recently touched (what limit evictions take first) without a scan or a sort.
   */
  readonly #byId = new Map<MemoryId, ContextItem>();
  /** Live leases: each holds the items of one run's prompt. */
  readonly #leases = new Set<readonly ContextItem[]>();
  /** Ids held by live leases, built when first asked after the leases changed. */
  #pinned: Set<MemoryId> | undefined;
  readonly #queue: MutationQueue;
  readonly #deps: SessionContextDeps;
  #tokens = 0;

  constructor(sessionKey: string, sessionId: string, deps: SessionContextDeps, initial: readonly ContextItem[] = []) {
    this.sessionKey = sessionKey;
    this.sessionId = sessionId;
    this.#deps = deps;
    this.#queue = new MutationQueue((id) => this.isPinned(id), { trace: deps.trace ?? false });
    for (const item of [...initial].sort(byTouch)) this.#insert(item);
  }

  /** The items in context order (a copy). */
  get items(): readonly ContextItem[] {
    return [...this.#items];
  }

  get size(): number {
    return this.#items.length;
  }

  /** Sum of the items' token counts. */
  get tokens(): number {
    return this.#tokens;
  }

  get limits(): ContextLimits {
    return this.#deps.limits;
  }

  /** Operations waiting for a pinned item. */
  get waiting(): number {
    return this.#queue.waiting;
  }

  get(id: MemoryId): ContextItem | undefined {
    return this.#byId.get(id);
  }

  has(id: MemoryId): boolean {
    return this.#byId.has(id);
  }

  /** No run holds an item and no operation waits: the context may leave RAM. */
  get quiet(): boolean {
    return this.#leases.size === 0 && this.#queue.waiting === 0;
  }

  isPinned(id: MemoryId): boolean {
    // A lease takes what the context holds: an id the context does not hold (a new turn) is never leased.
    if (this.#leases.size === 0 || !this.#byId.has(id)) return false;
    if (this.#pinned === undefined) {
      this.#pinned = new Set();
      for (const items of this.#leases) for (const item of items) this.#pinned.add(item.id);
    }
    return this.#pinned.has(id);
  }

  /** The queue's apply trace (only with `trace: true`). */
  trace(): ReturnType<MutationQueue['trace']> {
    return this.#queue.trace();
  }

  /** APPEND a new turn (or document chunk); applied at once. A known id is ignored. */
  append(item: ContextItem): void {
    void this.#queue.submit([item.id], () => {
      if (this.#byId.has(item.id)) return { applied: false, ids: [], reason: 'present' };
      const admitted = this.#admit(item, 'append');
      this.#enforceLimits(admitted.id);
      return { applied: true, ids: [item.id] };
    });
  }

  /** Applies the limits now (after a restore): over-limit items are evicted through the queue. */
  settle(): void {
    void this.#queue.submit([], () => {
      this.#enforceLimits(undefined);
      return { applied: true, ids: [] };
    });
  }

  /**
   * The prompt of a run whose user turn is `userItemId`: every item except user turns queued after it, with
   * the run's own user turn last. Pins them until released.
   */
  lease(userItemId: MemoryId | undefined): Lease {
    const own = userItemId === undefined ? undefined : this.#byId.get(userItemId);
    const items = userItemId === undefined ? [...this.#items] : this.#upTo(userItemId, own);
    if (own !== undefined) items.push(own);
    // Pinning is the lease itself: which ids are held is worked out only when an operation asks.
    this.#leases.add(items);
    this.#pinned = undefined;
    let released = false;
    return {
      items,
      release: () => {
        if (released) return;
        released = true;
        this.#leases.delete(items);
        this.#pinned = undefined;
        this.#queue.drain();
        this.#enforceLimits(undefined);
      },
    };
  }

  /**
   * The items a run of the user turn `userItemId` sees, without the turn's own item (`own`): all but the user
   * turns that came after it (queued behind it). A turn's anchor is its id, so those all sort after the turn's
   * anchor: what is before is copied as is, and only the items after it are looked at one by one.
   */
  #upTo(userItemId: MemoryId, own: ContextItem | undefined): ContextItem[] {
    const end = this.#firstAfter(userItemId);
    const items = this.#items.slice(0, end);
    const ownAt = own === undefined ? -1 : items.lastIndexOf(own);
    if (ownAt >= 0) items.splice(ownAt, 1);
    for (let i = end; i < this.#items.length; i++) {
      const item = this.#items[i] as ContextItem;
      if (item !== own && !(item.kind === 'turn' && item.role === 'user' && item.id > userItemId)) items.push(item);
    }
    return items;
  }

  /** LOAD items from the long-term store back into the context (present ones are skipped). */
  load(items: readonly ContextItem[], reason?: string): Promise<OpResult> {
    return this.#queue.submit(items.map((item) => item.id), () => {
      const now = this.#deps.now();
      const loaded = items.filter((item) => !this.#byId.has(item.id)).map((item) => ({ ...item, touchedAt: now }));
      // Touched together: among them, older context positions go first (touch order ties).
      for (const item of [...loaded].sort(byTouch)) this.#insert(item);
      if (loaded.length === 0) return { applied: false, ids: [], reason: 'present' };
      this.#emit({ op: 'load', ids: loaded.map((item) => item.id), items: loaded, reason });
      this.#enforceLimits(undefined);
      return { applied: true, ids: loaded.map((item) => item.id) };
    });
  }

  /** UPDATE an item's text in place: same id, new object. */
  update(id: MemoryId, text: string, reason?: string): Promise<OpResult> {
    return this.#queue.submit([id], () => {
      const current = this.#byId.get(id);
      if (current === undefined) return { applied: false, ids: [], reason: 'absent' };
      this.#remove(current);
      const next: ContextItem = { ...current, text, tokens: countTokens(text), touchedAt: this.#deps.now() };
      this.#emit({ op: 'update', ids: [id], items: [next], reason });
      this.#admit(next, 'update');
      this.#enforceLimits(undefined);
      return { applied: true, ids: [id] };
    });
  }

  /** EVICT items to the long-term store. */
  evict(ids: readonly MemoryId[], reason?: string): Promise<OpResult> {
    return this.#queue.submit(ids, () => {
      const present = ids.map((id) => this.#byId.get(id)).filter((item): item is ContextItem => item !== undefined);
      for (const item of present) this.#remove(item);
      if (present.length === 0) return { applied: false, ids: [], reason: 'absent' };
      this.#emit({ op: 'evict', ids: present.map((item) => item.id), items: [], reason });
      return { applied: true, ids: present.map((item) => item.id) };
    });
  }

  /**
   * SUMMARIZE `sources` (as they were read: the same objects) into one summary item that takes their place.
   * Applies only if every source is still in the context unchanged; otherwise `stale`.
   */
  summarize(sources: readonly ContextItem[], draft: SummaryDraft, reason?: string): Promise<OpResult> {
    const ids = sources.map((item) => item.id);
    return this.#queue.submit(ids, () => {
      if (sources.length === 0 || sources.some((item) => this.#byId.get(item.id) !== item)) return { applied: false, ids: [], reason: 'stale' };
      for (const item of sources) this.#remove(item);
      const summary = this.#summaryItem(sources, draft.text);
      this.#insert(summary);
      this.#emit({ op: 'summarize', ids, items: [summary], summaryMethod: draft, reason });
      this.#enforceLimits(undefined);
      return { applied: true, ids, summary };
    });
  }

  /** FORGET items: they leave the context (their text is purged from the long-term store by the caller). */
  forget(ids: readonly MemoryId[], reason?: string): Promise<OpResult> {
    return this.#queue.submit(ids, () => {
      const present = ids.map((id) => this.#byId.get(id)).filter((item): item is ContextItem => item !== undefined);
      for (const item of present) this.#remove(item);
      if (present.length === 0) return { applied: false, ids: [], reason: 'absent' };
      this.#emit({ op: 'forget', ids: present.map((item) => item.id), items: [], reason });
      return { applied: true, ids: present.map((item) => item.id) };
    });
  }

  /** Puts an item in; one longer than maxMessageBytes is stored whole elsewhere and replaced by a summary. */
  #admit(item: ContextItem, op: 'append' | 'update'): ContextItem {
    if (Buffer.byteLength(item.text) <= this.#deps.limits.maxMessageBytes) {
      this.#insert(item);
      if (op === 'append') this.#emit({ op: 'append', ids: [item.id], items: [item] });
      return item;
    }
    const text = oversizeSummary(item.text, this.#deps.limits.maxMessageBytes);
    const summary = this.#summaryItem([item], text);
    this.#insert(summary);
    if (op === 'append') this.#emit({ op: 'append', ids: [item.id], items: [] });
    this.#emit({ op: 'summarize', ids: [item.id], items: [summary], summaryMethod: { text, method: 'extractive' }, reason: OVERSIZE_REASON });
    return summary;
  }

  #summaryItem(sources: readonly ContextItem[], text: string): ContextItem {
    const now = this.#deps.now();
    const anchor = sources.reduce((min, item) => (item.anchor < min ? item.anchor : min), (sources[0] as ContextItem).anchor);
    const single = sources.length === 1 ? sources[0] : undefined;
    return {
      id: newMemoryId(now),
      kind: 'summary',
      role: single?.kind === 'turn' || single?.kind === 'summary' ? single.role : undefined,
      text,
      tokens: countTokens(text),
      createdAt: now,
      anchor,
      touchedAt: now,
      summaryOf: sources.map((item) => item.id),
    };
  }

  /** Evicts least recently touched unpinned items (never `keep`, never the newest) until within limits. */
  #enforceLimits(keep: MemoryId | undefined): void {
    const { maxItems, maxTokens } = this.#deps.limits;
    const over = (): boolean => this.#items.length > maxItems || this.#tokens > maxTokens;
    if (!over()) return;
    const newest = this.#items.at(-1);
    const evicted: ContextItem[] = [];
    // Touch order: usually the first item goes and the walk stops (deleting from a Map while walking it is safe).
    for (const item of this.#byId.values()) {
      if (!over()) break;
      if (item === newest || item.id === keep || this.isPinned(item.id)) continue;
      this.#remove(item);
      evicted.push(item);
    }
    if (evicted.length > 0) this.#emit({ op: 'evict', ids: evicted.map((item) => item.id), items: [], reason: LIMIT_EVICTION_REASON });
  }

  #insert(item: ContextItem): void {
    this.#items.splice(this.#firstAfter(item.anchor), 0, item);
    this.#byId.set(item.id, item);
    this.#tokens += item.tokens;
  }

  #remove(item: ContextItem): void {
    const index = this.#indexOf(item);
    if (index < 0) return;
    this.#items.splice(index, 1);
    this.#byId.delete(item.id);
    this.#tokens -= item.tokens;
  }

  /** The index of the first item whose anchor sorts after `anchor` (#items.length if none does). */
  #firstAfter(anchor: MemoryId): number {
    let low = 0;
    let high = this.#items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#items[mid] as ContextItem).anchor <= anchor) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Where `item` is in #items (sorted by anchor): a binary search past its anchor, then back to the item itself. */
  #indexOf(item: ContextItem): number {
    for (let i = this.#firstAfter(item.anchor) - 1; i >= 0 && (this.#items[i] as ContextItem).anchor === item.anchor; i--) {
      if (this.#items[i] === item) return i;
    }
    return -1;
  }

  #emit(change: Omit<ContextChange, 'sessionKey'>): void {
    this.#deps.onChange({ ...change, sessionKey: this.sessionKey }, this);
  }
}

/** Least recently touched first; ties in context order. */
function byTouch(a: ContextItem, b: ContextItem): number {
  return a.touchedAt - b.touchedAt || (a.anchor < b.anchor ? -1 : a.anchor > b.anchor ? 1 : 0);
}
