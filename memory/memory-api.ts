/**
 * What memory.query, memory.recall and memory.forget do, over the long-term store and the RAM contexts.
 * Every call first flushes the batch writer, so it sees what the RAM model did a moment ago.
 * - query: by text (ranked: BM25 × recency), or newest first by MemoryID; filters by ids, kinds, time,
 *   session; an opaque cursor pages on.
 * - recall by topic: the summaries that match or that replaced matching items, best first; matching items
 *   that no summary replaced; with `detail: true` also the originals behind each summary.
 * - recall by id: a tombstone resolves to its summary (and the summaries above it); the original text comes
 *   back only with `detail: true`, and never for a forgotten item.
 * - forget: purges text and index entries (forget-store.ts), removes the items from RAM contexts (a run
 *   holding one keeps what it already has until it ends), logs an audit line naming who forgot what.
 */
import { setImmediate } from 'node:timers/promises';
import type { MemoryItem } from '../protocol/methods/memory.js';
import type { MemoryId } from './ids.js';
import type { MemoryRecord } from './memory-types.js';
import type { MemoryLogger, MemoryService } from './memory-service.js';
import type { ItemFilter, ScoredRecord, WireKind } from './recall-store.js';

export interface RecallRanking {
  /** Newest full-text matches scored per text query. */
  candidates: number;
  /** Age at which the recency boost halves, in ms. */
  halfLifeMs: number;
}

/** Default of `memoryRecallCandidates`. */
export const DEFAULT_RECALL_CANDIDATES = 100;
/** Default of `memoryRecallHalfLifeMs`: 7 days, in ms. */
export const DEFAULT_RECALL_HALF_LIFE_MS = 604_800_000;
/** Items purged per transaction of a `forget` (~8 ms of work). */
export const FORGET_BATCH = 100;
/** Ranked rows a topic recall looks at: at least this many ... */
const RECALL_ROWS_MIN = 20;
/** ... and this many per summary asked for. */
const RECALL_ROWS_PER_RESULT = 4;
/** Most summaries followed upward from a tombstone (a summary of summaries of ...). */
const MAX_SUMMARY_CHAIN = 32;

export interface QueryInput extends ItemFilter {
  text?: string | undefined;
  ids?: readonly MemoryId[] | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface RecallInput {
  sessionKey?: string | undefined;
  topic?: string | undefined;
  id?: MemoryId | undefined;
  detail: boolean;
  limit: number;
}

/** Who asked (for the audit log and the event log). */
export interface Actor {
  connId: string;
  clientId: string;
}

/** A stored item as the wire shows it: tombstones without text unless `detail` (never for forgotten ones). */
export function wireItem(record: MemoryRecord, options: { detail?: boolean; score?: number } = {}): MemoryItem {
  const tombstone = record.state === 'forgotten' || (record.state === 'summarized' && record.kind !== 'summary');
  const hide = tombstone && !(options.detail === true && record.state !== 'forgotten');
  return {
    id: record.id,
    sessionKey: record.sessionKey,
    kind: hide ? 'tombstone' : record.kind,
    ...(record.role === undefined ? {} : { role: record.role }),
    text: hide ? '' : record.text,
    createdAt: record.createdAt,
    state: record.state,
    ...(record.summaryOf === undefined ? {} : { summaryOf: record.summaryOf }),
    ...(record.summarizedBy === undefined ? {} : { summarizedBy: record.summarizedBy }),
    ...(options.score === undefined ? {} : { score: options.score }),
  };
}

type Cursor = { after: MemoryId } | { offset: number };

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The cursor, or undefined when it is not one of ours. */
export function decodeCursor(text: string): Cursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof value.after === 'string') return { after: value.after };
    if (typeof value.offset === 'number' && Number.isInteger(value.offset) && value.offset >= 0) return { offset: value.offset };
  } catch {
    // not ours
  }
  return undefined;
}

export class MemoryApi {
  readonly #memory: MemoryService;
  readonly #ranking: RecallRanking;
  readonly #now: () => number;
  readonly #logger: MemoryLogger;

