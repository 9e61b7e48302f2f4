/**
 * Reads of the long-term store for memory.query and memory.recall. A text query goes through the FTS5
 * index: the newest `candidates` matches (FTS5 streams matches in rowid order, newest first, so the cost is
 * bounded whatever the store's size) are scored with BM25 and then ranked by BM25 × a recency boost
 * (1 + 2^(−age / halfLife)), so of two equally relevant items the newer wins and an old one counts at most
 * half as much. Other queries walk the MemoryID index newest first.
 */
import type { Db } from './db.js';
import type { MemoryId } from './ids.js';
import type { ItemsStore } from './items-store.js';
import { toRecord, type ItemRow } from './items-store.js';
import type { MemoryRecord } from './memory-types.js';

/** The kinds memory.query filters on: tombstones are summarized or forgotten turns and documents, forgotten summaries. */
export type WireKind = 'turn' | 'summary' | 'tombstone' | 'document';

export interface ItemFilter {
  sessionKey?: string | undefined;
  kinds?: readonly WireKind[] | undefined;
  /** Created at or after, epoch ms. */
  since?: number | undefined;
  /** Created at or before, epoch ms. */
  until?: number | undefined;
}

export interface RankOptions {
  /** Newest matches scored per text query. */
  candidates: number;
  /** Age at which the recency boost has halved, in ms. */
  halfLifeMs: number;
  now: number;
}

export interface ScoredRecord {
  record: MemoryRecord;
  score: number;
}

/** Most distinct words of a text query used in the MATCH expression. */
export const MAX_QUERY_TERMS = 16;
const WORD = /[\p{L}\p{N}]+/gu;

const KIND_SQL: Record<WireKind, string> = {
  turn: "(m.kind = 'turn' AND m.state IN ('active', 'evicted'))",
  document: "(m.kind = 'document' AND m.state IN ('active', 'evicted'))",
  summary: "(m.kind = 'summary' AND m.state != 'forgotten')",
  tombstone: "(m.state = 'forgotten' OR (m.state = 'summarized' AND m.kind != 'summary'))",
};

const ROW_COLUMNS =
  'm.id, m.session_key, m.session_id, m.kind, m.role, m.text, m.tokens, m.state, m.created_at, m.updated_at, m.summarized_by, m.summary_of, m.doc_path, m.doc_chunk, m.doc_hash, m.anchor';

/** The FTS5 MATCH expression for free text: its words, quoted, OR-ed; undefined when it has none. */
export function matchExpression(text: string): string | undefined {
  const terms = [...new Set((text.toLowerCase().match(WORD) ?? []))].slice(0, MAX_QUERY_TERMS);
  return terms.length === 0 ? undefined : `text : (${terms.map((term) => `"${term}"`).join(' OR ')})`;
}

function where(filter: ItemFilter, args: (string | number)[]): string[] {
  const clauses: string[] = [];
  if (filter.sessionKey !== undefined) (clauses.push('m.session_key = ?'), args.push(filter.sessionKey));
  if (filter.since !== undefined) (clauses.push('m.created_at >= ?'), args.push(filter.since));
  if (filter.until !== undefined) (clauses.push('m.created_at <= ?'), args.push(filter.until));
  if (filter.kinds !== undefined && filter.kinds.length > 0) clauses.push(`(${filter.kinds.map((kind) => KIND_SQL[kind]).join(' OR ')})`);
  return clauses;
}

export class RecallStore {
  readonly #db: Db;
  readonly #items: ItemsStore;

  constructor(db: Db, items: ItemsStore) {
    this.#db = db;
    this.#items = items;
  }

  /** Items newest first (by MemoryID), after `beforeId` when paging. */
  list(filter: ItemFilter & { ids?: readonly MemoryId[] | undefined }, limit: number, beforeId?: MemoryId): MemoryRecord[] {
    const args: (string | number)[] = [];
    const clauses = where(filter, args);
    if (filter.ids !== undefined) (clauses.push(`m.id IN (${filter.ids.map(() => '?').join(', ')})`), args.push(...filter.ids));
    if (beforeId !== undefined) (clauses.push('m.id < ?'), args.push(beforeId));
    const sql = `SELECT ${ROW_COLUMNS} FROM memory_items m ${clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`} ORDER BY m.id DESC LIMIT ?`;
    return this.#db.prepare<(string | number)[], ItemRow>(sql).all(...args, limit).map(toRecord);
  }

  /**
   * Items matching free text, best first: BM25 over the newest candidates, boosted by recency; the ranking is
   * done in SQL so only the best `top` rows are read out.
   */
  search(text: string, filter: ItemFilter, rank: RankOptions, top: number = rank.candidates): ScoredRecord[] {
    const match = matchExpression(text);
    if (match === undefined) return [];
    let expression = match;
    if (filter.sessionKey !== undefined) {
      const scope = this.#items.existingScope(filter.sessionKey);
      if (scope === undefined) return [];
      expression = `${match} AND tags : s${scope}`;
    }
    const args: (string | number)[] = [];
    const clauses = where({ ...filter, sessionKey: undefined }, args);
    const named = { now: rank.now, half: rank.halfLifeMs, match: expression, candidates: rank.candidates, top };
    const sql = `WITH c AS (SELECT rowid AS n, bm25(memory_fts, 1.0, 0.0) AS b FROM memory_fts WHERE memory_fts MATCH @match ORDER BY rowid DESC LIMIT @candidates)
      SELECT ${ROW_COLUMNS}, -c.b * (1 + pow(2.0, -max(0, @now - m.created_at) * 1.0 / @half)) AS score
      FROM c JOIN memory_items m ON m.n = c.n ${clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`}
      ORDER BY score DESC, m.id DESC LIMIT @top`;
    const rows = this.#db.prepare<unknown[], ItemRow & { score: number }>(sql).all(...args, named);
    return rows.map((row) => ({ record: toRecord(row), score: row.score }));
  }
}
