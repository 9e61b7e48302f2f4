/**
 * agent.control on tasks (and on any job by id, e.g. a dead letter). Every action changes the job table
 * synchronously, so the answer, the events it caused and agent.status agree:
 * - `cancel` / `stop`: a pending, running or dead task ends `cancelled` (a running attempt is aborted at
 *   once); the tasks that depend on it are cancelled too;
 * - `pause`: a pending or running task is held (`hold: "paused"`; a running attempt is aborted and not
 *   counted); blocked and finished tasks are left alone;
 * - `resume`: a paused task may run again (when its dependencies are done); a task blocked on approval is
 *   approved, one blocked on user input goes on without it;
 * - `retry`: a failed, dead or cancelled task gets fresh attempts; refused with QUEUE_FULL when its lane is
 *   full.
 * Each returns the ids whose state changed.
 */
import type { ControlAction } from '../../protocol/methods/agent-plan.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord } from '../jobs/job-types.js';
import type { ExecutionWorker } from './execution-worker.js';
import { queueFullError } from './queue-full.js';
import { taskState } from './task-view.js';

export class TaskControl {
  constructor(
    private readonly store: JobStore,
    private readonly runner: () => JobRunner,
    private readonly board: ExecutionWorker,
  ) {}

  /** Applies an action to some jobs (the tasks of a run, or one task); returns the ids that changed. */
  apply(action: ControlAction, jobs: readonly JobRecord[]): string[] {
    if (action === 'retry') this.#admit(jobs.filter((job) => this.#retryable(job)));
    const before = this.#states(jobs);
    for (const job of jobs) this.#one(action, job);
    return this.#changed(before, jobs);
  }

  #one(action: ControlAction, job: JobRecord): void {
    const runner = this.runner();
    const current = this.store.get(job.id);
    if (current === undefined) return;
    switch (action) {
      case 'cancel':
      case 'stop':
        runner.cancel(current.id);
        return;
      case 'pause':
        if (current.state === 'running' || (current.state === 'pending' && (current.hold === undefined || current.hold === 'deps'))) runner.hold(current.id, 'paused');
        return;
      case 'resume':
        if (current.state !== 'pending' || current.hold === undefined || current.hold === 'deps') return;
        if (current.hold === 'approval' || current.hold === 'user-input') runner.approve(current.id);
        if (this.board.depsDone(current)) runner.unhold(current.id);
        else runner.hold(current.id, 'deps');
        return;
      case 'retry':
        if (this.#retryable(current)) runner.reset(current.id, this.board.depsDone(current) ? undefined : 'deps');
        return;
    }
  }

  #retryable(job: JobRecord): boolean {
    return job.state === 'failed' || job.state === 'dead';
  }

  #admit(jobs: readonly JobRecord[]): void {
    const demand = new Map<string, number>();
    for (const job of jobs) demand.set(job.lane, (demand.get(job.lane) ?? 0) + 1);
    const refusal = this.runner().refusal(demand);
    if (refusal !== undefined) throw queueFullError(refusal);
  }

  /** State of every task of the plans involved (cascades reach beyond the jobs asked for). */
  #states(jobs: readonly JobRecord[]): Map<string, string> {
    return new Map(this.#scope(jobs).map((job) => [job.id, stateKey(job)]));
  }

  #changed(before: Map<string, string>, jobs: readonly JobRecord[]): string[] {
    return this.#scope(jobs)
      .filter((job) => before.has(job.id) && before.get(job.id) !== stateKey(job))
      .map((job) => job.id);
  }

  /** The jobs asked for, fresh, and every task of their plans: one query per plan plus one per planless job. */
  #scope(jobs: readonly JobRecord[]): JobRecord[] {
    const plans = new Set(jobs.map((job) => job.planId).filter((id): id is string => id !== undefined));
    const scoped = new Map<string, JobRecord>();
    for (const job of jobs) {
      if (job.planId !== undefined) continue;
      const fresh = this.store.get(job.id);
      if (fresh !== undefined) scoped.set(fresh.id, fresh);
    }
    for (const planId of plans) for (const job of this.store.tasksOf(planId)) scoped.set(job.id, job);
    return [...scoped.values()];
  }
}

function stateKey(job: JobRecord): string {
  return `${job.state}:${job.hold ?? ''}:${taskState(job)}`;
}
