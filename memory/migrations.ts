/**
 * Numbered schema migrations, applied in order at open, each in its own transaction. Never edit a migration
 * that has shipped; add a new one.
 */
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
];
