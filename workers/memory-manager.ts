/**
 * The memory manager: a background worker, never on a turn's path. Every `intervalMs` it looks at each
 * active context in RAM and, when the context holds more than `summarizeAtPercent` of its item or token
 * limit (over budget) or has not been touched for `staleAfterMs` (stale), summarizes its oldest items —
 * all but the newest `keepRecent`, never an item a run holds — into one summary item (SUMMARIZE, through the
 * session's mutation queue; if a source changed meanwhile the summary is dropped and tried again next pass).
 * An over-budget context gives up its oldest items until what is left is under half the threshold, so
 * one pass brings it back under; a pass gives the event loop back every PASS_SLICE_MS, between two contexts.
 * Every `retentionIntervalMs` it applies the retention policy: turns (and summaries) that left the active
 * context longer ago than their retention are purged to forgotten tombstones, all of them, in batches of
 * RETENTION_BATCH with the event loop free between two. A context untouched for twice `staleAfterMs` leaves RAM
 * (restored from its snapshot on its next use), so RAM holds the sessions in use, not every session ever seen.
 * Every change is announced as a memory.event by the memory service.
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { MemoryService } from '../memory/memory-service.js';
import type { ContextItem } from '../memory/memory-types.js';
import type { SessionContext } from '../memory/session-context.js';
import type { Summarizer } from './memory-summarizer.js';

const DAY_MS = 86_400_000;
/**
 * Most items purged in one transaction of a retention pass: ~80 µs each (most of it the full-text index
 * dropping the text), so ~8 ms a batch; a pass goes on batch by batch, the event loop free between two, until
 * nothing expired is left.
 */
export const RETENTION_BATCH = 100;

/**
 * Most event-loop time a summarizing pass takes before it lets turns go on, in ms. An extractive summary of a
 * full context is 2–11 ms of CPU when drafted on the event loop (memorySummaryThread off; ~0.5–1 ms of
 * choosing and applying when drafted in the summary thread), and a pass that found a hundred such contexts
 * (busy sessions fill up together) summarized them all in one task: ~100 ms during which no client got a frame.
 */
export const PASS_SLICE_MS = 2;

export interface MemoryManagerPolicy {
  /** Summarize above this percentage of maxItems or maxTokens. */
  summarizeAtPercent: number;
  /** Newest items never summarized. */
  keepRecent: number;
  /** A context untouched this long is summarized, in ms; 0: never. */
  staleAfterMs: number;
  /** Longest summary, in tokens. */
  summaryMaxTokens: number;
  /** Days a turn's text is kept after it left the context; 0: forever. */
  transcriptRetentionDays: number;
  /** Days a summary's text is kept after it left the context; 0: forever. */
  summaryRetentionDays: number;
}

export interface MemoryManagerDeps {
  memory: MemoryService;
  summarizer: Summarizer;
  policy: MemoryManagerPolicy;
  intervalMs: number;
  retentionIntervalMs: number;
  now: () => number;
  logger: Logger;
}

export class MemoryManager {
  readonly #deps: MemoryManagerDeps;
  readonly #controller = new AbortController();
  #timers: NodeJS.Timeout[] = [];
  #pass: Promise<number> | undefined;
  #retention: Promise<number> | undefined;

