/**
 * Session-level operations: look up or create, patch settings, reset (new sessionId), delete, compact, and
 * inject an assistant message. Operations that end a transcript's life abort the session's runs first.
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import { GatewayError } from '../protocol/errors.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { Store } from '../memory/store.js';
import type { SettingsPatch } from '../memory/sessions-store.js';
import type { SessionRecord, StoredMessage } from '../memory/types.js';
import type { RuntimeEvents } from './run-events.js';
import type { TurnService } from './turn-service.js';

/** Live transcript messages `sessions.compact` keeps when the request does not say. */
export const COMPACT_DEFAULT_KEEP = 400;

/** Messages `sessions.compact` hides per transaction (~2 µs each: ~4 ms a batch). */
export const COMPACT_BATCH = 2_000;

/**
 * Rows of a deleted session removed per table and transaction (~1–2 ms; every delete also feeds FTS5's
 * incremental merges, so the batch bounds those too: at 200, steps of up to 133 ms were seen, at 50 up to 51).
 */
export const PURGE_BATCH = 50;

export class SessionService {
  #purging: Promise<number> | undefined;
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly turns: TurnService,
    private readonly events: RuntimeEvents,
    private readonly now: () => number,
    /** The active contexts: a reset or delete takes the session's context out of RAM; inject adds to it. */
    private readonly memory: MemoryService,
    private readonly logger: Pick<Logger, 'debug' | 'warn'>,
  ) {}

  get(key: string): SessionRecord | undefined {
    return this.store.sessions.get(key);
  }

  /** A session exists once it is addressed: reading its history or description creates its (empty) row. */
  ensure(key: string, agentId: string): SessionRecord {
    const { session, created } = this.store.sessions.ensure(key, agentId, this.now());
    if (created) this.#changed(session.key, session.agentId, 'created');
    return session;
  }

  patch(key: string, agentId: string, patch: SettingsPatch, expectedSessionId?: string): SessionRecord {
    const current = this.ensure(key, agentId);
    checkExpected(current, expectedSessionId);
    const next = this.store.sessions.patchSettings(key, patch, this.now()) ?? current;
    this.#changed(key, next.agentId, 'patched');
    return next;
  }

  /** Aborts the session's runs, then starts a fresh transcript under a new sessionId. */
  reset(key: string, agentId: string, reason: string, expectedSessionId?: string): SessionRecord {
    const current = this.ensure(key, agentId);
    checkExpected(current, expectedSessionId);
    this.turns.abort(key, { clearQueued: true });
    const next = this.store.sessions.reset(key, this.now()) ?? current;
    this.memory.drop(key, 'session-reset');
    this.#changed(key, next.agentId, reason);
    return next;
  }

  /**
   * Deletes a session (and its transcript unless told to keep it); with `archivedOnly`, only an archived one.
   * The transcript and memory rows are hidden at once and removed in the background (`purge`).
   */
  delete(key: string, options: { deleteTranscript: boolean; archivedOnly: boolean }): boolean {
    const current = this.store.sessions.get(key);
    if (current === undefined) return false;
    if (options.archivedOnly && current.settings.archived !== true) return false;
    this.turns.abort(key, { clearQueued: true });
    // Before the purge takes its bounds: every row memory made for the session must be on disk below them.
    if (options.deleteTranscript) this.memory.discard(key);
    this.store.transaction(() => {
      this.store.sessions.delete(key);
      if (options.deleteTranscript) this.store.purges.request(key, this.now());
    });
    if (!options.deleteTranscript) this.memory.drop(key, 'session-deleted');
    this.#changed(key, current.agentId, 'deleted');
    if (options.deleteTranscript) {
      this.events.emit({ type: 'session.deleted', sessionKey: key });
      void this.purge();
    }
    return true;
  }

  /**
   * Removes the rows deleted sessions left (memory/purge-store.ts), PURGE_BATCH a table per transaction with
   * the event loop free between two and before the first (the delete's answer goes out first); stops when
   * the service closes, and goes on after a restart. A purge going on is joined. Resolves with the rows removed.
   */
  purge(): Promise<number> {
    this.#purging ??= this.#purgeAll();
    return this.#purging;
  }

  /** Stops purging between two batches (what is left goes on after the next start); safe to call twice. */
  close(): void {
    this.#closed = true;
  }

  async #purgeAll(): Promise<number> {
    let removed = 0;
    try {
      let more = true;
      while (more) {
        await setImmediate();
        if (this.#closed) break;
        const step = this.store.transaction(() => this.store.purges.step(PURGE_BATCH));
        removed += step.removed;
        more = step.more;
      }
      if (removed > 0) this.logger.debug({ removed }, 'deleted sessions purged');
    } catch (err) {
      this.logger.warn({ err, removed }, 'purging deleted sessions failed; tried again within a minute');
    } finally {
      // After an await, never in the call that set it: a delete from now on starts a new pass.
      this.#purging = undefined;
    }
    return removed;
  }

  /**
   * Keeps the newest `keep` live messages in the history; older ones stay stored but hidden. Hides COMPACT_BATCH
   * a transaction with the event loop free between two; reads only what the last compaction left live.
   */
  async compact(key: string, keep: number = COMPACT_DEFAULT_KEEP): Promise<{ kept: number; removed: number }> {
    const session = this.store.sessions.get(key);
    if (session === undefined) throw new GatewayError('SESSION_NOT_FOUND', { params: { key } });
    const { transcript } = this.store;
    const through = transcript.compactionPoint(key, session.sessionId, keep);
    if (through === undefined) return { kept: transcript.count(key, session.sessionId), removed: 0 };
    let removed = 0;
    for (;;) {
      const step = this.store.transaction(() => transcript.compactStep(key, session.sessionId, through, COMPACT_BATCH));
      removed += step;
      if (step < COMPACT_BATCH) break;
      await setImmediate();
    }
    if (removed > 0) this.#changed(key, session.agentId, 'compacted');
    return { kept: keep, removed };
  }

  /** Appends an assistant message without running the model (`chat.inject`). */
  inject(key: string, agentId: string, text: string): StoredMessage {
    const now = this.now();
    const stored = this.store.transaction(() => {
      const session = this.ensure(key, agentId);
      return this.store.transcript.append(
        key,
        session.sessionId,
        { role: 'assistant', content: [{ type: 'text', text }], timestamp: now, stopReason: 'injected' },
        undefined,
      );
    });
    this.memory.appendMessage(stored);
    this.events.emit({ type: 'message.stored', message: stored });
    this.#changed(key, agentId, 'updated');
    return stored;
  }

  #changed(key: string, agentId: string, reason: string): void {
    this.events.emit({ type: 'session.changed', sessionKey: key, agentId, reason, session: () => this.store.sessions.get(key) });
  }
}

function checkExpected(session: SessionRecord, expected: string | undefined): void {
  if (expected !== undefined && expected !== session.sessionId) {
    throw new GatewayError('SESSION_ID_MISMATCH', { params: { expected, actual: session.sessionId } });
  }
}
