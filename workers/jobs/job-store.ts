/**
 * The durable job table: typed functions over prepared statements, one synchronous transaction per change.
 * Every state change is guarded by the state it comes from, so a late or repeated call changes nothing and
 * says so (returns false).
 */
import { transactionRunner, type Db, type TransactionRunner } from '../../memory/db.js';
import type { JobHold, JobRecord, JobState, NewJob, PlanRecord } from './job-types.js';

interface JobRow {
  id: string;
  kind: string;
  lane: string;
  state: string;
  hold: string | null;
  attempts: number;
  max_attempts: number;
  next_run_at: number;
  last_error: string | null;
  cancelled: number;
  idempotency_key: string | null;
  payload: string;
  result: string | null;
  progress: number;
  run_id: string | null;
  session_key: string | null;
  plan_id: string | null;
  title: string | null;
  depends_on: string;
  position: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  ended_at: number | null;
}

interface PlanRow {
  plan_id: string;
  run_id: string;
  session_key: string;
  goal: string;
  created_at: number;
}

function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    lane: row.lane,
    state: row.state as JobState,
    hold: (row.hold ?? undefined) as JobHold | undefined,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    nextRunAt: row.next_run_at,
    lastError: row.last_error ?? undefined,
    cancelled: row.cancelled === 1,
    idempotencyKey: row.idempotency_key ?? undefined,
    payload: JSON.parse(row.payload) as unknown,
    result: row.result === null ? undefined : (JSON.parse(row.result) as unknown),
    progress: row.progress,
    runId: row.run_id ?? undefined,
    sessionKey: row.session_key ?? undefined,
    planId: row.plan_id ?? undefined,
    title: row.title ?? undefined,
    dependsOn: JSON.parse(row.depends_on) as string[],
    position: row.position,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at ?? undefined,
    endedAt: row.ended_at ?? undefined,
  };
}

function toPlan(row: PlanRow): PlanRecord {
  return { planId: row.plan_id, runId: row.run_id, sessionKey: row.session_key, goal: row.goal, createdAt: row.created_at };
}

/** The message a job is left with when the process stopped during its attempt. */
export const INTERRUPTED_ATTEMPT = 'interrupted: the gateway stopped during this attempt';

export class JobStore {
  readonly #transaction: TransactionRunner;
  readonly #s;

