/**
 * Runs durable jobs through the lane pool. The job table is the queue; RAM holds only a small window of due
 * jobs per lane (LanePool) plus the running ones, so memory stays flat whatever the backlog.
 *
 * One attempt: claim (pending → running, attempt counted) → the kind's handler with a signal that aborts on
 * cancel, pause, shutdown or the attempt timeout → done, or pending again after a backoff with jitter, or dead
 * once `maxAttempts` attempts failed, or failed for a PermanentJobError. Control calls (cancel, hold, release,
 * reset) change the table first, synchronously, then abort the attempt: what agent.status reads is already
 * the new state when the call returns.
 *
 * Admission: a lane takes new jobs while its pending jobs plus reservations stay within its `maxQueue`;
 * beyond, the caller answers QUEUE_FULL with `retryAfterMs` estimated from the lane's recent attempt times.
 */
import type { Logger } from 'pino';
import { abortable } from '../abortable.js';
import { isSqliteError } from '../../memory/db.js';
import { LanePool, type LaneSpec } from '../pool/lane-pool.js';
import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import type { JobStore } from './job-store.js';
import type { JobHold, JobRecord, NewJob, PlanRecord } from './job-types.js';

/** Why an attempt's signal aborted. */
export class JobAbort extends Error {
  override readonly name = 'JobAbort';
  constructor(readonly why: 'cancel' | 'pause' | 'shutdown' | 'timeout') {
    super(`job ${why}`);
  }
}

/** Reasons are shared: making an Error (and its stack) on every cancel costs more than the cancel itself. */
const ABORT = {
  cancel: new JobAbort('cancel'),
  pause: new JobAbort('pause'),
  shutdown: new JobAbort('shutdown'),
  timeout: new JobAbort('timeout'),
} as const;

/** Thrown by a handler for an error that another attempt cannot fix: the job fails without retries. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

export type JobOutcome = { result: unknown } | { blocked: { needs: 'approval' | 'user-input'; reason: string } };

export interface JobContext {
  readonly job: JobRecord;
  readonly signal: AbortSignal;
  /** Reports progress (0..1) of the running attempt. */
  progress(fraction: number): void;
  /** Runs a side effect at most once per key, across attempts and restarts (JobStore.once). */
  once<T>(key: string, effect: () => T): { ran: boolean; result: T };
}

export type JobHandler = (ctx: JobContext) => Promise<JobOutcome>;

export interface QueueRefusal {
  lane: string;
  limit: number;
  retryAfterMs: number;
}

/** Lane capacity held for work that is admitted but not yet a job (a plan made by rules at submit time). */
export interface Reservation {
  /** Gives the capacity back; safe to call twice. */
  release(): void;
}

/** RAM window of due jobs per lane, as a multiple of its concurrency. */
export const LANE_WINDOW_PER_SLOT = 4;
/** Bounds of the `retryAfterMs` a QUEUE_FULL answer carries, in ms. */
export const RETRY_AFTER_MIN_MS = 250;
export const RETRY_AFTER_MAX_MS = 30_000;
/** Assumed attempt time of a lane before any attempt finished, in ms. */
const INITIAL_ATTEMPT_MS = 1_000;

export interface JobRunnerDeps {
  store: JobStore;
  /** Lanes with their admission bound (`maxQueue`, jobs) and priority. */
  lanes: readonly LaneSpec[];
  maxRunning: number;
  agingMs: number;
  handlers: ReadonlyMap<string, JobHandler>;
  backoff: BackoffPolicy;
  attemptTimeoutMs: number;
  now: () => number;
  random?: () => number;
  logger: Logger;
  /** Every transition, after it is stored (`previous` undefined: a new job). Not called once closing. */
  onChange: (job: JobRecord, previous: JobRecord | undefined) => void;
  /** A write of the job table failed with a SqliteError on the background path (the gateway counts it). */
  onDatabaseError?: (err: unknown) => void;
}

