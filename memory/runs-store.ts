/**
 * The `runs` table: one row per run, written when the turn is accepted (`queued`) and when it ends. That a run
 * is streaming lives in RAM only: a crash ends queued and running runs alike (`interrupted`), so persisting
 * the start would cost a commit per turn and tell nothing; `started_at` is recorded with the ending.
 */
import type { Db } from './db.js';
import type { RunKind, RunRecord, RunStatus } from './types.js';

interface RunRow {
  run_id: string;
  session_key: string;
  session_id: string;
  agent_id: string;
  kind: string;
  status: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
  error_kind: string | null;
  stop_reason: string | null;
  usage: string | null;
}

function toRecord(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    sessionKey: row.session_key,
    sessionId: row.session_id,
    agentId: row.agent_id,
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    endedAt: row.ended_at ?? undefined,
    error: row.error ?? undefined,
    errorKind: row.error_kind ?? undefined,
    stopReason: row.stop_reason ?? undefined,
    usage: row.usage === null ? undefined : (JSON.parse(row.usage) as RunRecord['usage']),
  };
}

export interface RunEnd {
  status: Exclude<RunStatus, 'queued' | 'running'>;
  /** When the run started streaming; absent for a run that never started. */
  startedAt?: number | undefined;
  endedAt: number;
  error?: string;
  errorKind?: string;
  stopReason?: string;
  usage?: RunRecord['usage'];
}

export class RunsStore {
  readonly #insert;
  readonly #get;
  readonly #end;
  readonly #open;

  constructor(db: Db) {
    // runId = idempotencyKey: once a key's record has expired the key is a new request, and its ended run
    // row is replaced. An open run is never replaced (its key cannot have expired: in-flight records don't).
    this.#insert = db.prepare(
      `INSERT INTO runs (run_id, session_key, session_id, agent_id, kind, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'queued', ?)
       ON CONFLICT(run_id) DO UPDATE SET session_key = excluded.session_key, session_id = excluded.session_id,
         agent_id = excluded.agent_id, kind = excluded.kind, status = 'queued', created_at = excluded.created_at,
         started_at = NULL, ended_at = NULL, error = NULL, error_kind = NULL, stop_reason = NULL, usage = NULL
       WHERE runs.status NOT IN ('queued', 'running')`,
    );
    this.#get = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE run_id = ?');
    this.#end = db.prepare(
      `UPDATE runs SET status = ?, started_at = coalesce(?, started_at), ended_at = ?, error = ?, error_kind = ?,
         stop_reason = ?, usage = ? WHERE run_id = ? AND status IN ('queued', 'running')`,
    );
    this.#open = db.prepare<[], RunRow>("SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY created_at");
  }

  /** Adds a queued run; replaces an ended run with the same id; throws when that run is still open. */
  insert(run: Pick<RunRecord, 'runId' | 'sessionKey' | 'sessionId' | 'agentId' | 'kind' | 'createdAt'>): void {
    const { changes } = this.#insert.run(run.runId, run.sessionKey, run.sessionId, run.agentId, run.kind, run.createdAt);
    if (changes === 0) throw new Error(`run ${run.runId} is still open`);
  }

  get(runId: string): RunRecord | undefined {
    const row = this.#get.get(runId);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Records the terminal status; a run that already ended keeps its first ending. */
  end(runId: string, end: RunEnd): boolean {
    const usage = end.usage === undefined ? null : JSON.stringify(end.usage);
    return (
      this.#end.run(end.status, end.startedAt ?? null, end.endedAt, end.error ?? null, end.errorKind ?? null, end.stopReason ?? null, usage, runId)
        .changes > 0
    );
  }

  /** Runs not yet ended, oldest first (after a crash: the ones to mark interrupted). */
  open(): RunRecord[] {
    return this.#open.all().map(toRecord);
  }
}
