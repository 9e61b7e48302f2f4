/**
 * One active run per session, strict order within a session, sessions in parallel up to a global cap.
 * Queues are bounded: a full queue is refused up front, before anything is stored. Aborts never wait in a queue.
 */

export interface ScheduledJob {
  readonly runId: string;
  readonly sessionKey: string;
  /** Bytes the job holds in RAM while it waits (its message and attachments): counted against maxQueuedBytes. */
  readonly bytes: number;
  /** Runs the job to its end; must not throw. */
  run(): Promise<void>;
  /** Stops the job now: the active one aborts its stream, a queued one ends without running. */
  cancel(reason: 'aborted' | 'interrupted' | 'shutdown'): void;
}

export interface SchedulerLimits {
  /** Runs active at once across all sessions. */
  maxConcurrentRuns: number;
  /** Jobs waiting behind the active run of one session. */
  maxQueuedPerSession: number;
  /** Jobs waiting across all sessions. */
  maxQueuedTotal: number;
  /** Bytes the waiting jobs may hold in all; one job is always let into an empty queue, however large. */
  maxQueuedBytes: number;
}

export interface SchedulerStats {
  running: number;
  queued: number;
  /** Bytes the queued jobs hold (see ScheduledJob.bytes). */
  queuedBytes: number;
  sessions: number;
}

export type QueueRefusal = { queue: 'session' | 'gateway'; limit: number; unit: 'turns' | 'bytes' } | undefined;

interface SessionLane {
  active: ScheduledJob | undefined;
  queue: ScheduledJob[];
}

export class SessionScheduler {
  readonly #lanes = new Map<string, SessionLane>();
  /**
   * Sessions with a queued job, waiting for a global slot, in arrival order (a Set keeps insertion order: adding
   * one already there keeps its place, and the first is taken in O(1), where an array's `includes` was O(waiting)
   * at every run's end: up to maxQueuedRuns sessions).
   */
  readonly #waiting = new Set<string>();
  #running = 0;
  #queued = 0;
  #queuedBytes = 0;
  #draining: Promise<void>[] = [];

  constructor(private readonly limits: SchedulerLimits) {}

