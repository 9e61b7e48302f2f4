/**
 * Reads of the long-term store for memory.query and memory.recall. A text query goes through the FTS5
 * index: the newest `candidates` matches (FTS5 streams matches in rowid order, newest first, so the cost is
 * bounded whatever the store's size) are scored with BM25 (bm25.ts) and ranked by BM25 × a recency boost
 * (1 + 2^(−age / halfLife)), so of two equally relevant items the newer wins and an old one counts at most
 * half as much. Other queries walk the MemoryID index newest first.
 */
import type { Db } from './db.js';
import { memoryIdFloor, type MemoryId } from './ids.js';
import type { ItemsStore } from './items-store.js';
import { toRecord, type ItemRow } from './items-store.js';
import { bm25Scores, estimateDf, idf, tokenize } from './bm25.js';
import type { MemoryRecord } from './memory-types.js';
import { notPurged, type PurgeStore } from './purge-store.js';

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

const KIND_SQL: Record<WireKind, string> = {
  turn: "(m.kind = 'turn' AND m.state IN ('active', 'evicted'))",
  document: "(m.kind = 'document' AND m.state IN ('active', 'evicted'))",
  summary: "(m.kind = 'summary' AND m.state != 'forgotten')",
  tombstone: "(m.state = 'forgotten' OR (m.state = 'summarized' AND m.kind != 'summary'))",
};

const ROW_COLUMNS =
  'm.id, m.session_key, m.session_id, m.kind, m.role, m.text, m.tokens, m.state, m.created_at, m.updated_at, m.summarized_by, m.summary_of, m.doc_path, m.doc_chunk, m.doc_hash, m.anchor';

const PAGE_COLUMNS = ROW_COLUMNS.replaceAll('m.', 'r.');

/** Most items one `list` looks at; a page that finds fewer than asked within them ends with a cursor. */
export const LIST_SCAN_MAX = 10_000;

/** Matches of a term sampled to estimate its document frequency. */
export const DF_SAMPLE = 100;

