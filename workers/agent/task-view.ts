/** A plan task as clients see it (TaskStatus), derived from its job row. */
import type { TaskState, TaskStatus } from '../../protocol/methods/agent-plan.js';
import type { JobRecord } from '../jobs/job-types.js';
import type { WorkerName } from '../brain/plan.js';

/** The lane a plan task's job runs in. */
export function laneOf(worker: WorkerName): string {
  return worker === 'research' ? 'research' : 'interactive';
}

export function taskState(job: JobRecord): TaskState {
  switch (job.state) {
    case 'running':
      return 'running';
    case 'done':
      return 'done';
    case 'failed':
      return job.cancelled ? 'cancelled' : 'failed';
    case 'dead':
      return 'failed';
    case 'pending':
      return job.hold === 'approval' || job.hold === 'user-input' ? 'blocked' : 'pending';
  }
}

export function isFinished(state: TaskState): boolean {
  return state === 'done' || state === 'failed' || state === 'cancelled';
}

/**
 * Nothing of the plan is running or about to run by itself: every task is finished, blocked, held, or waits
 * for one of those. Only an operator (agent.control) or the heartbeat can move it on from here.
 */
export function planSettled(tasks: readonly JobRecord[]): boolean {
  return !tasks.some((job) => job.state === 'running' || (job.state === 'pending' && job.hold === undefined));
}

/** Fraction of the plan's tasks that are finished, 0..1. */
export function planFraction(tasks: readonly JobRecord[]): number {
  if (tasks.length === 0) return 1;
  return tasks.filter((job) => isFinished(taskState(job))).length / tasks.length;
}

export function toTaskStatus(job: JobRecord, now: number): TaskStatus {
  const state = taskState(job);
  const showError = job.lastError !== undefined && state !== 'done' && state !== 'running';
  return {
    taskId: job.id,
    title: job.title ?? job.kind,
    worker: job.kind,
    state,
    progress: state === 'done' ? 1 : job.progress,
    dependsOn: job.dependsOn,
    ...(job.result === undefined || job.result === null ? {} : { result: job.result }),
    ...(showError ? { error: job.lastError } : {}),
    attempts: job.attempts,
    lane: job.lane,
    ...(job.state === 'pending' && job.hold !== undefined ? { hold: job.hold } : {}),
    ...(job.state === 'pending' && job.hold === undefined && job.nextRunAt > now ? { nextRunAt: job.nextRunAt } : {}),
    ...(job.state === 'dead' ? { deadLetter: true } : {}),
  };
}
