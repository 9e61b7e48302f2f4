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
 * Each returns the ids whose state changed (cascades included), in the order they changed.
 */
import type { ControlAction } from '../../protocol/methods/agent-plan.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord } from '../jobs/job-types.js';
import type { ExecutionWorker } from './execution-worker.js';
import { queueFullError } from './queue-full.js';

export class TaskControl {
  constructor(
    private readonly store: JobStore,
    private readonly runner: () => JobRunner,
    private readonly board: ExecutionWorker,
  ) {}

  /** Applies an action to some jobs (the tasks of a run, or one task); returns the ids that changed. */
  apply(action: ControlAction, jobs: readonly JobRecord[]): string[] {
    if (action === 'retry') this.#admit(jobs.filter((job) => this.#retryable(job)));
    return this.runner().collectChanges(() => {
      for (const job of jobs) this.#one(action, job);
    }).changed;
  }

  #one(action: ControlAction, job: JobRecord): void {
    const runner = this.runner();
    // cancel needs no fresh read: the store changes only a job that is pending, running or dead.
    if (action === 'cancel' || action === 'stop') {
      runner.cancel(job.id);
      return;
    }
    const current = this.store.get(job.id);
    if (current === undefined) return;
    switch (action) {
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
}
