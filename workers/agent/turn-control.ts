/** What the agent runtime needs of the turn service (workers/turn-service.ts has exactly this). */
import type { RunRecord } from '../../memory/types.js';

export interface TurnControl {
  /** Aborts a run by id wherever it is (streaming or queued); false when no such run is open. */
  abortRun(runId: string): boolean;
  /** Aborts the session's active run (and the queued ones with clearQueued); returns the run ids. */
  abort(sessionKey: string, options: { runId?: string | undefined; clearQueued: boolean }): string[];
  /** Active and queued run ids of a session, active first. */
  openRunIds(sessionKey: string): string[];
  openSessionKeys(): string[];
  stats(): { running: number; queued: number; sessions: number };
}

/** Stored runs (memory/runs-store.ts). */
export interface RunsReader {
  get(runId: string): RunRecord | undefined;
}