  constructor(memory: MemoryService, ranking: RecallRanking, now: () => number, logger: MemoryLogger) {
    this.#memory = memory;
    this.#ranking = ranking;
    this.#now = now;
    this.#logger = logger;
  }

  query(input: QueryInput, cursor: Cursor | undefined): { items: MemoryItem[]; nextCursor?: string } {
    this.#memory.flush();
    const { recall } = this.#memory.store.memory;
    const filter: ItemFilter = { sessionKey: input.sessionKey, kinds: input.kinds, since: input.since, until: input.until };
    if (input.text !== undefined && input.text.trim() !== '') {
      const wanted = input.ids === undefined ? undefined : new Set(input.ids);
      const offset = cursor !== undefined && 'offset' in cursor ? cursor.offset : 0;
      const top = wanted === undefined ? offset + input.limit + 1 : undefined;
      const scored = this.#search(input.text, filter, top).filter((hit) => wanted === undefined || wanted.has(hit.record.id));
      const page = scored.slice(offset, offset + input.limit);
      const more = offset + page.length < scored.length;
      return { items: page.map((hit) => wireItem(hit.record, { score: hit.score })), ...(more ? { nextCursor: encodeCursor({ offset: offset + page.length }) } : {}) };
    }
    const after = cursor !== undefined && 'after' in cursor ? cursor.after : undefined;
    const { records, scannedTo } = recall.list({ ...filter, ids: input.ids }, input.limit + 1, after);
    const page = records.slice(0, input.limit);
    const last = page.at(-1);
    // A full page goes on after its last item; a short one whose scan stopped early, below what it looked at.
    const next = records.length > input.limit ? last?.id : scannedTo;
    return { items: page.map((record) => wireItem(record)), ...(next === undefined ? {} : { nextCursor: encodeCursor({ after: next }) }) };
  }

  recall(input: RecallInput): { summaries: MemoryItem[]; items?: MemoryItem[] } {
    this.#memory.flush();
    const result = input.id !== undefined ? this.#recallId(input.id, input) : this.#recallTopic(input.topic ?? '', input);
    const ids = [...result.summaries, ...(result.items ?? [])].map((item) => item.id);
    const sessionKey = input.sessionKey ?? result.summaries[0]?.sessionKey ?? result.items?.[0]?.sessionKey ?? '*';
    this.#memory.emit({ sessionKey, op: 'recall', ids, reason: input.id !== undefined ? 'id' : 'topic', ts: this.#now() });
    return result;
  }

  /**
   * Forgets the selection (at most FORGET_MAX_PER_CALL items by session or time). The store purges FORGET_BATCH
   * items per transaction with the event loop free between two (~80 µs an item: 10,000 held the event loop
   * 1.1 s as one transaction); then the items leave the RAM contexts and each session gets one `forget` event.
   * A gateway shutting down stops it between two batches: what was purged is returned.
   */
  async forget(selection: { ids?: readonly MemoryId[] | undefined; sessionKey?: string | undefined; before?: number | undefined }, actor: Actor): Promise<MemoryId[]> {
    this.#memory.flush();
    const { store } = this.#memory;
    const ids =
      selection.ids === undefined
        ? store.memory.forget.select({ sessionKey: selection.sessionKey, before: selection.before })
        : store.memory.items
            .many(selection.ids)
            .filter((record) => (selection.sessionKey === undefined || record.sessionKey === selection.sessionKey) && (selection.before === undefined || record.createdAt < selection.before))
            .map((record) => record.id);
    const forgotten: { id: MemoryId; sessionKey: string }[] = [];
    for (let start = 0; start < ids.length; start += FORGET_BATCH) {
      if (start > 0) await setImmediate();
      if (this.#memory.closed) break;
      const now = this.#now();
      forgotten.push(...store.transaction(() => store.memory.forget.purge(ids.slice(start, start + FORGET_BATCH), now)));
    }
    const gone = new Set(forgotten.map((entry) => entry.id));
    for (const context of this.#memory.contexts()) {
      const present = context.items.filter((item) => gone.has(item.id)).map((item) => item.id);
      if (present.length > 0) void context.forget(present, 'forgotten');
    }
    this.#memory.emitForgotten(forgotten, 'forgotten', `conn:${actor.connId} client:${actor.clientId}`, this.#now());
    this.#logger.info(
      { audit: 'memory.forget', connId: actor.connId, clientId: actor.clientId, requested: selection, ids: [...gone], count: gone.size },
      'memory forgotten',
    );
    return [...gone];
  }

