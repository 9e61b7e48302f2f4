/**
 * The sessions' active contexts and what keeps them durable. One SessionContext per session key, built on
 * first use (context-loader.ts) and kept in RAM; every change a context reports is persisted through the
 * batch writer (long-term memory on) and announced to listeners as a memory event. Turns enter through
 * `appendMessage` (the transcript row and the RAM item share the MemoryID); runs read through `lease`.
 */
import type { MemoryId } from './ids.js';
import type { ContextLimits } from './limits.js';
import type { ContextChange, ContextItem, MemoryOp } from './memory-types.js';
import { BatchWriter } from './batch-writer.js';
import { restoreContext } from './context-loader.js';
import { SessionContext, type Lease } from './session-context.js';
import type { Store } from './store.js';
import type { StoredMessage } from './types.js';
import { countTokens } from './tokens.js';
import { messageText } from './transcript-store.js';

/** A memory.event as the runtime reports it (the wire payload is the same object). */
export interface MemoryEvent {
  sessionKey: string;
  op: MemoryOp;
  ids: MemoryId[];
  summaryId?: MemoryId;
  reason?: string;
  ts: number;
}

export interface MemoryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MemoryServiceOptions {
  store: Store;
  limits: ContextLimits;
  /** Long-term memory (memory.v1): items indexed, RAM snapshots and the event log written. Off: RAM only. */
  longTerm: boolean;
  /** Time between batch writes, in ms. */
  snapshotIntervalMs: number;
  now: () => number;
  logger: MemoryLogger;
  /** Record each context's apply trace (tests). */
  trace?: boolean;
  /**
   * Most contexts held in RAM; past it the least recently used quiet ones are unloaded (snapshot first when
   * long-term memory is on; rebuilt from the store on their next use). Default DEFAULT_MAX_CONTEXTS.
   */
  maxContexts?: number;
}

/** Contexts kept in RAM at most, when the options do not say. */
export const DEFAULT_MAX_CONTEXTS = 10_000;

interface Entry {
  context: SessionContext;
  highWater: MemoryId | undefined;
}

/** Actor recorded in the event log for changes made while serving a turn or by limits. */
const RUNTIME_ACTOR = 'runtime';

export class MemoryService {
  readonly #options: MemoryServiceOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(event: MemoryEvent) => void>();
  readonly #writer: BatchWriter;
  /** The logger of the turn being appended (so limit evictions log with its request, run and session ids). */
  #turnLogger: MemoryLogger | undefined;
  #actor = RUNTIME_ACTOR;
  #closed = false;

  constructor(options: MemoryServiceOptions) {
    this.#options = options;
    this.#writer = new BatchWriter(options.store, options.snapshotIntervalMs, options.logger, { index: options.longTerm });
  }

  get longTerm(): boolean {
    return this.#options.longTerm;
  }

  get limits(): ContextLimits {
    return this.#options.limits;
  }

  get store(): Store {
    return this.#options.store;
  }

  /** Writes waiting for the next batch. */
  get pendingWrites(): number {
    return this.#writer.size;
  }