  constructor(db: Db) {
    this.#transaction = transactionRunner(db);
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.#s = {
      insert: p(`INSERT INTO jobs (id, kind, lane, state, hold, max_attempts, next_run_at, idempotency_key, payload, run_id,
          session_key, plan_id, title, depends_on, position, created_at, updated_at)
        VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING`),
      byKey: p<JobRow>('SELECT * FROM jobs WHERE idempotency_key = ?'),
      get: p<JobRow>('SELECT * FROM jobs WHERE id = ?'),
      byPlan: p<JobRow>('SELECT * FROM jobs WHERE plan_id = ? ORDER BY position'),
      insertPlan: p('INSERT INTO plans (plan_id, run_id, session_key, goal, created_at) VALUES (?, ?, ?, ?, ?)'),
      plan: p<PlanRow>('SELECT * FROM plans WHERE plan_id = ?'),
      plansOfRun: p<PlanRow>('SELECT * FROM plans WHERE run_id = ? ORDER BY created_at DESC'),
      recentPlans: p<PlanRow>('SELECT * FROM plans ORDER BY created_at DESC LIMIT ?'),
      recentPlansOf: p<PlanRow>('SELECT * FROM plans WHERE session_key = ? ORDER BY created_at DESC LIMIT ?'),
      claim: p(`UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ?
        WHERE id = ? AND state = 'pending' AND hold IS NULL`),
      complete: p(`UPDATE jobs SET state = 'done', result = ?, progress = 1, last_error = NULL, ended_at = ?, updated_at = ?
        WHERE id = ? AND state = 'running'`),
      retryLater: p(`UPDATE jobs SET state = 'pending', last_error = ?, next_run_at = ?, updated_at = ? WHERE id = ? AND state = 'running'`),
      kill: p(`UPDATE jobs SET state = 'dead', last_error = ?, ended_at = ?, updated_at = ? WHERE id = ? AND state = 'running'`),
      fail: p(`UPDATE jobs SET state = 'failed', last_error = ?, ended_at = ?, updated_at = ? WHERE id = ? AND state = 'running'`),
      cancel: p(`UPDATE jobs SET state = 'failed', cancelled = 1, hold = NULL, last_error = 'cancelled', ended_at = ?, updated_at = ?
        WHERE id = ? AND state IN ('pending', 'running', 'dead')`),
      release: p(`UPDATE jobs SET state = 'pending', attempts = max(attempts - 1, 0), hold = ?, last_error = coalesce(?, last_error),
          updated_at = ? WHERE id = ? AND state = 'running'`),
      setHold: p(`UPDATE jobs SET hold = ?, next_run_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'`),
      reset: p(`UPDATE jobs SET state = 'pending', attempts = 0, cancelled = 0, hold = ?, last_error = NULL, result = NULL,
          progress = 0, next_run_at = ?, started_at = NULL, ended_at = NULL, updated_at = ?
        WHERE id = ? AND state IN ('failed', 'dead')`),
      progress: p(`UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND state = 'running'`),
      due: p<JobRow>(`SELECT * FROM jobs WHERE state = 'pending' AND hold IS NULL AND lane = ? AND next_run_at <= ?
        ORDER BY next_run_at, created_at LIMIT ?`),
      // INDEXED BY: without statistics the planner would scan every pending job through jobs_state_lane.
      nextDue: p<{ at: number | null }>(`SELECT min(next_run_at) AS at FROM jobs INDEXED BY jobs_next
        WHERE state = 'pending' AND hold IS NULL AND next_run_at > ?`),
      approve: p(`UPDATE jobs SET payload = json_set(payload, '$.approved', json('true')), updated_at = ? WHERE id = ?`),
      pendingByLane: p<{ lane: string; n: number }>(`SELECT lane, count(*) AS n FROM jobs WHERE state = 'pending' GROUP BY lane`),
      byState: p<{ state: string; n: number }>('SELECT state, n FROM job_counts'),
      recover: p(`UPDATE jobs SET state = 'pending', last_error = ?, updated_at = ? WHERE state = 'running'`),
      dead: p<JobRow>(`SELECT * FROM jobs WHERE state = 'dead' ORDER BY updated_at DESC LIMIT ?`),
      hasEffect: p<{ key: string }>('SELECT key FROM job_effects WHERE key = ?'),
      effect: p<{ result: string | null }>('SELECT result FROM job_effects WHERE key = ?'),
      recordEffect: p('INSERT INTO job_effects (key, job_id, result, created_at) VALUES (?, ?, ?, ?)'),
      // Oldest ended first through jobs_ended (`+state` keeps the planner off jobs_state_lane, which would read
      // every finished job to sort them).
      pruneJobs: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ended_at < ? AND +state IN ('done', 'failed')
        AND (plan_id IS NULL OR plan_id IN (SELECT plan_id FROM plans WHERE created_at < ?)) ORDER BY ended_at LIMIT ?)`),
      prunePlans: p(`DELETE FROM plans WHERE plan_id IN (SELECT plan_id FROM plans WHERE created_at < ?
        AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.plan_id = plans.plan_id) ORDER BY created_at LIMIT ?)`),
      // A session's unfinished jobs: its own and its plans' tasks (a plan is the session's whatever its tasks say).
      sessionOpenJobs: p<JobRow>(`SELECT * FROM jobs WHERE session_key = ? AND state IN ('pending', 'running', 'dead')
        UNION SELECT j.* FROM plans p JOIN jobs j ON j.plan_id = p.plan_id WHERE p.session_key = ? AND j.state IN ('pending', 'running', 'dead')`),
      // forgetSession, a batch at a time: some of the session's plans with their tasks, some of its other jobs.
      sessionPlans: p<{ plan_id: string }>('SELECT plan_id FROM plans WHERE session_key = ? AND created_at <= ? LIMIT ?'),
      sessionLooseJobs: p<{ id: string }>('SELECT id FROM jobs WHERE session_key = ? AND plan_id IS NULL AND created_at <= ? LIMIT ?'),
      forgetPlanEffects: p('DELETE FROM job_effects WHERE job_id IN (SELECT id FROM jobs WHERE plan_id IN (SELECT value FROM json_each(?)))'),
      forgetPlanJobs: p('DELETE FROM jobs WHERE plan_id IN (SELECT value FROM json_each(?))'),
      forgetPlans: p('DELETE FROM plans WHERE plan_id IN (SELECT value FROM json_each(?))'),
      forgetJobEffects: p('DELETE FROM job_effects WHERE job_id IN (SELECT value FROM json_each(?))'),
      forgetJobs: p('DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))'),
      pruneEffects: p(`DELETE FROM job_effects WHERE key IN (SELECT key FROM job_effects WHERE created_at < ?
        AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = job_effects.job_id) ORDER BY created_at LIMIT ?)`),
    };
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.#transaction(fn);
  }

  /** Adds a job; with an idempotency key already used, returns that job instead (`created: false`). */
  insert(job: NewJob, now: number): { job: JobRecord; created: boolean } {
    const { changes } = this.#s.insert.run(
      job.id,
      job.kind,
      job.lane,
      job.hold ?? null,
      job.maxAttempts,
      job.nextRunAt ?? now,
      job.idempotencyKey ?? null,
      JSON.stringify(job.payload ?? {}),
      job.runId ?? null,
      job.sessionKey ?? null,
      job.planId ?? null,
      job.title ?? null,
      JSON.stringify(job.dependsOn ?? []),
      job.position ?? 0,
      now,
      now,
    );
    if (changes > 0) return { job: this.get(job.id) as JobRecord, created: true };
    const existing = this.#s.byKey.get(job.idempotencyKey ?? null);
    if (existing === undefined) throw new Error(`job ${job.id} was not inserted`);
    return { job: toJob(existing), created: false };
  }

  /** Adds a plan and its tasks in one transaction. */
  insertPlan(plan: PlanRecord, tasks: readonly NewJob[], now: number): JobRecord[] {
    return this.transaction(() => {
      this.#s.insertPlan.run(plan.planId, plan.runId, plan.sessionKey, plan.goal, plan.createdAt);
      return tasks.map((task) => this.insert(task, now).job);
    });
  }

  get(id: string): JobRecord | undefined {
    const row = this.#s.get.get(id);
    return row === undefined ? undefined : toJob(row);
  }

  tasksOf(planId: string): JobRecord[] {
    return this.#s.byPlan.all(planId).map(toJob);
  }

  plan(planId: string): PlanRecord | undefined {
    const row = this.#s.plan.get(planId);
    return row === undefined ? undefined : toPlan(row);
  }

  plansOfRun(runId: string): PlanRecord[] {
    return this.#s.plansOfRun.all(runId).map(toPlan);
  }

  /** Newest plans first, of one session or of all. */
  recentPlans(limit: number, sessionKey?: string): PlanRecord[] {
    const rows = sessionKey === undefined ? this.#s.recentPlans.all(limit) : this.#s.recentPlansOf.all(sessionKey, limit);
    return rows.map(toPlan);
  }

  /** pending → running, counting the attempt; false when the job is not pending and runnable. */
  claim(id: string, now: number): boolean {
    return this.#s.claim.run(now, now, id).changes > 0;
  }

  complete(id: string, result: unknown, now: number): boolean {
    return this.#s.complete.run(JSON.stringify(result ?? null), now, now, id).changes > 0;
  }

  /** running → pending, to run again at `nextRunAt` (the attempt counts). */
  retryLater(id: string, error: string, nextRunAt: number, now: number): boolean {
    return this.#s.retryLater.run(error, nextRunAt, now, id).changes > 0;
  }

  /** running → dead (a dead letter). */
  kill(id: string, error: string, now: number): boolean {
    return this.#s.kill.run(error, now, now, id).changes > 0;
  }

  /** running → failed (a permanent error; not retried by itself). */
  fail(id: string, error: string, now: number): boolean {
    return this.#s.fail.run(error, now, now, id).changes > 0;
  }

  /** pending, running or dead → failed with `cancelled`. */
  cancel(id: string, now: number): boolean {
    return this.#s.cancel.run(now, now, id).changes > 0;
  }

  /** running → pending without counting the attempt (paused, blocked, or shut down), with an optional hold and note. */
  release(id: string, hold: JobHold | undefined, now: number, note?: string): boolean {
    return this.#s.release.run(hold ?? null, note ?? null, now, id).changes > 0;
  }

  /** Sets or clears a pending job's hold; clearing makes it due now. */
  setHold(id: string, hold: JobHold | undefined, now: number): boolean {
    const job = this.get(id);
    if (job === undefined || job.state !== 'pending') return false;
    return this.#s.setHold.run(hold ?? null, hold === undefined ? now : job.nextRunAt, now, id).changes > 0;
  }

  /** failed or dead → pending with fresh attempts (agent.control retry). */
  reset(id: string, hold: JobHold | undefined, now: number): boolean {
    return this.#s.reset.run(hold ?? null, now, now, id).changes > 0;
  }

  setProgress(id: string, fraction: number, now: number): boolean {
    return this.#s.progress.run(Math.min(1, Math.max(0, fraction)), now, id).changes > 0;
  }

  /** Runnable jobs of a lane whose time has come, oldest due first. */
  due(lane: string, now: number, limit: number): JobRecord[] {
    return this.#s.due.all(lane, now, limit).map(toJob);
  }

  /** The earliest `nextRunAt` after `now` of a runnable pending job (one waiting out its backoff), or undefined. */
  nextDueAfter(now: number): number | undefined {
    return this.#s.nextDue.get(now)?.at ?? undefined;
  }

  /** Marks a job's payload `approved: true` (a task an operator resumed after it asked for approval). */
  approve(id: string, now: number): boolean {
    return this.#s.approve.run(now, id).changes > 0;
  }

  /** Pending jobs per lane (held ones included): what admission counts against `maxQueue`. */
  pendingByLane(): Map<string, number> {
    return new Map(this.#s.pendingByLane.all().map((row) => [row.lane, row.n]));
  }

  /** Jobs kept, by state (counts kept by triggers: no scan). */
  countsByState(): Record<JobState, number> {
    const counts: Record<JobState, number> = { pending: 0, running: 0, done: 0, failed: 0, dead: 0 };
    for (const row of this.#s.byState.all()) counts[row.state as JobState] = row.n;
    return counts;
  }

  /** After a restart: every job left running goes back to pending (its attempt counts). Returns how many. */
  recoverRunning(now: number): number {
    return this.#s.recover.run(INTERRUPTED_ATTEMPT, now).changes;
  }

  deadLetters(limit: number): JobRecord[] {
    return this.#s.dead.all(limit).map(toJob);
  }

  hasEffect(key: string): boolean {
    return this.#s.hasEffect.get(key) !== undefined;
  }

  /**
   * Runs a side effect once per key: checks the ledger, then runs `effect` and records the key in one
   * transaction. `effect` must be synchronous. An effect that writes only through this database commits with its
   * record; one that writes through another connection (memory documents go through the memory store's) commits
   * first, so it must be idempotent itself: a crash between the two runs it again on the retry. A key already
   * recorded returns the stored result without running.
   */
  once<T>(key: string, jobId: string, now: number, effect: () => T): { ran: boolean; result: T } {
    // Read before the transaction: a read inside it would hold a snapshot across the effect, and once another
    // connection committed there, recording the key would fail SQLITE_BUSY (a stale snapshot cannot write).
    // Nothing can record the key in between: both connections run on this thread, synchronously.
    const done = this.#s.effect.get(key);
    if (done !== undefined) return { ran: false, result: (done.result === null ? undefined : JSON.parse(done.result)) as T };
    return this.transaction(() => {
      const result = effect();
      this.#s.recordEffect.run(key, jobId, result === undefined ? null : JSON.stringify(result), now);
      return { ran: true, result };
    });
  }

  /** A session's pending, running and dead jobs, its plans' tasks included. */
  openJobsOfSession(sessionKey: string): JobRecord[] {
    return this.#s.sessionOpenJobs.all(sessionKey, sessionKey).map(toJob);
  }

  /**
   * Deletes up to `max` of a session's plans made up to `before` with their tasks, up to `max` of its other jobs
   * made by then, and their effect records, in one transaction; `more` says some are left. A session made later
   * under the key keeps its own. Cancel the unfinished jobs first: an attempt still running then changes nothing
   * when it ends.
   */
  forgetSession(sessionKey: string, before: number, max: number): { plans: number; jobs: number; more: boolean } {
    return this.transaction(() => {
      const plans = this.#s.sessionPlans.all(sessionKey, before, max).map((row) => row.plan_id);
      const loose = this.#s.sessionLooseJobs.all(sessionKey, before, max).map((row) => row.id);
      const [planIds, jobIds] = [JSON.stringify(plans), JSON.stringify(loose)];
      this.#s.forgetPlanEffects.run(planIds);
      this.#s.forgetJobEffects.run(jobIds);
      const jobs = this.#s.forgetPlanJobs.run(planIds).changes + this.#s.forgetJobs.run(jobIds).changes;
      this.#s.forgetPlans.run(planIds);
      return { plans: plans.length, jobs, more: plans.length === max || loose.length === max };
    });
  }

  /**
   * Drops finished jobs, plans and effect records older than `before`, at most `max` of each, oldest first,
   * in one transaction. `more` says some table had `max` to drop: call again for the rest.
   */
  prune(before: number, max: number): { jobs: number; more: boolean } {
    return this.transaction(() => {
      const jobs = this.#s.pruneJobs.run(before, before, max).changes;
      const plans = this.#s.prunePlans.run(before, max).changes;
      const effects = this.#s.pruneEffects.run(before, max).changes;
      return { jobs, more: jobs === max || plans === max || effects === max };
    });
  }
}