/** The distinct words of a text query, as the index tokenizes them (at most MAX_QUERY_TERMS). */
export function queryTerms(text: string): string[] {
  return [...new Set(tokenize(text))].slice(0, MAX_QUERY_TERMS);
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
  readonly #purges: PurgeStore;
  readonly #matches;
  readonly #maxRow;

  constructor(db: Db, items: ItemsStore, purges: PurgeStore) {
    this.#db = db;
    this.#items = items;
    this.#purges = purges;
    // FTS5 yields matches in rowid order, so the newest N cost N rows whatever the store's size.
    this.#matches = db.prepare<[string, number], { rowid: number }>('SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rowid DESC LIMIT ?');
    this.#maxRow = db.prepare<[], { n: number | null }>('SELECT max(n) AS n FROM memory_items');
  }

  /**
   * Items newest first (by MemoryID), before `beforeId` when paging. At most `scanMax` items are looked at
   * (those the indexes select: the session, the ids, the page's start, `since`, `until`); the other filters (kinds, time) are
   * applied to them, so a filter that matches little costs `scanMax` rows, not the store. `scannedTo` is set
   * when the scan stopped there with fewer than `limit` found: the next page goes on below it.
   */
  list(
    filter: ItemFilter & { ids?: readonly MemoryId[] | undefined },
    limit: number,
    beforeId?: MemoryId,
    scanMax: number = LIST_SCAN_MAX,
  ): { records: MemoryRecord[]; scannedTo: MemoryId | undefined } {
    const scanArgs: (string | number)[] = [];
    const scanned: string[] = [];
    if (filter.sessionKey !== undefined) (scanned.push('session_key = ?'), scanArgs.push(filter.sessionKey));
    if (filter.ids !== undefined) (scanned.push(`id IN (${filter.ids.map(() => '?').join(', ')})`), scanArgs.push(...filter.ids));
    if (beforeId !== undefined) (scanned.push('id < ?'), scanArgs.push(beforeId));
    // Ids are made from createdAt or later: a `since` bounds the scan itself, so a page never goes on below it; an
    // `until` bounds it above, by the largest lead of an id over its createdAt (id-lead.ts).
    if (filter.since !== undefined) (scanned.push('id >= ?'), scanArgs.push(memoryIdFloor(filter.since)));
    if (filter.until !== undefined) (scanned.push('id < ?'), scanArgs.push(memoryIdFloor(filter.until + 1 + this.#items.maxIdLead())));
    // The scan reads only what the filters look at; whole rows are read for the page alone.
    const scan = `SELECT n, id, kind, state, created_at FROM memory_items ${scanned.length === 0 ? '' : `WHERE ${scanned.join(' AND ')}`} ORDER BY id DESC LIMIT ?`;
    const args: (string | number)[] = [...scanArgs, scanMax];
    const clauses = where({ ...filter, sessionKey: undefined }, args);
    // Items of deleted sessions stay hidden until purged (a lookup per row scanned, so only while a purge waits).
    if (this.#purges.pending()) clauses.push(notPurged('r'));
    const sql = `SELECT ${PAGE_COLUMNS} FROM (${scan}) m JOIN memory_items r ON r.n = m.n ${clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`} ORDER BY m.id DESC LIMIT ?`;
    const records = this.#db.prepare<(string | number)[], ItemRow>(sql).all(...args, limit).map(toRecord);
    if (records.length === limit || clauses.length === 0) return { records, scannedTo: undefined };
    // Fewer found than asked: did the scan end at scanMax (more below) or at the end of what the indexes select?
    const edge = this.#db
      .prepare<(string | number)[], { n: number; id: MemoryId | null }>(`SELECT count(*) AS n, min(id) AS id FROM (SELECT id FROM (${scan}))`)
      .get(...scanArgs, scanMax);
    return { records, scannedTo: edge !== undefined && edge.n === scanMax && edge.id !== null ? edge.id : undefined };
  }

  /**
   * Items matching free text, best first: the newest `candidates` matches, ranked by BM25 (bm25.ts) ×
   * the recency boost; the best `top` are returned.
   */
  search(text: string, filter: ItemFilter, rank: RankOptions, top: number = rank.candidates): ScoredRecord[] {
    const terms = queryTerms(text);
    if (terms.length === 0) return [];
    let expression = `text : (${terms.map((term) => `"${term}"`).join(' OR ')})`;
    if (filter.sessionKey !== undefined) {
      const scope = this.#items.existingScope(filter.sessionKey);
      if (scope === undefined) return [];
      expression = `${expression} AND tags : s${scope}`;
    }
    const candidates = this.#matches.all(expression, rank.candidates).map((row) => row.rowid);
    if (candidates.length === 0) return [];
    const args: (string | number)[] = [JSON.stringify(candidates)];
    const clauses = where({ ...filter, sessionKey: undefined }, args);
    // Scoring needs only the text and the time; whole rows are read for the best `top` alone.
    clauses.push(notPurged('m'));
    const sql = `SELECT m.id, m.text, m.created_at FROM memory_items m WHERE m.n IN (SELECT value FROM json_each(?)) AND ${clauses.join(' AND ')}`;
    const rows = this.#db.prepare<(string | number)[], { id: string; text: string; created_at: number }>(sql).all(...args);
    const rowCount = this.#maxRow.get()?.n ?? 0;
    const termIdf = new Map(terms.map((term) => {
      const newest = this.#matches.all(`text : "${term}"`, DF_SAMPLE).map((row) => row.rowid);
      return [term, idf(estimateDf(newest, DF_SAMPLE, rowCount), rowCount)] as const;
    }));
    const scores = bm25Scores(rows.map((row) => tokenize(row.text)), termIdf);
    const best = rows
      .map((row, i) => ({ id: row.id, score: (scores[i] ?? 0) * (1 + 2 ** (-Math.max(0, rank.now - row.created_at) / rank.halfLifeMs)) }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1))
      .slice(0, top);
    const records = new Map(this.#items.many(best.map((hit) => hit.id)).map((record) => [record.id, record]));
    return best.flatMap((hit) => {
      const record = records.get(hit.id);
      return record === undefined ? [] : [{ record, score: hit.score }];
    });
  }
}
