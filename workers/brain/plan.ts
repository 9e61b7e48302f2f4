/** A plan as the brain holds it before it becomes durable tasks (workers/agent/execution-worker.ts). */

/**
 * How the brain plans: `rules` (rules-planner.ts, the offline provider); `model` (asks the model after every
 * reply); `model-on-lists` (asks the model only when the message has a numbered or bulleted list — a user
 * spelling out steps — so plain chat turns cost one model call, as without the runtime).
 */
export type PlannerKind = 'rules' | 'model' | 'model-on-lists';

/** The workers of v1; a task names one. */
export const WORKERS = ['research', 'execution', 'status'] as const;
export type WorkerName = (typeof WORKERS)[number];

export interface PlannedTask {
  title: string;
  worker: WorkerName;
  /** Positions (0-based) of the tasks this one waits for; always earlier-or-later tasks of the same plan, no cycles. */
  dependsOn: number[];
}

export interface Plan {
  goal: string;
  tasks: PlannedTask[];
}

/** Longest task title kept, in characters. */
export const TASK_TITLE_MAX_CHARS = 200;
/** Longest goal kept, in characters. */
export const GOAL_MAX_CHARS = 500;

export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** True when the dependencies form no cycle (Kahn's algorithm). */
export function acyclic(tasks: readonly PlannedTask[]): boolean {
  const remaining = tasks.map((task) => new Set(task.dependsOn));
  const done = new Set<number>();
  let progressed = true;
  while (progressed) {
    progressed = false;
    remaining.forEach((deps, i) => {
      if (done.has(i) || [...deps].some((d) => !done.has(d))) return;
      done.add(i);
      progressed = true;
    });
  }
  return done.size === tasks.length;
}
