/**
 * ExecutionWorker: drives the state of every plan task and runs `execution` tasks (execution-rules.ts).
 * A plan becomes one durable job per task (its id is the taskId); a task with dependencies waits with hold
 * `deps` until they are done. On every stored transition it tells clients (`agent.progress`, and
 * `agent.blocked` when a task needs a person or a retry), releases dependents of a task that is done,
 * cancels dependents of a cancelled task, and wakes whoever waits for the plan to settle.
 */
import type { Logger } from 'pino';
import { newMemoryId } from '../../memory/ids.js';
import type { BlockedNeeds } from '../../protocol/methods/agent-plan.js';
import type { Plan } from '../brain/plan.js';
import type { JobContext, JobOutcome, JobRunner } from '../jobs/job-runner.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord, NewJob } from '../jobs/job-types.js';
import { abortable } from '../abortable.js';
import type { AgentEvents } from './agent-events.js';
import { needsPerson, type ExecutionResult } from './execution-rules.js';
import { taskLine } from './status-worker.js';
import { laneOf, planFraction, planSettled, taskState } from './task-view.js';

export interface PlanOwner {
  runId: string;
  sessionKey: string;
}

export interface ExecutionWorkerDeps {
  store: JobStore;
  runner: () => JobRunner;
  events: AgentEvents;
  now: () => number;
  maxAttempts: number;
  logger: Logger;
}

interface TaskPayload {
  goal?: string;
  approved?: boolean;
}

export class ExecutionWorker {
  readonly #deps: ExecutionWorkerDeps;
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(deps: ExecutionWorkerDeps) {
    this.#deps = deps;
  }

  /** Jobs (one per lane) a plan needs admitted. */
  static demand(plan: Plan): Map<string, number> {
    const demand = new Map<string, number>();
    for (const task of plan.tasks) demand.set(laneOf(task.worker), (demand.get(laneOf(task.worker)) ?? 0) + 1);
    return demand;
  }