  on(listener: (event: MemoryEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Announces an event (recall, forget, error come from outside the contexts). */
  emit(event: MemoryEvent, actor?: string): void {
    // The event log records changes; reads (recall) and errors are only announced.
    if (this.#options.longTerm && event.op !== 'error' && event.op !== 'recall' && this.#options.store.health().state === 'ok') {
      this.#writer.add(() => this.#options.store.memory.snapshots.logEvent({ ...event, actor }));
    }
    for (const listener of this.#listeners) listener(event);
  }

  /** Announces items the store forgot: one `forget` event per session, with their ids. */
  emitForgotten(forgotten: readonly { id: MemoryId; sessionKey: string }[], reason: string, actor: string, ts: number): void {
    const bySession = new Map<string, MemoryId[]>();
    for (const { id, sessionKey } of forgotten) {
      const ids = bySession.get(sessionKey);
      if (ids === undefined) bySession.set(sessionKey, [id]);
      else ids.push(id);
    }
    for (const [sessionKey, ids] of bySession) this.emit({ sessionKey, op: 'forget', ids, reason, ts }, actor);
  }

  /** The session's active context, built on first use; a new sessionId (reset) starts a new one. */
  context(sessionKey: string, sessionId: string): SessionContext {
    const entry = this.#entries.get(sessionKey);
    if (entry !== undefined && entry.context.sessionId === sessionId) {
      // Map order is recency order: the least recently used context comes first.
      this.#entries.delete(sessionKey);
      this.#entries.set(sessionKey, entry);
      return entry.context;
    }
    if (entry !== undefined) this.#retire(entry, 'session-reset');
    const now = this.#options.now();
    const restored = restoreContext(this.#options.store, sessionKey, sessionId, this.#options.longTerm, this.#options.limits, now);
    const context = new SessionContext(sessionKey, sessionId, {
      limits: this.#options.limits,
      now: this.#options.now,
      onChange: (change, ctx) => this.#changed(change, ctx),
      ...(this.#options.trace === undefined ? {} : { trace: this.#options.trace }),
    }, restored.items);
    this.#entries.set(sessionKey, { context, highWater: restored.highWater });
    this.#trim();
    this.#options.logger.debug({ sessionKey, from: restored.from, items: context.size, tokens: context.tokens }, 'active context loaded');
    context.settle();
    return context;
  }

  /** The contexts in RAM. */
  contexts(): SessionContext[] {
    return [...this.#entries.values()].map((entry) => entry.context);
  }

  /** Adds a stored transcript message to its session's context (user and assistant messages with text). */
  appendMessage(stored: StoredMessage, logger?: MemoryLogger): void {
    const role = stored.message.role;
    const text = messageText(stored.message);
    if ((role !== 'user' && role !== 'assistant') || text === '') return;
    const item: ContextItem = {
      id: stored.id,
      kind: 'turn',
      role,
      text,
      tokens: stored.tokens ?? 0,
      createdAt: stored.createdAt,
      anchor: stored.id,
      touchedAt: this.#options.now(),
    };
    this.#turnLogger = logger;
    try {
      const context = this.context(stored.sessionKey, stored.sessionId);
      context.append(stored.tokens === undefined ? withTokens(item, context.limits) : item);
    } finally {
      this.#turnLogger = undefined;
    }
  }

  /** The items a run's prompt uses, pinned until released. */
  lease(sessionKey: string, sessionId: string, userItemId: MemoryId | undefined): Lease {
    return this.context(sessionKey, sessionId).lease(userItemId);
  }

  /** The session was reset or deleted: its context leaves RAM (its items stay in the long-term store, evicted). */
  drop(sessionKey: string, reason: string): void {
    const entry = this.#entries.get(sessionKey);
    if (entry !== undefined) this.#retire(entry, reason);
  }

  /**
   * The session was deleted with its stored rows: its context leaves RAM without a trace (no eviction, no event),
   * and what the batch writer holds is written now, so that the purge recorded next covers every row RAM made
   * for the session. A summary still being drafted for the context is not stored (`#changed`).
   */
  discard(sessionKey: string): void {
    this.#entries.delete(sessionKey);
    if (this.#options.longTerm) this.#writer.flush();
  }

  /**
   * Takes a quiet context out of RAM (its pending writes and snapshot are written now; the next use
   * restores it). Items keep their state: they are still the session's active context. False when it is not quiet.
   */
  unload(sessionKey: string): boolean {
    const entry = this.#entries.get(sessionKey);
    if (entry === undefined || !entry.context.quiet) return false;
    if (this.#options.longTerm) {
      this.#writer.snapshot(sessionKey, this.#snapshotWrite(entry));
      // Written now: the next use restores from the store, which must already hold what RAM did.
      this.#writer.flush();
    }
    this.#entries.delete(sessionKey);
    return true;
  }

  /** Unloads the least recently used quiet contexts while more than `maxContexts` are in RAM. */
  #trim(): void {
    let excess = this.#entries.size - (this.#options.maxContexts ?? DEFAULT_MAX_CONTEXTS);
    for (const key of this.#entries.keys()) {
      if (excess <= 0) return;
      if (this.unload(key)) excess -= 1;
    }
  }

  /** Runs `fn` with `actor` recorded as the cause of the changes it makes. */
  as<T>(actor: string, fn: () => T): T {
    const previous = this.#actor;
    this.#actor = actor;
    try {
      return fn();
    } finally {
      this.#actor = previous;
    }
  }

  /** Writes the batch now. */
  flush(): void {
    this.#writer.flush();
  }

  /** Flushes and stops the batch timer; safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#writer.close();
  }

  /** close() was called: work spread over event-loop turns stops (the store closes next). */
  get closed(): boolean {
    return this.#closed;
  }

  #retire(entry: Entry, reason: string): void {
    this.#entries.delete(entry.context.sessionKey);
    const ids = entry.context.items.map((item) => item.id);
    if (ids.length > 0 && this.#options.longTerm) {
      this.#writer.add(() => this.#options.store.memory.items.setState(ids, 'evicted', this.#options.now()));
      this.emit({ sessionKey: entry.context.sessionKey, op: 'evict', ids, reason, ts: this.#options.now() }, this.#actor);
    }
  }

  #changed(change: ContextChange, context: SessionContext): void {
    const entry = this.#entries.get(change.sessionKey);
    // A context out of RAM (reset, deleted, unloaded) changes nothing any more: a summary drafted for it while
    // it left would otherwise be stored for a session that is gone, after its rows were purged.
    if (entry === undefined || entry.context !== context) return;
    for (const id of [...change.ids, ...change.items.map((item) => item.id)]) {
      if (entry.highWater === undefined || id > entry.highWater) entry.highWater = id;
    }
    const logger = this.#turnLogger ?? this.#options.logger;
    if (change.op !== 'append') logger.debug({ sessionKey: change.sessionKey, op: change.op, ids: change.ids, reason: change.reason }, 'memory operation');
    if (this.#options.longTerm) this.#persist(change, context);
    // Appends are the chat itself; forgets are announced by the API, once per session, with who asked.
    if (change.op === 'append' || change.op === 'forget') return;
    const summary = change.op === 'summarize' ? change.items[0] : undefined;
    this.emit(
      {
        sessionKey: change.sessionKey,
        op: change.op,
        ids: change.ids,
        ...(summary === undefined ? {} : { summaryId: summary.id }),
        ...(change.reason === undefined ? {} : { reason: change.reason }),
        ts: this.#options.now(),
      },
      this.#actor,
    );
  }

  #persist(change: ContextChange, context: SessionContext): void {
    const { items } = this.#options.store.memory;
    const now = this.#options.now();
    switch (change.op) {
      case 'load':
        this.#writer.add(() => items.setState(change.ids, 'active', now));
        break;
      case 'update':
        for (const item of change.items) this.#writer.add(() => items.setText(item.id, item.text, now));
        break;
      case 'evict':
        this.#writer.add(() => items.setState(change.ids, 'evicted', now));
        break;
      case 'summarize': {
        const summary = change.items[0];
        const draft = change.summaryMethod;
        if (summary !== undefined && draft !== undefined) {
          this.#writer.add(() => items.insertSummary(change.sessionKey, context.sessionId, summary, draft, now));
        }
        break;
      }
      case 'append':
      case 'forget':
        break;
    }
    this.#writer.snapshot(change.sessionKey, () => {
      const entry = this.#entries.get(change.sessionKey);
      if (entry !== undefined && entry.context === context) this.#snapshotWrite(entry)();
    });
  }

  /** The write of an entry's snapshot as it is now. */
  #snapshotWrite(entry: Entry): () => void {
    const { context } = entry;
    const snapshot = { sessionKey: context.sessionKey, sessionId: context.sessionId, itemIds: context.items.map((item) => item.id), highWater: entry.highWater ?? '', tokens: context.tokens, updatedAt: this.#options.now() };
    return () => this.#options.store.memory.snapshots.put(snapshot);
  }
}

/** Token count for an item whose stored row did not carry one (memory off); oversized text is left at 0 (it is summarized). */
function withTokens(item: ContextItem, limits: ContextLimits): ContextItem {
  if (Buffer.byteLength(item.text) > limits.maxMessageBytes) return item;
  return { ...item, tokens: countTokens(item.text) };
}
