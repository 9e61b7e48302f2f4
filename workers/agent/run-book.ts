/**
 * RunStatus for agent.status: a run's state from the turn service (queued, streaming), the runs table (how it
 * ended) and its plan (whether work is still going or waits for someone). A run told to stop reads `aborted`
 * from the moment agent.control answered, before its stream has unwound.
 */
import type { RunState, RunStatus } from '../../protocol/methods/agent-plan.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord } from '../jobs/job-types.js';
import type { RuntimeEvents } from '../run-events.js';
import { planSettled, taskState, toTaskStatus } from './task-view.js';
import type { RunsReader, TurnControl } from './turn-control.js';

export interface RunBookDeps {
  events: RuntimeEvents;
  turns: () => TurnControl;
  runs: RunsReader;
  store: JobStore;
  now: () => number;
}

/** The state a plan gives a run that ended well (or was cut off by a restart). */
export function stateFromPlan(tasks: readonly JobRecord[]): RunState {
  if (!planSettled(tasks)) return 'running';
  return tasks.every((job) => ['done', 'cancelled'].includes(taskState(job))) ? 'done' : 'blocked';
}

export class RunBook {
  readonly #deps: RunBookDeps;
  /** Open runs that started streaming: runId → startedAt. */
  readonly #started = new Map<string, number>();
  readonly #stopping = new Set<string>();
  readonly #stopListening: () => void;

  constructor(deps: RunBookDeps) {
    this.#deps = deps;
    this.#stopListening = deps.events.on((event) => {
      if (event.type === 'run.started') this.#started.set(event.run.runId, event.startedAt);
      else if (event.type === 'run.ended') {
        this.#started.delete(event.run.runId);
        this.#stopping.delete(event.run.runId);
      }
    });
  }

  /** The run was told to stop: it reads `aborted` until (and after) it ends. */
  markStopping(runId: string): void {
    if (this.#isOpen(runId)) this.#stopping.add(runId);
  }

  known(runId: string): boolean {
    return this.#deps.runs.get(runId) !== undefined || this.#deps.store.plansOfRun(runId).length > 0;
  }

  status(runId: string): RunStatus | undefined {
    const record = this.#deps.runs.get(runId);
    const plan = this.#deps.store.plansOfRun(runId)[0];
    if (record === undefined && plan === undefined) return undefined;
    const sessionKey = record?.sessionKey ?? (plan?.sessionKey as string);
    const tasks = plan === undefined ? [] : this.#deps.store.tasksOf(plan.planId);
    const open = this.#deps.turns().openRunIds(sessionKey).includes(runId);
    const state = this.#state(runId, open, record?.status, tasks, plan !== undefined);
    const now = this.#deps.now();
    return {
      runId,
      sessionKey,
      state,
      startedAt: this.#started.get(runId) ?? record?.startedAt ?? record?.createdAt ?? plan?.createdAt ?? now,
      ...(open || record?.endedAt === undefined ? {} : { endedAt: record.endedAt }),
      ...(plan === undefined ? {} : { plan: { planId: plan.planId, goal: plan.goal, tasks: tasks.map((job) => toTaskStatus(job, now)) } }),
    };
  }

  close(): void {
    this.#stopListening();
  }

  #isOpen(runId: string): boolean {
    const record = this.#deps.runs.get(runId);
    return record !== undefined && this.#deps.turns().openRunIds(record.sessionKey).includes(runId);
  }

  #state(runId: string, open: boolean, stored: string | undefined, tasks: readonly JobRecord[], planned: boolean): RunState {
    if (this.#stopping.has(runId)) return 'aborted';
    if (open) return this.#started.has(runId) ? 'running' : 'queued';
    switch (stored) {
      case 'ok':
        return planned ? stateFromPlan(tasks) : 'done';
      case 'error':
      case 'timeout':
        return 'error';
      case 'interrupted':
        // Cut off by a restart: its plan's jobs go on (at-least-once), so the plan tells where it stands.
        return planned ? stateFromPlan(tasks) : 'aborted';
      case 'aborted':
        return 'aborted';
      default:
        return 'running';
    }
  }
}