export class JobRunner {
  readonly #deps: JobRunnerDeps;
  readonly #pool: LanePool;
  readonly #specs = new Map<string, LaneSpec>();
  /** Ids pushed to the pool (waiting or running), per lane. */
  readonly #inPool = new Map<string, Set<string>>();
  readonly #reserved = new Map<string, number>();
  readonly #attemptMs = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #fillScheduled = false;
  #closed = false;
  /** Ids of the jobs that changed while `collectChanges` runs. */
  #collecting: Set<string> | undefined;

  constructor(deps: JobRunnerDeps) {
    this.#deps = deps;
    for (const spec of deps.lanes) {
      this.#specs.set(spec.name, spec);
      this.#inPool.set(spec.name, new Set());
    }
    const window = deps.lanes.map((spec) => ({ ...spec, maxQueue: spec.concurrency * LANE_WINDOW_PER_SLOT }));
    this.#pool = new LanePool(window, {
      maxRunning: deps.maxRunning,
      agingMs: deps.agingMs,
      now: deps.now,
      onError: (err, job) => {
        if (isSqliteError(err)) deps.onDatabaseError?.(err);
        deps.logger.error({ err, jobId: job.id }, 'a pool job failed outside its handler');
      },
    });
  }

  /** Jobs left running by a previous process go back to pending (at-least-once), then due jobs start. */
  start(): number {
    const recovered = this.#deps.store.recoverRunning(this.#deps.now());
    if (recovered > 0) this.#deps.logger.warn({ recovered }, 'jobs cut off by the previous stop will run again');
    this.#fillSoon();
    return recovered;
  }

  /** Most jobs that ran at once in each lane, since start. */
  get peaks(): ReadonlyMap<string, number> {
    return this.#pool.peak;
  }

  /** Why `demand` (jobs per lane) cannot be admitted now, or undefined when it fits. */
  refusal(demand: ReadonlyMap<string, number>): QueueRefusal | undefined {
    const pending = this.#deps.store.pendingByLane();
    for (const [lane, count] of demand) {
      const spec = this.#specs.get(lane);
      if (spec === undefined) continue;
      const queued = (pending.get(lane) ?? 0) + (this.#reserved.get(lane) ?? 0);
      if (queued + count > spec.maxQueue) return { lane, limit: spec.maxQueue, retryAfterMs: this.#retryAfter(spec, queued + count - spec.maxQueue) };
    }
    return undefined;
  }

  /** Holds lane capacity for `demand`; the caller checked `refusal` first. */
  reserve(demand: ReadonlyMap<string, number>): Reservation {
    for (const [lane, count] of demand) this.#reserved.set(lane, (this.#reserved.get(lane) ?? 0) + count);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const [lane, count] of demand) this.#reserved.set(lane, (this.#reserved.get(lane) ?? 0) - count);
      },
    };
  }

  /** Adds a job (an idempotency key already used returns that job) and starts it when due. */
  enqueue(job: NewJob): JobRecord {
    const { job: stored, created } = this.#deps.store.insert(job, this.#deps.now());
    if (created) this.#changed(stored, undefined);
    this.#fillSoon();
    return stored;
  }

  /** Adds a plan and its tasks in one transaction. */
  enqueuePlan(plan: PlanRecord, tasks: readonly NewJob[]): JobRecord[] {
    const stored = this.#deps.store.insertPlan(plan, tasks, this.#deps.now());
    for (const job of stored) this.#changed(job, undefined);
    this.#fillSoon();
    return stored;
  }

  /** Runs a non-durable job (heartbeat, indexing pass) in a lane; false when the lane's window is full. */
  runEphemeral(lane: string, id: string, run: (signal: AbortSignal) => Promise<void>): boolean {
    return this.#pool.push({ id, lane, readyAt: this.#deps.now(), run });
  }

  /** Ends a pending, running or dead job as cancelled; its attempt, if any, is aborted at once. */
  cancel(id: string): boolean {
    return this.#control(id, (now) => this.#deps.store.cancel(id, now), ABORT.cancel);
  }

  /** Holds a job (a running attempt is aborted and not counted). */
  hold(id: string, hold: JobHold): boolean {
    const job = this.#deps.store.get(id);
    if (job?.state === 'running') return this.#control(id, (now) => this.#deps.store.release(id, hold, now), ABORT.pause);
    return this.#control(id, (now) => this.#deps.store.setHold(id, hold, now), ABORT.pause);
  }

  /** Clears a pending job's hold: it is due now. */
  unhold(id: string): boolean {
    return this.#control(id, (now) => this.#deps.store.setHold(id, undefined, now), undefined);
  }

  /** A failed or dead job gets fresh attempts (with a hold when it must still wait). */
  reset(id: string, hold: JobHold | undefined): boolean {
    return this.#control(id, (now) => this.#deps.store.reset(id, hold, now), undefined);
  }

  approve(id: string): boolean {
    return this.#deps.store.approve(id, this.#deps.now());
  }

  /** Per lane: running now, queued (pending incl. held and backing off, plus reservations), limits. */
  lanes(): { name: string; running: number; queued: number; concurrency: number; maxQueue: number }[] {
    const pending = this.#deps.store.pendingByLane();
    const running = new Map(this.#pool.counts().map((c) => [c.name, c.running]));
    return [...this.#specs.values()].map((spec) => ({
      name: spec.name,
      running: running.get(spec.name) ?? 0,
      queued: (pending.get(spec.name) ?? 0) + (this.#reserved.get(spec.name) ?? 0),
      concurrency: spec.concurrency,
      maxQueue: spec.maxQueue,
    }));
  }

  /** Stops starting jobs; running attempts are aborted and go back to pending uncounted. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#pool.close(ABORT.shutdown);
  }

  #control(id: string, change: (now: number) => boolean, abort: JobAbort | undefined): boolean {
    const before = this.#deps.store.get(id);
    if (before === undefined || !change(this.#deps.now())) return false;
    if (abort !== undefined) this.#pool.abort(id, abort);
    const after = this.#deps.store.get(id);
    if (after !== undefined) this.#changed(after, before);
    if (after?.state !== 'running') this.#inPool.get(after?.lane ?? '')?.delete(id);
    this.#fillSoon();
    return true;
  }

  /** Runs `fn` and returns, with its result, the ids of every job that changed meanwhile (cascades included). */
  collectChanges<T>(fn: () => T): { result: T; changed: string[] } {
    const outer = this.#collecting;
    const changed = new Set<string>();
    this.#collecting = changed;
    try {
      const result = fn();
      return { result, changed: [...changed] };
    } finally {
      this.#collecting = outer;
      if (outer !== undefined) for (const id of changed) outer.add(id);
    }
  }

  #changed(job: JobRecord, previous: JobRecord | undefined): void {
    if (previous !== undefined) this.#collecting?.add(job.id);
    if (this.#closed) return;
    try {
      this.#deps.onChange(job, previous);
    } catch (err) {
      this.#deps.logger.error({ err, jobId: job.id }, 'a job change listener failed');
    }
  }

  /** One fill on the next event-loop turn, however many changes asked for it (bursts cost one query per lane). */
  #fillSoon(): void {
    if (this.#fillScheduled || this.#closed) return;
    this.#fillScheduled = true;
    setImmediate(() => {
      this.#fillScheduled = false;
      this.#fill();
    });
  }

  /** Pulls due jobs into each lane's window, and wakes up for the next job waiting out its backoff. */
  #fill(): void {
    if (this.#closed) return;
    const now = this.#deps.now();
    for (const spec of this.#specs.values()) {
      const inPool = this.#inPool.get(spec.name) as Set<string>;
      let room = this.#pool.room(spec.name);
      if (room <= 0) continue;
      for (const job of this.#deps.store.due(spec.name, now, room + inPool.size)) {
        if (room <= 0) break;
        if (inPool.has(job.id)) continue;
        if (!this.#pool.push({ id: job.id, lane: spec.name, readyAt: job.nextRunAt, run: (signal) => this.#attempt(job.id, spec, signal) })) break;
        inPool.add(job.id);
        room -= 1;
      }
    }
    clearTimeout(this.#timer);
    const next = this.#deps.store.nextDueAfter(now);
    if (next !== undefined) {
      this.#timer = setTimeout(() => this.#fill(), Math.min(next - now, 60_000));
      this.#timer.unref();
    }
  }

  async #attempt(id: string, spec: LaneSpec, poolSignal: AbortSignal): Promise<void> {
    const { store, now } = this.#deps;
    const inPool = this.#inPool.get(spec.name) as Set<string>;
    try {
      const before = store.get(id);
      if (before === undefined || !store.claim(id, now())) return; // cancelled or held while it waited
      const running = store.get(id) as JobRecord;
      this.#changed(running, before);
      await this.#run(running, spec, poolSignal);
    } finally {
      inPool.delete(id);
      this.#fillSoon();
    }
  }

  async #run(job: JobRecord, spec: LaneSpec, poolSignal: AbortSignal): Promise<void> {
    const { store, now } = this.#deps;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(ABORT.timeout), this.#deps.attemptTimeoutMs);
    const signal = AbortSignal.any([poolSignal, timeout.signal]);
    const started = performance.now();
    let changed: boolean;
    try {
      const handler = this.#deps.handlers.get(job.kind);
      if (handler === undefined) throw new PermanentJobError(`no worker handles jobs of kind ${job.kind}`);
      const outcome = await abortable(handler(this.#context(job, signal)), signal);
      changed = 'blocked' in outcome ? store.release(job.id, outcome.blocked.needs, now(), outcome.blocked.reason) : store.complete(job.id, outcome.result, now());
    } catch (err) {
      const reason: unknown = signal.aborted ? signal.reason : undefined;
      if (reason instanceof JobAbort && reason.why !== 'timeout') {
        // cancel and pause changed the table already; a shutdown puts the job back, its attempt uncounted.
        if (reason.why === 'shutdown') store.release(job.id, undefined, now());
        return;
      }
      // Storing the outcome may be what failed: counted, then handled like a failed attempt.
      if (isSqliteError(err)) this.#deps.onDatabaseError?.(err);
      changed = this.#failed(job, reason instanceof JobAbort ? new Error(`attempt timed out after ${this.#deps.attemptTimeoutMs} ms`) : err);
    } finally {
      clearTimeout(timer);
      this.#record(spec.name, performance.now() - started);
    }
    const after = store.get(job.id);
    if (changed && after !== undefined) this.#changed(after, job);
  }

  #failed(job: JobRecord, err: unknown): boolean {
    const { store, now } = this.#deps;
    const message = err instanceof Error ? err.message : String(err);
    this.#deps.logger.warn({ err, jobId: job.id, kind: job.kind, attempt: job.attempts }, 'job attempt failed');
    if (err instanceof PermanentJobError) return store.fail(job.id, message, now());
    if (job.attempts >= job.maxAttempts) return store.kill(job.id, message, now());
    const delay = backoffDelayMs(job.attempts, this.#deps.backoff, this.#deps.random);
    return store.retryLater(job.id, message, now() + delay, now());
  }

  #context(job: JobRecord, signal: AbortSignal): JobContext {
    const { store, now } = this.#deps;
    return {
      job,
      signal,
      progress: (fraction) => {
        store.setProgress(job.id, fraction, now());
      },
      once: (key, effect) => store.once(key, job.id, now(), effect),
    };
  }

  #record(lane: string, ms: number): void {
    const previous = this.#attemptMs.get(lane);
    this.#attemptMs.set(lane, previous === undefined ? ms : previous * 0.8 + ms * 0.2);
  }

  /** Time until `excess` queued jobs have started, from the lane's recent attempt times. */
  #retryAfter(spec: LaneSpec, excess: number): number {
    const perAttempt = this.#attemptMs.get(spec.name) ?? INITIAL_ATTEMPT_MS;
    const estimate = perAttempt * Math.max(1, Math.ceil(excess / spec.concurrency));
    return Math.round(Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, estimate)));
  }
}
