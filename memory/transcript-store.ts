/** The `messages` table: every turn of every session, with its MemoryID and per-session sequence. */
import { sqlCount, type Db } from './db.js';
import { newMemoryId } from './ids.js';
import { storedTokens, type ItemsStore } from './items-store.js';
import type { StoredMessage, TranscriptMessage } from './types.js';

interface MessageRow {
  id: string;
  session_key: string;
  session_id: string;
  seq: number;
  body: string;
  run_id: string | null;
  created_at: number;
}

/** Characters of a message kept as the session's `lastMessagePreview`. */
export const PREVIEW_MAX_CHARS = 160;

function toStored(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    sessionKey: row.session_key,
    sessionId: row.session_id,
    seq: row.seq,
    message: JSON.parse(row.body) as TranscriptMessage,
    runId: row.run_id ?? undefined,
    createdAt: row.created_at,
  };
}

export function messageText(message: TranscriptMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

export interface HistoryPage {
  messages: StoredMessage[];
  /** Live messages older than the page exist. */
  more: boolean;
}

export class TranscriptStore {
  readonly #insert;
  readonly #bump;
  readonly #page;
  readonly #after;
  readonly #compactedThrough;
  readonly #live;
  readonly #compactionPoint;
  readonly #stepEnd;
  readonly #hide;
  readonly #advance;
  readonly #upTo;
  readonly #items: ItemsStore | undefined;

  /** With `items`, every user and assistant message with text also becomes a MemoryItem (same MemoryID). */
  constructor(db: Db, items?: ItemsStore) {
    this.#items = items;

    this.#insert = db.prepare(
      'INSERT INTO messages (id, session_key, session_id, seq, role, body, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // Takes the message's seq and updates the session in one statement. A message for an older sessionId (a run
    // cut off by a reset ends after it) takes a seq but does not count in, or preview, the live transcript.
    this.#bump = db.prepare<[number, string, string, string, number, number, string], { seq: number }>(
      `UPDATE sessions SET next_seq = next_seq + 1, updated_at = ?, message_count = message_count + (session_id = ?),
         last_preview = CASE WHEN session_id = ? THEN ? ELSE last_preview END,
         input_tokens = input_tokens + ?, output_tokens = output_tokens + ?
       WHERE key = ? RETURNING next_seq - 1 AS seq`,
    );
    this.#page = db.prepare<[string, string, number, number], MessageRow>(
      'SELECT * FROM messages WHERE session_key = ? AND session_id = ? AND compacted = 0 ORDER BY seq DESC LIMIT ? OFFSET ?',
    );
    this.#after = db.prepare<[string, string, number, number], MessageRow>(
      'SELECT * FROM messages WHERE session_key = ? AND session_id = ? AND compacted = 0 AND seq > ? ORDER BY seq LIMIT ?',
    );
    // Compaction hides a prefix of a session's seqs, up to sessions.compacted_through: the reads below start
    // above it, so their cost follows what is live, not the history.
    this.#compactedThrough = db.prepare<[string, string], { through: number }>(
      'SELECT compacted_through AS through FROM sessions WHERE key = ? AND session_id = ?',
    );
    this.#live = db.prepare<[string, string, number], { n: number }>(
      'SELECT count(*) AS n FROM messages WHERE session_key = ? AND session_id = ? AND compacted = 0 AND seq > ?',
    );
    this.#compactionPoint = db.prepare<[string, string, number, number], { seq: number }>(
      'SELECT seq FROM messages WHERE session_key = ? AND session_id = ? AND compacted = 0 AND seq > ? ORDER BY seq DESC LIMIT 1 OFFSET ?',
    );
    this.#stepEnd = db.prepare<[string, string, number, number, number], { last: number | null }>(
      `SELECT max(seq) AS last FROM (SELECT seq FROM messages WHERE session_key = ? AND session_id = ? AND compacted = 0
         AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?)`,
    );
    this.#hide = db.prepare<[string, string, number, number]>(
      'UPDATE messages SET compacted = 1 WHERE session_key = ? AND session_id = ? AND compacted = 0 AND seq > ? AND seq <= ?',
    );
    this.#advance = db.prepare<[number, string, string]>(
      'UPDATE sessions SET compacted_through = max(compacted_through, ?) WHERE key = ? AND session_id = ?',
    );
    this.#upTo = db.prepare<[string, string, number, number], MessageRow>(
      'SELECT * FROM messages WHERE session_key = ? AND session_id = ? AND compacted = 0 AND seq <= ? ORDER BY seq DESC LIMIT ?',
    );
  }

  /** Appends a message; the session row must exist. Call inside a transaction with related writes. */
  append(sessionKey: string, sessionId: string, message: TranscriptMessage, runId: string | undefined): StoredMessage {
    const stored = this.appendIfSession(sessionKey, sessionId, message, runId);
    if (stored === undefined) throw new Error(`append to unknown session ${sessionKey}`);
    return stored;
  }

  /**
   * Appends a message when the session still exists (undefined otherwise: deleted while a run went on), adding
   * `tokens` to the session's counters in the same statement.
   */
  appendIfSession(
    sessionKey: string,
    sessionId: string,
    message: TranscriptMessage,
    runId: string | undefined,
    tokens: { input: number; output: number } = { input: 0, output: 0 },
  ): StoredMessage | undefined {
    const text = messageText(message);
    const seq = this.#bump.get(message.timestamp, sessionId, sessionId, text.slice(0, PREVIEW_MAX_CHARS), tokens.input, tokens.output, sessionKey)?.seq;
    if (seq === undefined) return undefined;
    const id = newMemoryId(message.timestamp);
    this.#insert.run(id, sessionKey, sessionId, seq, message.role, JSON.stringify(message), runId ?? null, message.timestamp);
    const itemTokens = this.#indexTurn(id, sessionKey, sessionId, message, text);
    return { id, sessionKey, sessionId, seq, message, runId, createdAt: message.timestamp, ...(itemTokens === undefined ? {} : { tokens: itemTokens }) };
  }

  /** The message's MemoryItem (active: it enters the session's context), when memory is on and it has text. */
  #indexTurn(id: string, sessionKey: string, sessionId: string, message: TranscriptMessage, text: string): number | undefined {
    if (this.#items === undefined || text === '' || (message.role !== 'user' && message.role !== 'assistant')) return undefined;
    const tokens = storedTokens(text);
    this.#items.insert({
      id,
      sessionKey,
      sessionId,
      kind: 'turn',
      role: message.role,
      text,
      tokens,
      state: 'active',
      createdAt: message.timestamp,
      updatedAt: message.timestamp,
      summarizedBy: undefined,
      summaryOf: undefined,
      document: undefined,
    });
    return tokens;
  }

  /**
   * The newest `limit` messages after skipping `offset` newest ones, returned oldest first. Reads one row more
   * to tell whether older ones exist: its cost follows `offset + limit`, not the length of the history.
   */
  page(sessionKey: string, sessionId: string, limit: number, offset: number): HistoryPage {
    const rows = this.#page.all(sessionKey, sessionId, sqlCount(limit + 1), sqlCount(offset));
    const more = rows.length > limit;
    if (more) rows.pop();
    return { messages: rows.reverse().map(toStored), more };
  }

  /** Live (non-compacted) messages of the session id in all: reads those above the last compaction. */
  count(sessionKey: string, sessionId: string): number {
    return this.#live.get(sessionKey, sessionId, this.#through(sessionKey, sessionId))?.n ?? 0;
  }

  /** Messages with seq greater than `afterSeq`, oldest first. */
  after(sessionKey: string, sessionId: string, afterSeq: number, limit: number): StoredMessage[] {
    return this.#after.all(sessionKey, sessionId, afterSeq, limit).map(toStored);
  }

  /** The newest `limit` live messages with seq up to `maxSeq`, oldest first: a turn's view of its past. */
  upTo(sessionKey: string, sessionId: string, maxSeq: number, limit: number): StoredMessage[] {
    return this.#upTo.all(sessionKey, sessionId, maxSeq, limit).reverse().map(toStored);
  }

  /**
   * Where hiding all but the newest `keep` live messages ends: the seq of the newest one to hide, undefined when
   * there are `keep` or fewer. Reads `keep + 1` messages.
   */
  compactionPoint(sessionKey: string, sessionId: string, keep: number): number | undefined {
    return this.#compactionPoint.get(sessionKey, sessionId, this.#through(sessionKey, sessionId), keep)?.seq;
  }

  /**
   * Hides the oldest `max` live messages up to seq `through` (from `compactionPoint`), oldest first, so what
   * is hidden stays a prefix; returns how many. Call in a transaction; repeat until it returns less than `max`.
   */
  compactStep(sessionKey: string, sessionId: string, through: number, max: number): number {
    const from = this.#through(sessionKey, sessionId);
    const last = this.#stepEnd.get(sessionKey, sessionId, from, through, max)?.last ?? null;
    if (last === null) return 0;
    const hidden = this.#hide.run(sessionKey, sessionId, from, last).changes;
    this.#advance.run(last, sessionKey, sessionId);
    return hidden;
  }

  /**
   * The last seq a compaction of the session hid. It holds for the session's current sessionId (whose messages
   * all came after the previous ids' compactions); for an older sessionId, 0: its messages are read from the start.
   */
  #through(sessionKey: string, sessionId: string): number {
    return this.#compactedThrough.get(sessionKey, sessionId)?.through ?? 0;
  }
}