  /** Stores the plan and its tasks (they start as their lanes allow) and announces it with `agent.plan`. */
  createPlan(owner: PlanOwner, plan: Plan): { planId: string; tasks: JobRecord[] } {
    const now = this.#deps.now();
    const planId = `plan_${newMemoryId(now)}`;
    const ids = plan.tasks.map(() => `task_${newMemoryId(now)}`);
    const jobs: NewJob[] = plan.tasks.map((task, position) => ({
      id: ids[position] as string,
      kind: task.worker,
      lane: laneOf(task.worker),
      maxAttempts: this.#deps.maxAttempts,
      payload: { goal: plan.goal },
      runId: owner.runId,
      sessionKey: owner.sessionKey,
      planId,
      title: task.title,
      dependsOn: task.dependsOn.map((d) => ids[d] as string),
      position,
      hold: task.dependsOn.length > 0 ? 'deps' : undefined,
    }));
    const tasks = this.#deps.runner().enqueuePlan({ planId, runId: owner.runId, sessionKey: owner.sessionKey, goal: plan.goal, createdAt: now }, jobs);
    this.#deps.events.emit({
      type: 'agent.plan',
      payload: {
        ...owner,
        planId,
        goal: plan.goal,
        tasks: tasks.map((job) => ({ taskId: job.id, title: job.title ?? '', worker: job.kind, dependsOn: job.dependsOn })),
        ts: now,
      },
    });
    return { planId, tasks };
  }

  tasks(planId: string): JobRecord[] {
    return this.#deps.store.tasksOf(planId);
  }

  settled(planId: string): boolean {
    return planSettled(this.tasks(planId));
  }

  /** Resolves once nothing of the plan runs or is about to (planSettled); rejects when `signal` aborts. */
  waitSettled(planId: string, signal: AbortSignal): Promise<void> {
    if (this.settled(planId)) return Promise.resolve();
    let wake: (() => void) | undefined;
    const settled = new Promise<void>((resolve) => {
      wake = resolve;
      const set = this.#waiters.get(planId) ?? new Set();
      set.add(resolve);
      this.#waiters.set(planId, set);
    });
    const forget = (): void => {
      const set = this.#waiters.get(planId);
      if (wake !== undefined) set?.delete(wake);
      if (set?.size === 0) this.#waiters.delete(planId);
    };
    return abortable(settled, signal).finally(forget);
  }

  /** The job runner's change listener. */
  readonly onJobChange = (job: JobRecord, previous: JobRecord | undefined): void => {
    if (job.planId === undefined || previous === undefined) return;
    const stateNow = taskState(job);
    if (stateNow === taskState(previous) && job.state === previous.state && job.hold === previous.hold) return;
    const tasks = this.tasks(job.planId);
    const wasSettled = planSettled(tasks.map((t) => (t.id === job.id ? previous : t)));
    this.#progress(job, tasks);
    let touched = false;
    if (stateNow === 'done') touched = this.#releaseDependents(job.id, tasks);
    if (stateNow === 'cancelled') {
      for (const dependent of tasks) if (dependent.dependsOn.includes(job.id) && this.#deps.runner().cancel(dependent.id)) touched = true;
    }
    const blocked = this.#blockedNeeds(job);
    if (blocked !== undefined && taskState(previous) !== stateNow) this.#blocked(job, blocked);
    // Re-read only when this change moved other tasks (their own changes were reported on the way).
    const latest = touched ? this.tasks(job.planId) : tasks;
    if (planSettled(latest)) {
      if (!wasSettled) this.#planSettled(job, latest);
      for (const wake of this.#waiters.get(job.planId) ?? []) wake();
    }
  };

  /** Runs an `execution` task (deterministic, no tools). */
  readonly handle = async (ctx: JobContext): Promise<JobOutcome> => {
    const payload = ctx.job.payload as TaskPayload;
    const title = ctx.job.title ?? '';
    const needs = needsPerson(title);
    if (needs !== undefined && payload.approved !== true) {
      const reason = needs === 'approval' ? `"${title}" waits for approval (agent.control resume approves it)` : `"${title}" needs input from the user (agent.control resume goes on without it)`;
      return { blocked: { needs, reason } };
    }
    const outcome = needs === undefined ? 'recorded' : needs === 'approval' ? 'approved' : 'resumed-without-input';
    const result: ExecutionResult = { kind: 'execution', step: title, outcome, inputs: ctx.job.dependsOn };
    return { result };
  };

  /** Whether a task's dependencies are all done. */
  depsDone(job: JobRecord, tasks: readonly JobRecord[] = job.planId === undefined ? [] : this.tasks(job.planId)): boolean {
    return job.dependsOn.every((id) => tasks.find((t) => t.id === id)?.state === 'done');
  }

  /** Lets the tasks waiting only for `doneId` run; true when one was released. */
  #releaseDependents(doneId: string, tasks: readonly JobRecord[]): boolean {
    let released = false;
    for (const dependent of tasks) {
      if (dependent.hold !== 'deps' || !dependent.dependsOn.includes(doneId)) continue;
      if (this.depsDone(dependent, tasks) && this.#deps.runner().unhold(dependent.id)) released = true;
    }
    return released;
  }

  #blockedNeeds(job: JobRecord): BlockedNeeds | undefined {
    if (job.state === 'pending' && (job.hold === 'approval' || job.hold === 'user-input')) return job.hold;
    if (job.state === 'dead' || (job.state === 'failed' && !job.cancelled)) return 'retry';
    return undefined;
  }

  #progress(job: JobRecord, tasks: readonly JobRecord[]): void {
    const now = this.#deps.now();
    this.#deps.events.emit({
      type: 'agent.progress',
      payload: {
        ...planRef(job),
        taskId: job.id,
        state: taskState(job),
        progress: planFraction(tasks),
        message: taskLine(job, tasks, now),
        ts: now,
      },
    });
  }

  #blocked(job: JobRecord, needs: BlockedNeeds): void {
    const reason = job.lastError ?? (needs === 'retry' ? 'the task failed' : `needs ${needs}`);
    this.#deps.events.emit({
      type: 'agent.blocked',
      payload: { ...planRef(job), taskId: job.id, reason, needs, ts: this.#deps.now() },
    });
  }

  /** A plan-level `agent.progress` (no taskId) when the plan has nothing more to run by itself. */
  #planSettled(job: JobRecord, tasks: readonly JobRecord[]): void {
    const finished = tasks.every((t) => ['done', 'failed', 'cancelled'].includes(taskState(t)));
    const allDone = tasks.every((t) => taskState(t) === 'done');
    const state = allDone ? 'done' : finished ? 'failed' : 'blocked';
    const now = this.#deps.now();
    this.#deps.events.emit({
      type: 'agent.progress',
      payload: {
        ...planRef(job),
        state,
        progress: planFraction(tasks),
        message: `plan ${state}: ${tasks.filter((t) => taskState(t) === 'done').length}/${tasks.length} tasks done`,
        ts: now,
      },
    });
  }
}

/** The run, session and plan an event about `job` belongs to (empty strings when it has none). */
function planRef(job: JobRecord): { runId: string; sessionKey: string; planId: string } {
  return { runId: job.runId ?? '', sessionKey: job.sessionKey ?? '', planId: job.planId ?? '' };
}
