/** Records of the durable job table (workers/jobs/job-store.ts) and the plans its tasks belong to. */

/**
 * pending → running → done | failed | dead.
 * - `pending`: admitted, waiting for a slot, its `nextRunAt` (retry backoff) or its `hold`;
 * - `running`: an attempt is under way (after a crash: retried, at-least-once);
 * - `done`: finished with a result;
 * - `failed`: ended for good without a result (cancelled, or a permanent error); not retried by itself;
 * - `dead`: a dead letter: every attempt failed; kept until `agent.control retry` runs it again.
 */
export type JobState = 'pending' | 'running' | 'done' | 'failed' | 'dead';

/** Why a pending job is not runnable: dependencies not done, paused, or blocked on a person. */
export type JobHold = 'deps' | 'paused' | 'approval' | 'user-input';

export interface JobRecord {
  id: string;
  /** Which handler runs it: `research`, `execution`, `status`, `index`, `heartbeat`, `memory-write`, ... */
  kind: string;
  lane: string;
  state: JobState;
  hold: JobHold | undefined;
  attempts: number;
  maxAttempts: number;
  /** Earliest time the next attempt may start, epoch ms. */
  nextRunAt: number;
  lastError: string | undefined;
  cancelled: boolean;
  /** Side-effecting jobs carry one: a second enqueue with the same key returns the first job. */
  idempotencyKey: string | undefined;
  payload: unknown;
  result: unknown;
  /** 0..1, reported by the handler while running. */
  progress: number;
  runId: string | undefined;
  sessionKey: string | undefined;
  planId: string | undefined;
  /** A task's title. */
  title: string | undefined;
  /** Task ids (job ids) this task waits for. */
  dependsOn: string[];
  /** A task's place in its plan, from 0. */
  position: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
}

export interface NewJob {
  id: string;
  kind: string;
  lane: string;
  maxAttempts: number;
  /** A JSON object (default `{}`). */
  payload?: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  runId?: string | undefined;
  sessionKey?: string | undefined;
  planId?: string | undefined;
  title?: string | undefined;
  dependsOn?: readonly string[];
  position?: number;
  hold?: JobHold | undefined;
  /** Default: now. */
  nextRunAt?: number;
}

export interface PlanRecord {
  planId: string;
  runId: string;
  sessionKey: string;
  goal: string;
  createdAt: number;
}
