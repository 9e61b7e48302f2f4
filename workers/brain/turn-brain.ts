/** What TurnService asks of the brain (workers/brain/brain.ts): kept small so turns run the same without one. */
import type { ExecutedRun } from '../run-executor.js';
import type { ActiveRun } from '../runs/active-run.js';

/** Capacity reserved for a turn's planned work between its admission and its run. */
export interface TurnAdmission {
  /** The turn was stored under this runId: the reservation is kept for its run. */
  commit(runId: string): void;
  /** The turn was not stored (a duplicate, a conflict, an error): give the capacity back. */
  release(): void;
}

export interface TurnBrain {
  /**
   * Before a turn is stored: reserves room for the work it will plan; throws QUEUE_FULL when there is none.
   * `isRetry` (asked only for a turn that plans) tells a repeat of a stored request, which reserves nothing.
   */
  admit(turn: { sessionKey: string; message: string }, isRetry: () => boolean): TurnAdmission | undefined;
  /** After the reply streamed: plans, runs the tasks, appends the final reply. Never throws. */
  continueRun(run: ActiveRun, executed: ExecutedRun): Promise<ExecutedRun>;
}
