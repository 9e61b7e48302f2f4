/** The `sessions` table: one row per canonical session key. */
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { sqlCount, type Db } from './db.js';
import type { SessionRecord, SessionSettings } from './types.js';

interface SessionRow {
  key: string;
  agent_id: string;
  session_id: string;
  created_at: number;
  updated_at: number;
  settings: string;
  input_tokens: number;
  output_tokens: number;
  message_count: number;
  last_preview: string | null;
}

export interface SessionListQuery {
  limit: number;
  offset: number;
  agentId?: string;
  label?: string;
  search?: string;
  /** true: only archived; false: only not archived; undefined: not archived. */
  archived?: boolean;
  updatedSince?: number;
  /** Only these keys (e.g. the sessions with an open run); empty matches nothing. */
  keys?: readonly string[];
}

/** A settings change; `null` clears a field. */
export type SettingsPatch = { [K in keyof SessionSettings]?: SessionSettings[K] | null };

function toRecord(row: SessionRow): SessionRecord {
  return {
    key: row.key,
    agentId: row.agent_id,
    sessionId: row.session_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    settings: JSON.parse(row.settings) as SessionSettings,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    messageCount: row.message_count,
    lastPreview: row.last_preview ?? undefined,
  };
}

/** A session as the health snapshot lists it. */
export interface RecentSession {
  key: string;
  sessionId: string;
  updatedAt: number;
}

export class SessionsStore {
  readonly #get;
  readonly #insert;
  readonly #setSettings;
  readonly #reset;
  readonly #delete;
  readonly #addTokens;
  readonly #count;
  readonly #counted;
  readonly #recent = new Map<number, Statement<[], RecentSession>>();
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.#get = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE key = ?');
    // A key used before may still have messages (a delete that kept its transcript, or whose purge is under
    // way): the new session's seqs go on after them, as the (session_key, seq) uniqueness needs, and its
    // compactions start there.
    this.#insert = db.prepare<[{ key: string; agentId: string; sessionId: string; now: number }]>(
      `INSERT INTO sessions (key, agent_id, session_id, created_at, updated_at, next_seq, compacted_through)
       SELECT @key, @agentId, @sessionId, @now, @now, last + 1, last
       FROM (SELECT coalesce(max(seq), 0) AS last FROM messages WHERE session_key = @key)`,
    );
    this.#setSettings = db.prepare('UPDATE sessions SET settings = ?, updated_at = ? WHERE key = ?');
    this.#reset = db.prepare(
      'UPDATE sessions SET session_id = ?, updated_at = ?, message_count = 0, last_preview = NULL, input_tokens = 0, output_tokens = 0 WHERE key = ?',
    );
    this.#delete = db.prepare('DELETE FROM sessions WHERE key = ?');
    this.#count = db.prepare<[], { n: number }>('SELECT coalesce(sum(n), 0) AS n FROM session_counts');
    this.#counted = db.prepare<[{ archived: number; agentId: string | null }], { n: number }>(
      'SELECT coalesce(sum(n), 0) AS n FROM session_counts WHERE archived = @archived AND (@agentId IS NULL OR agent_id = @agentId)',
    );
    this.#addTokens = db.prepare(
      'UPDATE sessions SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ? WHERE key = ?',
    );
  }

  /** Sessions in all, archived ones too (counts kept by triggers: no scan). */
  count(): number {
    return this.#count.get()?.n ?? 0;
  }

  /**
   * The most recently updated sessions that are not archived, as the health snapshot (every hello-ok) shows them:
   * 16 µs for 5 of 100, against 79 µs for whole records read with a bound LIMIT.
   */
  recent(limit: number): RecentSession[] {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`bad limit ${limit}`);
    // The limit is written into the statement, one per limit asked for: SQLite (3.53) plans a statement whose
    // LIMIT is a bound value again at every run (25 µs a run here, 3 µs with the number written in).
    let statement = this.#recent.get(limit);
    if (statement === undefined) {
      statement = this.#db.prepare<[], RecentSession>(
        `SELECT key, session_id AS sessionId, updated_at AS updatedAt FROM sessions WHERE archived = 0 ORDER BY updated_at DESC, key LIMIT ${limit}`,
      );
      this.#recent.set(limit, statement);
    }
    return statement.all();
  }

  get(key: string): SessionRecord | undefined {
    const row = this.#get.get(key);
    return row === undefined ? undefined : toRecord(row);
  }

  /** The session, created (with a fresh sessionId) when it does not exist yet. */
  ensure(key: string, agentId: string, now: number): { session: SessionRecord; created: boolean } {
    const existing = this.get(key);
    if (existing !== undefined) return { session: existing, created: false };
    this.#insert.run({ key, agentId, sessionId: randomUUID(), now });
    return { session: this.get(key) as SessionRecord, created: true };
  }

  list(query: SessionListQuery): { rows: SessionRecord[]; total: number } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.agentId !== undefined) (where.push('agent_id = ?'), args.push(query.agentId));
    if (query.updatedSince !== undefined) (where.push('updated_at >= ?'), args.push(query.updatedSince));
    if (query.keys !== undefined) (where.push(query.keys.length === 0 ? '0' : `key IN (${query.keys.map(() => '?').join(', ')})`), args.push(...query.keys));
    if (query.label !== undefined) (where.push("json_extract(settings, '$.label') = ?"), args.push(query.label));
    if (query.search !== undefined && query.search !== '') {
      // A substring, case-insensitive in ASCII as LIKE is, with no pattern to escape: LIKE refuses patterns past
      // 50,000 bytes, and a search is any string a client sends.
      where.push("(instr(lower(key), lower(?)) > 0 OR instr(lower(json_extract(settings, '$.label')), lower(?)) > 0)");
      args.push(query.search, query.search);
    }
    where.push(query.archived === true ? 'archived = 1' : 'archived = 0');
    const clause = `WHERE ${where.join(' AND ')}`;
    // Filtered by agent and archived only (what the UIs ask): the kept counts; anything else is counted.
    const countedOnly = query.updatedSince === undefined && query.keys === undefined && query.label === undefined && (query.search ?? '') === '';
    const total = countedOnly
      ? (this.#counted.get({ archived: query.archived === true ? 1 : 0, agentId: query.agentId ?? null })?.n ?? 0)
      : (this.#db.prepare(`SELECT count(*) AS n FROM sessions ${clause}`).get(...args) as { n: number }).n;
    const rows = this.#db
      .prepare<(string | number)[], SessionRow>(`SELECT * FROM sessions ${clause} ORDER BY updated_at DESC, key LIMIT ? OFFSET ?`)
      .all(...args, sqlCount(query.limit), sqlCount(query.offset));
    return { rows: rows.map(toRecord), total };
  }

  patchSettings(key: string, patch: SettingsPatch, now: number): SessionRecord | undefined {
    const current = this.get(key);
    if (current === undefined) return undefined;
    const next: Record<string, unknown> = { ...current.settings };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete next[field];
      else if (value !== undefined) next[field] = value;
    }
    this.#setSettings.run(JSON.stringify(next), now, key);
    return this.get(key);
  }

  /** A new sessionId: the live transcript starts empty; the old messages stay stored under the old id. */
  reset(key: string, now: number): SessionRecord | undefined {
    this.#reset.run(randomUUID(), now, key);
    return this.get(key);
  }

  delete(key: string): boolean {
    return this.#delete.run(key).changes > 0;
  }

  addTokens(key: string, input: number, output: number): void {
    this.#addTokens.run(input, output, key);
  }
}