  constructor(deps: MemoryManagerDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#timers.length > 0) return;
    this.#timers = [
      setInterval(() => void this.runOnce(), this.#deps.intervalMs),
      setInterval(() => void this.applyRetention(), this.#deps.retentionIntervalMs),
    ];
    for (const timer of this.#timers) timer.unref();
  }

  /** One pass over every context (a pass already running is joined); resolves with the summaries made. */
  runOnce(): Promise<number> {
    this.#pass ??= this.#runPass().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  /**
   * Purges everything retention says is too old (a pass already running is joined); resolves with how many
   * items were forgotten.
   */
  applyRetention(): Promise<number> {
    this.#retention ??= this.#retentionPass().finally(() => {
      this.#retention = undefined;
    });
    return this.#retention;
  }

  async #retentionPass(): Promise<number> {
    const { memory, policy, now, logger } = this.#deps;
    if (!memory.longTerm) return 0;
    let purged = 0;
    try {
      // What RAM evicted since the last batch write is written first, so the pass sees it.
      if (memory.store.health().state === 'ok') memory.flush();
      for (const [kind, days] of [['turn', policy.transcriptRetentionDays], ['summary', policy.summaryRetentionDays]] as const) {
        if (days <= 0) continue;
        for (;;) {
          const { selected, forgotten } = this.#purgeExpired(kind, now() - days * DAY_MS);
          purged += forgotten;
          if (selected < RETENTION_BATCH || forgotten === 0) break;
          await setImmediate();
          if (this.#controller.signal.aborted) return purged;
        }
      }
      if (purged > 0) logger.info({ purged }, 'memory retention purged old items');
    } catch (err) {
      logger.warn({ err, purged }, 'memory retention pass failed');
    }
    return purged;
  }

  /** One batch of a retention pass, in its own transaction: how many items it found expired and forgot. */
  #purgeExpired(kind: 'turn' | 'summary', before: number): { selected: number; forgotten: number } {
    const { memory, now } = this.#deps;
    const { store } = memory;
    if (store.health().state !== 'ok') return { selected: 0, forgotten: 0 };
    const ids = store.memory.forget.expired(kind, before, RETENTION_BATCH);
    if (ids.length === 0) return { selected: 0, forgotten: 0 };
    const forgotten = store.transaction(() => store.memory.forget.purge(ids, now(), { cascade: false }));
    memory.emitForgotten(forgotten, 'retention', 'retention', now());
    return { selected: ids.length, forgotten: forgotten.length };
  }

  /** Stops the timers and any summary being written; safe to call twice. */
  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#controller.abort();
  }

  async #runPass(): Promise<number> {
    let made = 0;
    let sliceStart = performance.now();
    for (const context of this.#deps.memory.contexts()) {
      if (performance.now() - sliceStart >= PASS_SLICE_MS) {
        await setImmediate();
        sliceStart = performance.now();
      }
      if (this.#controller.signal.aborted) break;
      try {
        if (await this.#tend(context)) made += 1;
        this.#unloadIfIdle(context);
      } catch (err) {
        this.#deps.logger.warn({ err, sessionKey: context.sessionKey }, 'memory manager pass failed for a session');
      }
    }
    return made;
  }

  /** Summarizes the context's oldest items when it is over budget or stale; true when a summary was applied. */
  async #tend(context: SessionContext): Promise<boolean> {
    const { policy } = this.#deps;
    const limits = context.limits;
    const itemThreshold = (limits.maxItems * policy.summarizeAtPercent) / 100;
    const tokenThreshold = (limits.maxTokens * policy.summarizeAtPercent) / 100;
    const over = context.size > itemThreshold || context.tokens > tokenThreshold;
    const items = context.items;
    const lastTouch = items.reduce((max, item) => Math.max(max, item.touchedAt), 0);
    const stale = policy.staleAfterMs > 0 && items.length > 0 && this.#deps.now() - lastTouch > policy.staleAfterMs;
    if (!over && !stale) return false;
    const eligible = items.slice(0, Math.max(0, items.length - policy.keepRecent)).filter((item) => item.kind !== 'document' && !context.isPinned(item.id));
    const chosen = over ? this.#untilUnder(context, eligible, itemThreshold / 2, tokenThreshold / 2) : eligible;
    if (chosen.length < 2 && !(chosen.length === 1 && over)) return false;
    const draft = await this.#deps.summarizer.summarize(chosen, policy.summaryMaxTokens, this.#controller.signal);
    const result = await this.#deps.memory.as('memory-manager', () => context.summarize(chosen, draft, over ? 'over-budget' : 'stale'));
    return result.applied;
  }

  /** A context untouched for twice the stale time leaves RAM (it is restored from its snapshot when used). */
  #unloadIfIdle(context: SessionContext): void {
    const { staleAfterMs } = this.#deps.policy;
    if (staleAfterMs <= 0) return;
    const lastTouch = context.items.reduce((max, item) => Math.max(max, item.touchedAt), 0);
    if (this.#deps.now() - lastTouch > 2 * staleAfterMs) this.#deps.memory.unload(context.sessionKey);
  }

  /** The oldest eligible items whose replacement by one summary leaves the context under the targets. */
  #untilUnder(context: SessionContext, eligible: readonly ContextItem[], itemTarget: number, tokenTarget: number): ContextItem[] {
    const chosen: ContextItem[] = [];
    let size = context.size + 1;
    let tokens = context.tokens + this.#deps.policy.summaryMaxTokens;
    for (const item of eligible) {
      if (size <= itemTarget && tokens <= tokenTarget && chosen.length >= 2) break;
      chosen.push(item);
      size -= 1;
      tokens -= item.tokens;
    }
    return chosen;
  }
}
