/**
 * An in-memory ModelProvider that plays one scripted attempt per call, for tests of code that drives
 * providers (failover chain, run manager). It records every request and honours the request's signal.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ModelInfo, ModelProvider, ModelRequest, ModelStreamEvent } from '../../workers/providers/types.js';
import { ProviderError } from '../../workers/providers/types.js';

export interface ScriptedAttempt {
  /** Text pieces yielded first. */
  texts?: string[];
  /** Wait before each piece, in ms (abortable). */
  delayMs?: number;
  /** Thrown after the texts; without it the attempt ends with usage and `done`. */
  error?: ProviderError;
}

export interface ScriptedProvider extends ModelProvider {
  requests: ModelRequest[];
  /** How many times close() was called. */
  closeCalls: number;
}

/** `attempts[i]` answers the i-th call; calls past the end answer `ok from <id>`. */
export function scriptedProvider(id: string, attempts: ScriptedAttempt[] = []): ScriptedProvider {
  const requests: ModelRequest[] = [];
  const provider: ScriptedProvider = {
    id,
    requests,
    closeCalls: 0,
    models: (): ModelInfo[] => [{ id, name: `${id}-model`, provider: 'scripted', available: true }],
    async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
      const attempt = attempts[requests.length] ?? { texts: [`ok from ${id}`] };
      requests.push(request);
      for (const text of attempt.texts ?? []) {
        if (attempt.delayMs) await abortableDelay(attempt.delayMs, request.signal, id);
        yield { type: 'text', text };
      }
      if (request.signal.aborted) throw new ProviderError('aborted', `${id}: aborted`);
      if (attempt.error) throw attempt.error;
      yield { type: 'usage', usage: { input: 1, output: 1, totalTokens: 2 } };
      yield { type: 'done', stopReason: 'stop' };
    },
    async close() {
      provider.closeCalls++;
    },
  };
  return provider;
}

async function abortableDelay(ms: number, signal: AbortSignal, id: string): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    throw new ProviderError('aborted', `${id}: aborted`);
  }
}
