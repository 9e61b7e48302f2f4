/**
 * StatusWorker (deterministic): synthesizes a plan's progress — the fraction of tasks finished and a one-line
 * message — for every `agent.progress` event, and answers `status` tasks with the same, over the plan's other
 * tasks, as a structured result.
 */
import type { JobOutcome, JobContext } from '../jobs/job-runner.js';
import type { JobRecord } from '../jobs/job-types.js';
import { isFinished, planFraction, taskState } from './task-view.js';

/** Titles quoted in a one-line message at most. */
export const STATUS_MAX_TITLES = 3;

export interface StatusResult {
  kind: 'status';
  /** Fraction of the other tasks finished, 0..1. */
  fraction: number;
  message: string;
  counts: Record<string, number>;
}

function quoted(jobs: readonly JobRecord[]): string {
  const titles = jobs.slice(0, STATUS_MAX_TITLES).map((job) => `"${job.title ?? job.kind}"`);
  return jobs.length > STATUS_MAX_TITLES ? `${titles.join(', ')} and ${jobs.length - STATUS_MAX_TITLES} more` : titles.join(', ');
}

/** `2/3 tasks done; running "a"; blocked "b" (approval)` */
export function planLine(tasks: readonly JobRecord[]): string {
  const finished = tasks.filter((job) => isFinished(taskState(job)));
  const done = tasks.filter((job) => taskState(job) === 'done').length;
  const parts = [`${done}/${tasks.length} tasks done`];
  const running = tasks.filter((job) => taskState(job) === 'running');
  const blocked = tasks.filter((job) => taskState(job) === 'blocked');
  const failed = tasks.filter((job) => taskState(job) === 'failed');
  const cancelled = finished.filter((job) => taskState(job) === 'cancelled');
  if (running.length > 0) parts.push(`running ${quoted(running)}`);
  if (blocked.length > 0) parts.push(`blocked ${quoted(blocked)} (${blocked[0]?.hold ?? 'waiting'})`);
  if (failed.length > 0) parts.push(`failed ${quoted(failed)}`);
  if (cancelled.length > 0) parts.push(`cancelled ${quoted(cancelled)}`);
  return parts.join('; ');
}

/** The message of a task's state change: what happened to it, then the plan's line. */
export function taskLine(job: JobRecord, tasks: readonly JobRecord[], now: number): string {
  const title = `"${job.title ?? job.kind}"`;
  const state = taskState(job);
  let what: string;
  if (state === 'pending' && job.attempts > 0 && job.lastError !== undefined && job.hold === undefined) {
    what = `${title} attempt ${job.attempts} failed (${job.lastError}); retrying in ${Math.max(0, job.nextRunAt - now)} ms`;
  } else if (state === 'pending' && job.hold !== undefined) {
    what = `${title} is held (${job.hold})`;
  } else if (state === 'failed') {
    what = `${title} failed: ${job.lastError ?? 'unknown error'}`;
  } else if (state === 'blocked') {
    what = `${title} is blocked: ${job.lastError ?? job.hold ?? 'waiting'}`;
  } else {
    what = `${title} is ${state}`;
  }
  return `${what} — ${planLine(tasks)}`;
}

export class StatusWorker {
  constructor(private readonly tasksOf: (planId: string) => JobRecord[]) {}

  /** A `status` task: the progress of the plan's other tasks. */
  readonly handle = async (ctx: JobContext): Promise<JobOutcome> => {
    const others = ctx.job.planId === undefined ? [] : this.tasksOf(ctx.job.planId).filter((job) => job.id !== ctx.job.id);
    const counts: Record<string, number> = {};
    for (const job of others) counts[taskState(job)] = (counts[taskState(job)] ?? 0) + 1;
    const result: StatusResult = { kind: 'status', fraction: planFraction(others), message: planLine(others), counts };
    return { result };
  };
}
