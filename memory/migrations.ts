/**
 * Numbered schema migrations, applied in order at open, each in its own transaction. Never edit a migration
 * that has shipped; add a new one.
 */
import { memoryIdTimeSql } from './ids.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, transcript, runs, idempotency',
    sql: `
      CREATE TABLE sessions (
        key           TEXT PRIMARY KEY,
        agent_id      TEXT NOT NULL,
        session_id    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        settings      TEXT NOT NULL DEFAULT '{}',
        input_tokens  INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0,
        next_seq      INTEGER NOT NULL DEFAULT 1,
        last_preview  TEXT
      );
      CREATE INDEX sessions_updated ON sessions(updated_at DESC);

      CREATE TABLE messages (
        id          TEXT PRIMARY KEY,
        session_key TEXT NOT NULL,
        session_id  TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        role        TEXT NOT NULL,
        body        TEXT NOT NULL,
        run_id      TEXT,
        created_at  INTEGER NOT NULL,
        compacted   INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX messages_session_seq ON messages(session_key, seq);
      CREATE INDEX messages_run ON messages(run_id);

      CREATE TABLE runs (
        run_id      TEXT PRIMARY KEY,
        session_key TEXT NOT NULL,
        session_id  TEXT NOT NULL,
        agent_id    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        status      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        started_at  INTEGER,
        ended_at    INTEGER,
        error       TEXT,
        error_kind  TEXT,
        stop_reason TEXT,
        usage       TEXT
      );
      CREATE INDEX runs_open ON runs(status) WHERE status IN ('queued', 'running');
      CREATE INDEX runs_session ON runs(session_key, created_at);

      CREATE TABLE idempotency (
        key          TEXT PRIMARY KEY,
        method       TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        run_id       TEXT NOT NULL,
        status       TEXT NOT NULL,
        response     TEXT,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER
      );
      CREATE INDEX idempotency_expires ON idempotency(expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'memory: items, scopes, full-text index, summaries, RAM snapshots, events',
    sql: `
      -- One small integer per session key, so the full-text index can filter by session with one token.
      CREATE TABLE memory_scopes (
        scope       INTEGER PRIMARY KEY,
        session_key TEXT NOT NULL UNIQUE
      );

      -- Every MemoryItem: turns (same MemoryID as the transcript row), summaries, document chunks.
      -- n is the full-text index's rowid; id is the MemoryID everyone else uses.
      CREATE TABLE memory_items (
        n             INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        session_key   TEXT NOT NULL,
        session_id    TEXT NOT NULL,
        scope         INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        role          TEXT,
        text          TEXT NOT NULL,
        tokens        INTEGER, -- NULL: not counted (text longer than the counting cap)
        state         TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        summarized_by TEXT,
        summary_of    TEXT,
        doc_path      TEXT,
        doc_chunk     INTEGER,
        doc_hash      TEXT,
        anchor        TEXT -- place in the context (a summary's: its first source's); NULL means the id
      );
      CREATE INDEX memory_items_session ON memory_items(session_key, id);
      CREATE INDEX memory_items_created ON memory_items(created_at);
      CREATE INDEX memory_items_summarized_by ON memory_items(summarized_by) WHERE summarized_by IS NOT NULL;
      CREATE UNIQUE INDEX memory_items_document ON memory_items(session_key, doc_path, doc_chunk) WHERE kind = 'document';

      -- Contentless: the text lives in memory_items only (its first 65,536 characters are indexed); tags hold
      -- s<scope> so one MATCH filters by session. State and kind are filtered on memory_items, so a state
      -- change (evict, summarize) never touches the index. New rows are indexed in batches (index-store.ts),
      -- not in the turn's transaction: memory_index_state.last_n is the newest row indexed; the triggers
      -- keep already indexed rows in step when their text changes or they are deleted.
      CREATE VIRTUAL TABLE memory_fts USING fts5(text, tags, content='', contentless_delete=1);
      CREATE TABLE memory_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_n INTEGER NOT NULL);
      INSERT INTO memory_index_state (id, last_n) VALUES (1, 0);
      CREATE TRIGGER memory_items_fts_update AFTER UPDATE OF text, scope ON memory_items
      WHEN old.n <= (SELECT last_n FROM memory_index_state WHERE id = 1) BEGIN
        DELETE FROM memory_fts WHERE rowid = old.n;
        INSERT INTO memory_fts (rowid, text, tags) VALUES (new.n, substr(new.text, 1, 65536), 's' || new.scope);
      END;
      CREATE TRIGGER memory_items_fts_delete AFTER DELETE ON memory_items
      WHEN old.n <= (SELECT last_n FROM memory_index_state WHERE id = 1) BEGIN
        DELETE FROM memory_fts WHERE rowid = old.n;
      END;

      -- How each summary was made and of what (its text is the summary's memory_items row).
      CREATE TABLE summaries (
        id          TEXT PRIMARY KEY,
        session_key TEXT NOT NULL,
        source_ids  TEXT NOT NULL,
        method      TEXT NOT NULL,
        model       TEXT,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX summaries_session ON summaries(session_key, created_at);

      -- The active context of each session: item ids in context order, written in batches off the hot path.
      CREATE TABLE ram_snapshots (
        session_key TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL,
        item_ids    TEXT NOT NULL,
        high_water  TEXT NOT NULL,
        tokens      INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );

      -- The per-session ordered log of memory operations (what memory.event announced).
      CREATE TABLE events (
        id          TEXT PRIMARY KEY,
        session_key TEXT NOT NULL,
        op          TEXT NOT NULL,
        ids         TEXT NOT NULL,
        summary_id  TEXT,
        reason      TEXT,
        actor       TEXT,
        ts          INTEGER NOT NULL
      );
      CREATE INDEX events_session ON events(session_key, id);
    `,
  },
  {
    version: 3,
    name: 'drop messages_run',
    // Nothing looks messages up by run: the index cost a write to a random page of its b-tree on every message
    // (run ids are the clients' idempotency keys), one of the ~11 pages a turn writes.
    sql: 'DROP INDEX messages_run;',
  },
  {
    version: 4,
    name: 'memory_items_expirable',
    // What retention may purge, by the time it left the context: without it each pass walked every older
    // item (forgotten tombstones, items of the other kind, items still active) before finding one. Only
    // evictions and summaries write it, in the memory batches; a turn's own commit does not.
    sql: "CREATE INDEX memory_items_expirable ON memory_items(kind, updated_at) WHERE state IN ('evicted', 'summarized');",
  },
  {
    version: 5,
    name: 'sessions_live, sessions_agent, session_counts',
    // sessions.list filtered archived sessions out with json_extract on every row, counted them the same way
    // and, by agent (the TUI's first list), sorted them all: O(sessions) per call. `archived` is a column
    // now (generated from settings), in indexes that give both filters and the list's order, and triggers
    // keep the counts by agent and archived (the list's totalCount, the health snapshot's count in every
    // hello-ok) — they fire when a session is made, deleted or (un)archived, never on a turn. updated_at moves
    // with every message, so sessions_updated gives way to these rather than being a third index to update.
    sql: `
      ALTER TABLE sessions ADD COLUMN archived INTEGER GENERATED ALWAYS AS (coalesce(json_extract(settings, '$.archived'), 0)) VIRTUAL;
      CREATE INDEX sessions_live ON sessions(archived, updated_at DESC, key);
      CREATE INDEX sessions_agent ON sessions(agent_id, archived, updated_at DESC, key);
      DROP INDEX sessions_updated;
      CREATE TABLE session_counts (
        agent_id TEXT NOT NULL,
        archived INTEGER NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (agent_id, archived)
      ) WITHOUT ROWID;
      INSERT INTO session_counts (agent_id, archived, n) SELECT agent_id, archived, count(*) FROM sessions GROUP BY agent_id, archived;
      CREATE TRIGGER sessions_counted AFTER INSERT ON sessions BEGIN
        INSERT INTO session_counts (agent_id, archived, n) VALUES (new.agent_id, new.archived, 1)
          ON CONFLICT (agent_id, archived) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER sessions_uncounted AFTER DELETE ON sessions BEGIN
        UPDATE session_counts SET n = n - 1 WHERE agent_id = old.agent_id AND archived = old.archived;
      END;
      CREATE TRIGGER sessions_recounted AFTER UPDATE OF settings, agent_id ON sessions
      WHEN old.archived IS NOT new.archived OR old.agent_id IS NOT new.agent_id BEGIN
        UPDATE session_counts SET n = n - 1 WHERE agent_id = old.agent_id AND archived = old.archived;
        INSERT INTO session_counts (agent_id, archived, n) VALUES (new.agent_id, new.archived, 1)
          ON CONFLICT (agent_id, archived) DO UPDATE SET n = n + 1;
      END;
    `,
  },
  {
    version: 6,
    name: 'memory_items_fts_delete keeps last_n below reusable rowids',
    // memory_items.n is a plain rowid: when the newest rows are deleted (sessions.delete of the latest
    // session), the next inserts take the same n again. Those were at or below last_n, so the catch-up took
    // them for indexed and recall never found them. Deleting at or above last_n now lowers it to the
    // highest n left, so a reused n is above it again. One trigger: the index row must go first, while
    // old.n is still at or below last_n.
    sql: `
      DROP TRIGGER memory_items_fts_delete;
      CREATE TRIGGER memory_items_fts_delete AFTER DELETE ON memory_items BEGIN
        DELETE FROM memory_fts WHERE rowid = old.n AND old.n <= (SELECT last_n FROM memory_index_state WHERE id = 1);
        UPDATE memory_index_state SET last_n = min(last_n, (SELECT coalesce(max(n), 0) FROM memory_items))
        WHERE id = 1 AND old.n >= last_n;
      END;
      UPDATE memory_index_state SET last_n = min(last_n, (SELECT coalesce(max(n), 0) FROM memory_items)) WHERE id = 1;
    `,
  },
  {
    version: 7,
    name: 'purges',
    // Sessions deleted with their transcript whose rows are still being removed, with the bounds of what
    // existed at the delete (purge-store.ts): one row per key, a later delete of the key raises the bounds.
    sql: `
      CREATE TABLE purges (
        session_key  TEXT PRIMARY KEY,
        below_seq    INTEGER NOT NULL,
        through_id   TEXT NOT NULL,
        requested_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'memory_fts: no delete-merge, no index row for emptied text',
    // Two stalls of the event loop when many items lose their text (a deleted session's purge, a retention
    // pass, memory.forget), measured at 0.5-4 s on a 300,000-item store:
    // - FTS5 (contentless_delete) rewrote a whole level of the index in the statement that took its deleted
    //   entries past 'deletemerge' percent (default 10). Off: a deleted entry is skipped through its tombstone
    //   until the ordinary incremental merges rewrite its segment (the index holds it until then).
    // - A forgotten item's text becomes '', and the update trigger still inserted an index row for it (its
    //   tag alone): a new level-0 segment per batch, and the merges that follow. Emptied text gets no row.
    sql: `
      INSERT INTO memory_fts (memory_fts, rank) VALUES ('deletemerge', 0);
      DROP TRIGGER memory_items_fts_update;
      CREATE TRIGGER memory_items_fts_update AFTER UPDATE OF text, scope ON memory_items
      WHEN old.n <= (SELECT last_n FROM memory_index_state WHERE id = 1) BEGIN
        DELETE FROM memory_fts WHERE rowid = old.n;
        INSERT INTO memory_fts (rowid, text, tags) SELECT new.n, substr(new.text, 1, 65536), 's' || new.scope WHERE new.text != '';
      END;
    `,
  },
  {
    version: 9,
    name: 'sessions.compacted_through',
    // sessions.compact found what to hide, and counted what was left, by walking every message of the session
    // from its first, compacted ones included (42 ms with nothing to do at 50,000 messages). Compaction hides a
    // prefix of the session's seqs: this is where it ends, so a compaction reads only what is above it.
    // Seqs only grow under a key, so a reset (new sessionId) keeps it; a new session starts it below its first seq.
    sql: 'ALTER TABLE sessions ADD COLUMN compacted_through INTEGER NOT NULL DEFAULT 0;',
  },
  {
    version: 10,
    name: 'runs left by deleted sessions',
    // Every run stores its user message in the transaction that creates it, so a run no message refers to is
    // what a delete left: deletes before this release removed a session's messages, or purged them, without its
    // runs. The index on messages.run_id exists for this statement only (one pass, not a scan of the key's
    // messages per run): 1.7 s once for 950,000 messages and 600,000 runs.
    sql: `
      CREATE INDEX messages_run_once ON messages(run_id, session_key, session_id);
      DELETE FROM runs WHERE NOT EXISTS (
        SELECT 1 FROM messages m WHERE m.run_id = runs.run_id AND m.session_key = runs.session_key AND m.session_id = runs.session_id
      );
      DROP INDEX messages_run_once;
    `,
  },
  {
    version: 11,
    name: 'full-text scopes left by deleted sessions',
    // A purge now removes its key's scope once no item of the key is left; the purges of earlier releases kept
    // it, the session key's name and all. A scope with no items is dropped: a live session without items gets
    // one again with its first item.
    sql: 'DELETE FROM memory_scopes WHERE NOT EXISTS (SELECT 1 FROM memory_items m WHERE m.session_key = memory_scopes.session_key);',
  },
  {
    version: 12,
    name: 'memory_index_state.max_id_lead',
    // The largest lead of an item's MemoryID over its createdAt (memory/id-lead.ts keeps it from now on), so that
    // memory.query's `until` bounds its scan of ids from above as `since` does from below. The first pass reads
    // every item (4.6 s for 2,000,000).
    sql: `
      ALTER TABLE memory_index_state ADD COLUMN max_id_lead INTEGER NOT NULL DEFAULT 0;
      UPDATE memory_index_state SET max_id_lead = (SELECT max(0, coalesce(max(${memoryIdTimeSql('id')} - created_at), 0)) FROM memory_items) WHERE id = 1;
    `,
  },
];
