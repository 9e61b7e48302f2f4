/**
 * `ram_snapshots` (each session's active context: item ids in context order, written in batches by the
 * batch writer, never once per turn) and `events` (the per-session ordered log of memory operations).
 */
import type { Db } from './db.js';
import type { MemoryId } from './ids.js';
import { newMemoryId } from './ids.js';

export interface RamSnapshot {
  sessionKey: string;
  sessionId: string;
  /** Ids of the context's items in context order. */
  itemIds: MemoryId[];
  /** The newest MemoryID the context had seen when the snapshot was taken. */
  highWater: MemoryId;
  tokens: number;
  updatedAt: number;
}

export interface MemoryEventRecord {
  sessionKey: string;
  op: string;
  ids: readonly MemoryId[];
  summaryId?: MemoryId | undefined;
  reason?: string | undefined;
  /** Who caused it (connection and client for wire requests; `memory-manager`, `retention`, ...). */
  actor?: string | undefined;
  ts: number;
}

interface SnapshotRow {
  session_key: string;
  session_id: string;
  item_ids: string;
  high_water: string;
  tokens: number;
  updated_at: number;
}

export class SnapshotStore {
  readonly #get;
  readonly #put;
  readonly #delete;
  readonly #event;
  readonly #deleteEvents;

  constructor(db: Db) {
    this.#get = db.prepare<[string], SnapshotRow>('SELECT * FROM ram_snapshots WHERE session_key = ?');
    this.#put = db.prepare(
      `INSERT INTO ram_snapshots (session_key, session_id, item_ids, high_water, tokens, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(session_key) DO UPDATE SET session_id = excluded.session_id, item_ids = excluded.item_ids,
         high_water = excluded.high_water, tokens = excluded.tokens, updated_at = excluded.updated_at`,
    );
    this.#delete = db.prepare('DELETE FROM ram_snapshots WHERE session_key = ?');
    this.#event = db.prepare('INSERT INTO events (id, session_key, op, ids, summary_id, reason, actor, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#deleteEvents = db.prepare('DELETE FROM events WHERE session_key = ?');
  }

  get(sessionKey: string): RamSnapshot | undefined {
    const row = this.#get.get(sessionKey);
    if (row === undefined) return undefined;
    return {
      sessionKey: row.session_key,
      sessionId: row.session_id,
      itemIds: JSON.parse(row.item_ids) as MemoryId[],
      highWater: row.high_water,
      tokens: row.tokens,
      updatedAt: row.updated_at,
    };
  }

  put(snapshot: RamSnapshot): void {
    this.#put.run(snapshot.sessionKey, snapshot.sessionId, JSON.stringify(snapshot.itemIds), snapshot.highWater, snapshot.tokens, snapshot.updatedAt);
  }

  delete(sessionKey: string): void {
    this.#delete.run(sessionKey);
    this.#deleteEvents.run(sessionKey);
  }

  /** Appends to the session's event log. */
  logEvent(event: MemoryEventRecord): void {
    this.#event.run(newMemoryId(event.ts), event.sessionKey, event.op, JSON.stringify(event.ids), event.summaryId ?? null, event.reason ?? null, event.actor ?? null, event.ts);
  }
}