  /** Why a new job of `bytes` for this session would be refused, or undefined when it fits. */
  refusal(sessionKey: string, bytes: number): QueueRefusal {
    const { maxQueuedTotal, maxQueuedPerSession, maxQueuedBytes } = this.limits;
    if (this.#queued >= maxQueuedTotal) return { queue: 'gateway', limit: maxQueuedTotal, unit: 'turns' };
    if (this.#queued > 0 && this.#queuedBytes + bytes > maxQueuedBytes) return { queue: 'gateway', limit: maxQueuedBytes, unit: 'bytes' };
    const lane = this.#lanes.get(sessionKey);
    if (lane !== undefined && lane.queue.length >= maxQueuedPerSession) return { queue: 'session', limit: maxQueuedPerSession, unit: 'turns' };
    return undefined;
  }

  /**
   * Queues a job behind the session's active run (`followup`), or aborts the active run and queues the job
   * first in line (`interrupt`). The job starts on a later event-loop turn, never inside this call.
   */
  enqueue(job: ScheduledJob, mode: 'followup' | 'interrupt' = 'followup'): void {
    const lane = this.#lane(job.sessionKey);
    if (mode === 'interrupt') {
      lane.active?.cancel('aborted');
      lane.queue.unshift(job);
    } else {
      lane.queue.push(job);
    }
    this.#queued += 1;
    this.#queuedBytes += job.bytes;
    setImmediate(() => this.#pump(job.sessionKey));
  }

  /** Cancels the session's active job (and its queued jobs with `clearQueued`); returns the affected run ids. */
  abortSession(sessionKey: string, clearQueued: boolean): string[] {
    const lane = this.#lanes.get(sessionKey);
    if (lane === undefined) return [];
    const affected: string[] = [];
    if (lane.active !== undefined) {
      affected.push(lane.active.runId);
      lane.active.cancel('aborted');
    }
    if (clearQueued) for (const job of lane.queue.splice(0)) affected.push(this.#dropQueued(job, 'aborted'));
    this.#forgetIfIdle(sessionKey, lane);
    return affected;
  }

  /** Cancels one run, active or queued; false when the scheduler does not hold it. */
  abortRun(runId: string): boolean {
    for (const [sessionKey, lane] of this.#lanes) {
      if (lane.active?.runId === runId) {
        lane.active.cancel('aborted');
        return true;
      }
      const index = lane.queue.findIndex((job) => job.runId === runId);
      if (index >= 0) {
        const [job] = lane.queue.splice(index, 1);
        if (job !== undefined) this.#dropQueued(job, 'aborted');
        this.#forgetIfIdle(sessionKey, lane);
        return true;
      }
    }
    return false;
  }

  activeRunId(sessionKey: string): string | undefined {
    return this.#lanes.get(sessionKey)?.active?.runId;
  }

  queuedRunIds(sessionKey: string): string[] {
    return this.#lanes.get(sessionKey)?.queue.map((job) => job.runId) ?? [];
  }

  stats(): SchedulerStats {
    return { running: this.#running, queued: this.#queued, queuedBytes: this.#queuedBytes, sessions: this.#lanes.size };
  }

  /** Jobs waiting in the longest lane (O(lanes); for metrics at scrape time). */
  deepestQueue(): number {
    let deepest = 0;
    for (const lane of this.#lanes.values()) deepest = Math.max(deepest, lane.queue.length);
    return deepest;
  }

  /** Cancels everything queued and waits for the active runs to end (they should be cancelled by the caller). */
  async drain(reason: 'shutdown' | 'interrupted'): Promise<void> {
    for (const [sessionKey, lane] of this.#lanes) {
      for (const job of lane.queue.splice(0)) this.#dropQueued(job, reason);
      this.#forgetIfIdle(sessionKey, lane);
    }
    this.#waiting.clear();
    await Promise.all(this.#draining);
  }

  #lane(sessionKey: string): SessionLane {
    let lane = this.#lanes.get(sessionKey);
    if (lane === undefined) {
      lane = { active: undefined, queue: [] };
      this.#lanes.set(sessionKey, lane);
    }
    return lane;
  }

  /** A lane with nothing active or queued is dropped (a lane with an active job is dropped when it ends). */
  #forgetIfIdle(sessionKey: string, lane: SessionLane): void {
    if (lane.active === undefined && lane.queue.length === 0) this.#lanes.delete(sessionKey);
  }

  #dropQueued(job: ScheduledJob, reason: 'aborted' | 'interrupted' | 'shutdown'): string {
    this.#queued -= 1;
    this.#queuedBytes -= job.bytes;
    job.cancel(reason);
    return job.runId;
  }

  #pump(sessionKey: string): void {
    const lane = this.#lanes.get(sessionKey);
    if (lane === undefined || lane.active !== undefined || lane.queue.length === 0) return;
    if (this.#running >= this.limits.maxConcurrentRuns) {
      this.#waiting.add(sessionKey);
      return;
    }
    const job = lane.queue.shift() as ScheduledJob;
    this.#queued -= 1;
    this.#queuedBytes -= job.bytes;
    lane.active = job;
    this.#running += 1;
    const done = job.run().finally(() => this.#finished(sessionKey, job, done));
    this.#draining.push(done);
  }

  #finished(sessionKey: string, job: ScheduledJob, done: Promise<void>): void {
    this.#draining = this.#draining.filter((p) => p !== done);
    this.#running -= 1;
    const lane = this.#lanes.get(sessionKey);
    if (lane !== undefined && lane.active === job) lane.active = undefined;
    if (lane !== undefined && lane.queue.length === 0) this.#lanes.delete(sessionKey);
    // The session's next turn waits behind sessions that were already waiting for a slot, so a busy session
    // cannot starve the others when the global cap is reached.
    else if (lane !== undefined) this.#waiting.add(sessionKey);
    for (const next of this.#waiting) {
      if (this.#running >= this.limits.maxConcurrentRuns) break;
      this.#waiting.delete(next);
      this.#pump(next);
    }
  }
}
