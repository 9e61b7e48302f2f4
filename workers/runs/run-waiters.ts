/** Long-polls on run endings (`agent.wait`, graceful shutdown). Every wait ends by its timeout or signal. */
import type { RunRecord } from '../../memory/types.js';
import type { RunEnded } from '../run-events.js';

export interface WaitResult {
  runId: string;
  status: 'ok' | 'error' | 'timeout' | 'pending';
  startedAt?: number;
  endedAt?: number;
  error?: string;
  stopReason?: string;
}

type Resolver = (result: WaitResult) => void;

export class RunWaiters {
  readonly #waiting = new Map<string, Set<Resolver>>();

  static fromEnded(runId: string, ended: RunEnded): WaitResult {
    return RunWaiters.#result(runId, ended.status, ended.startedAt, ended.endedAt, ended.error, ended.stopReason);
  }

  static fromRecord(run: RunRecord): WaitResult {
    return RunWaiters.#result(run.runId, run.status, run.startedAt, run.endedAt, run.error, run.stopReason);
  }

  static #result(
    runId: string,
    status: string,
    startedAt: number | undefined,
    endedAt: number | undefined,
    error: string | undefined,
    stopReason: string | undefined,
  ): WaitResult {
    const waitStatus = status === 'ok' ? 'ok' : status === 'timeout' ? 'timeout' : 'error';
    return {
      runId,
      status: waitStatus,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(endedAt === undefined ? {} : { endedAt }),
      ...(error === undefined ? {} : { error }),
      ...(stopReason === undefined ? {} : { stopReason }),
    };
  }

  /** Resolves with the run's ending, or `timeout` after `timeoutMs`, or `timeout` when `signal` aborts. */
  wait(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    return new Promise((resolve) => {
      const set = this.#waiting.get(runId) ?? new Set<Resolver>();
      this.#waiting.set(runId, set);
      const finish: Resolver = (result) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(finish);
        if (set.size === 0 && this.#waiting.get(runId) === set) this.#waiting.delete(runId);
        resolve(result);
      };
      const onAbort = (): void => finish({ runId, status: 'timeout' });
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(finish);
    });
  }

  resolve(result: WaitResult): void {
    for (const finish of [...(this.#waiting.get(result.runId) ?? [])]) finish(result);
  }

  /** Resolves when all the runs have ended or after `timeoutMs`, whichever comes first. */
  async allEnded(runIds: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all(runIds.map((runId) => this.wait(runId, timeoutMs)));
  }
}