  /** Ranked matches; the best `top` only (all candidates when undefined). */
  #search(text: string, filter: ItemFilter, top?: number): ScoredRecord[] {
    return this.#memory.store.memory.recall.search(text, filter, { ...this.#ranking, now: this.#now() }, top);
  }

  #recallTopic(topic: string, input: RecallInput): { summaries: MemoryItem[]; items?: MemoryItem[] } {
    const summaries = new Map<MemoryId, ScoredRecord>();
    const direct: ScoredRecord[] = [];
    // Several hits can share one summary: look at more rows than summaries asked for.
    for (const hit of this.#search(topic, { sessionKey: input.sessionKey }, Math.max(RECALL_ROWS_MIN, input.limit * RECALL_ROWS_PER_RESULT))) {
      const { record } = hit;
      if (record.state === 'forgotten') continue;
      const summary = record.kind === 'summary' ? record : record.state === 'summarized' ? this.#chain(record)[0] : undefined;
      if (summary === undefined) {
        direct.push(hit);
        continue;
      }
      const known = summaries.get(summary.id);
      if (known === undefined || known.score < hit.score) summaries.set(summary.id, { record: summary, score: hit.score });
    }
    const ranked = [...summaries.values()].sort((a, b) => b.score - a.score).slice(0, input.limit);
    const items = direct.slice(0, input.limit).map((hit) => wireItem(hit.record, { score: hit.score }));
    if (input.detail) for (const hit of ranked) items.push(...this.#sources(hit.record));
    return { summaries: ranked.map((hit) => wireItem(hit.record, { score: hit.score })), ...(items.length === 0 ? {} : { items }) };
  }

  #recallId(id: MemoryId, input: RecallInput): { summaries: MemoryItem[]; items?: MemoryItem[] } {
    const record = this.#memory.store.memory.items.get(id);
    if (record === undefined || (input.sessionKey !== undefined && record.sessionKey !== input.sessionKey)) return { summaries: [] };
    if (record.kind === 'summary' && record.state !== 'forgotten') {
      const chain = [record, ...this.#chain(record)].slice(0, input.limit);
      return { summaries: chain.map((summary) => wireItem(summary)), ...(input.detail ? { items: this.#sources(record) } : {}) };
    }
    const chain = this.#chain(record).slice(0, input.limit);
    if (chain.length > 0) return { summaries: chain.map((summary) => wireItem(summary)), ...(input.detail ? { items: [wireItem(record, { detail: true })] } : {}) };
    return { summaries: [], items: [wireItem(record, { detail: input.detail })] };
  }

  /** The summaries above an item, nearest first (forgotten ones end the chain). */
  #chain(record: MemoryRecord): MemoryRecord[] {
    const chain: MemoryRecord[] = [];
    let next = record.summarizedBy;
    while (next !== undefined && chain.length < MAX_SUMMARY_CHAIN) {
      const summary = this.#memory.store.memory.items.get(next);
      if (summary === undefined || summary.state === 'forgotten') break;
      chain.push(summary);
      next = summary.summarizedBy;
    }
    return chain;
  }

  /** The originals behind a summary, with their text (detail). */
  #sources(summary: MemoryRecord): MemoryItem[] {
    return this.#memory.store.memory.items.many(summary.summaryOf ?? []).map((record) => wireItem(record, { detail: true }));
  }
}

export type { WireKind };
