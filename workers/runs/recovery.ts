/**
 * After a crash or restart: every run left queued or running is ended as `interrupted`, its idempotency
 * record completed (a repeat of the request gets the interruption, the turn is not run twice), and an
 * assistant message with `stopReason: "interrupted"` is added to its transcript so reconnecting clients see it.
 */
import type { Logger } from 'pino';
import type { Store } from '../../memory/store.js';
import type { RunRecord } from '../../memory/types.js';
import type { RunEnded } from '../run-events.js';
import { agentFinal, chatReplay } from '../responses.js';

export const INTERRUPTED_MESSAGE = 'interrupted: the gateway restarted before this run finished';

export function recoverInterruptedRuns(store: Store, now: number, idempotencyTtlMs: number, logger: Logger): number {
  const open = store.runs.open();
  // One commit for all of them: after a crash under load there are as many as were running or queued, up to
  // thousands, and the start waits for them (3,000 runs: 880 ms with a commit each, 234 ms in one).
  store.transaction(() => {
    for (const run of open) endInterrupted(store, run, now, idempotencyTtlMs);
  });
  // The caller logs the count once; each run only at debug.
  for (const run of open) logger.debug({ runId: run.runId, sessionKey: run.sessionKey, wasStatus: run.status }, 'run interrupted by restart');
  return open.length;
}

function endInterrupted(store: Store, run: RunRecord, now: number, idempotencyTtlMs: number): void {
  const ended: RunEnded = {
    status: 'interrupted',
    text: '',
    stopReason: 'interrupted',
    startedAt: run.startedAt,
    endedAt: now,
    error: INTERRUPTED_MESSAGE,
  };
  store.turns.finishWithin({
    runId: run.runId,
    idempotencyKey: run.runId,
    end: { status: 'interrupted', endedAt: now, error: INTERRUPTED_MESSAGE, stopReason: 'interrupted' },
    assistantMessage: {
      role: 'assistant',
      content: [],
      timestamp: now,
      stopReason: 'interrupted',
      errorMessage: INTERRUPTED_MESSAGE,
    },
    outcome: 'error',
    response: run.kind === 'agent' ? agentFinal(run.runId, ended) : chatReplay(run.runId, ended),
    expiresAt: now + idempotencyTtlMs,
  });
}
