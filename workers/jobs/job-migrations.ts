/**
 * The job table's schema (workers/ owns it, DESIGN.md). It lives in the gateway's one SQLite file, next to
 * memory's tables, and is migrated by memory/db.ts's mechanism into the same `schema_migrations` table.
 * Versions start at 100 so they never collide with memory's numbering. Never edit a shipped migration.
 */
import type { Migration } from '../../memory/migrations.js';

export const JOB_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'workers: jobs, plans, job effects',
    sql: `
      -- One row per job. A plan's task is a job with plan_id set (its id is the taskId).
      CREATE TABLE jobs (
        id              TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        lane            TEXT NOT NULL,
        state           TEXT NOT NULL,              -- pending | running | done | failed | dead
        hold            TEXT,                       -- pending but not runnable: deps | paused | approval | user-input
        attempts        INTEGER NOT NULL DEFAULT 0,
        max_attempts    INTEGER NOT NULL,
        next_run_at     INTEGER NOT NULL,
        last_error      TEXT,
        cancelled       INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT UNIQUE,
        payload         TEXT NOT NULL,
        result          TEXT,
        progress        REAL NOT NULL DEFAULT 0,
        run_id          TEXT,
        session_key     TEXT,
        plan_id         TEXT,
        title           TEXT,
        depends_on      TEXT NOT NULL DEFAULT '[]',
        position        INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        started_at      INTEGER,
        ended_at        INTEGER
      );
      CREATE INDEX jobs_due ON jobs(lane, next_run_at, created_at) WHERE state = 'pending' AND hold IS NULL;
      CREATE INDEX jobs_next ON jobs(next_run_at) WHERE state = 'pending' AND hold IS NULL;
      CREATE INDEX jobs_state_lane ON jobs(state, lane);
      CREATE INDEX jobs_plan ON jobs(plan_id, position) WHERE plan_id IS NOT NULL;
      CREATE INDEX jobs_ended ON jobs(ended_at) WHERE ended_at IS NOT NULL;

      CREATE TABLE plans (
        plan_id     TEXT PRIMARY KEY,
        run_id      TEXT NOT NULL,
        session_key TEXT NOT NULL,
        goal        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX plans_run ON plans(run_id);
      CREATE INDEX plans_created ON plans(created_at);
      CREATE INDEX plans_session ON plans(session_key, created_at);

      -- Side effects done, by idempotency key: written in the same transaction as the effect itself.
      CREATE TABLE job_effects (
        key        TEXT PRIMARY KEY,
        job_id     TEXT NOT NULL,
        result     TEXT,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 101,
    name: 'workers: interim document index (until memory/ document items are bound)',
    sql: `
      CREATE TABLE worker_documents (
        n           INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        session_key TEXT NOT NULL,
        path        TEXT NOT NULL,
        chunk       INTEGER NOT NULL,
        hash        TEXT NOT NULL,
        text        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX worker_documents_place ON worker_documents(session_key, path, chunk);
      CREATE VIRTUAL TABLE worker_documents_fts USING fts5(text, path, content='worker_documents', content_rowid='n');
      CREATE TRIGGER worker_documents_ai AFTER INSERT ON worker_documents BEGIN
        INSERT INTO worker_documents_fts (rowid, text, path) VALUES (new.n, new.text, new.path);
      END;
      CREATE TRIGGER worker_documents_ad AFTER DELETE ON worker_documents BEGIN
        INSERT INTO worker_documents_fts (worker_documents_fts, rowid, text, path) VALUES ('delete', old.n, old.text, old.path);
      END;
      CREATE TRIGGER worker_documents_au AFTER UPDATE OF text, path ON worker_documents BEGIN
        INSERT INTO worker_documents_fts (worker_documents_fts, rowid, text, path) VALUES ('delete', old.n, old.text, old.path);
        INSERT INTO worker_documents_fts (rowid, text, path) VALUES (new.n, new.text, new.path);
      END;
    `,
  },
  {
    version: 102,
    name: 'workers: job counts by state',
    // The metrics' job gauges counted every job kept (7 days by default) at each scrape: 75 ms at 500,000
    // jobs. Triggers keep the counts instead, on every insert, delete and change of state.
    sql: `
      CREATE TABLE job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO job_counts (state, n) SELECT state, count(*) FROM jobs GROUP BY state;
      CREATE TRIGGER jobs_counted AFTER INSERT ON jobs BEGIN
        INSERT INTO job_counts (state, n) VALUES (new.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER jobs_uncounted AFTER DELETE ON jobs BEGIN
        UPDATE job_counts SET n = n - 1 WHERE state = old.state;
      END;
      CREATE TRIGGER jobs_recounted AFTER UPDATE OF state ON jobs WHEN old.state IS NOT new.state BEGIN
        UPDATE job_counts SET n = n - 1 WHERE state = old.state;
        INSERT INTO job_counts (state, n) VALUES (new.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
      END;
    `,
  },
  {
    version: 103,
    name: 'workers: job_effects by age',
    // The hourly prune looked for old effect records by scanning the whole table.
    sql: 'CREATE INDEX job_effects_created ON job_effects(created_at);',
  },
  {
    version: 104,
    name: 'workers: jobs and effects by session',
    // A session deleted with its transcript takes its jobs and their effect records along (JobStore.forgetSession).
    sql: `
      CREATE INDEX jobs_session ON jobs(session_key) WHERE session_key IS NOT NULL;
      CREATE INDEX job_effects_job ON job_effects(job_id);
    `,
  },
];
