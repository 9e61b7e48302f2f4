/**
 * Streams one run from the model provider: marks it running, builds the prompt, relays text as it comes,
 * enforces the whole-run timeout, and classifies how it ended. Storing the ending is the caller's job.
 *
 * The whole-run timeout (`timeoutMs` of the request, default `runTimeoutMs`) is one deadline for the run, from
 * its start to its end, across every model of a failover chain and every Retry-After wait: when it passes, the
 * run's signal aborts, no further model is tried, and the run ends `timeout`. Each model call also has the
 * providers' own limits (connect, first token, idle, `runMs` per call); one of those failing before any text
 * moves a chain on to its next model.
 */
import type { Logger } from 'pino';
import type { ErrorKind } from '../protocol/events.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { Store } from '../memory/store.js';
import type { IdentityService } from '../identity/types.js';
import { buildPrompt } from './prompt.js';
import { ProviderError, type ModelProvider } from './providers/types.js';
import type { ActiveRun } from './runs/active-run.js';
import type { RunEnded, RuntimeEvents } from './run-events.js';

export interface ExecutorDeps {
  store: Store;
  /** The sessions' active contexts: the prompt is built from the run's lease. */
  memory: MemoryService;
  provider: ModelProvider;
  identity: IdentityService | undefined;
  events: RuntimeEvents;
  now: () => number;
  /** Default model id. */
  model: string;
  logger: Logger;
}

export type ExecutedRun = Omit<RunEnded, 'message'>;

export async function executeRun(run: ActiveRun, deps: ExecutorDeps): Promise<ExecutedRun> {
  const startedAt = deps.now();
  run.startedAt = startedAt;
  deps.events.emit({ type: 'run.started', run: run.ref, startedAt });
  const timer = setTimeout(() => run.stop('timeout'), run.request.timeoutMs);
  timer.unref();
  let stopReason = 'stop';
  if (run.request.presetReply !== undefined) {
    clearTimeout(timer);
    return commandReply(run, deps, run.request.presetReply);
  }
  // The run's items are pinned until it ends: memory operations on them wait (SessionContext).
  const lease = deps.memory.lease(run.ref.sessionKey, run.sessionId, run.userMessageId);
  try {
    const { messages, tokens } = buildPrompt({
      identity: deps.identity?.packet(run.ref.agentId),
      extraSystemPrompt: run.request.extraSystemPrompt,
      items: lease.items,
      userMessage: { id: run.userMessageId, text: run.request.message, images: run.request.images },
    });
    const model = run.request.model ?? deps.model;
    for await (const event of deps.provider.stream({ model, messages, signal: run.signal, runId: run.ref.runId, promptTokens: tokens })) {
      run.signal.throwIfAborted();
      if (event.type === 'text') {
        if (event.text === '') continue;
        run.text += event.text;
        deps.events.emit({ type: 'run.text', run: run.ref, delta: event.text, text: run.text });
      } else if (event.type === 'usage') {
        run.usage = event.usage;
      } else if (event.type === 'model') {
        run.answeredBy = { model: event.model, provider: event.provider };
      } else if (event.type === 'status') {
        deps.events.emit({ type: 'run.status', run: run.ref, phase: event.phase, ...(event.detail ? { detail: event.detail } : {}) });
      } else {
        stopReason = event.stopReason;
      }
    }
    run.signal.throwIfAborted();
    return ended(run, deps, { status: 'ok', stopReason });
  } catch (err) {
    const how = classify(run, err);
    if (how.status === 'error') run.logger.warn({ err }, 'run failed');
    return ended(run, deps, how);
  } finally {
    clearTimeout(timer);
    lease.release();
  }
}

/** A slash command's reply, as one text chunk, attributed to brainstem rather than a model. */
function commandReply(run: ActiveRun, deps: ExecutorDeps, reply: string): ExecutedRun {
  run.answeredBy = { model: 'command', provider: 'brainstem' };
  run.text = reply;
  deps.events.emit({ type: 'run.text', run: run.ref, delta: reply, text: reply });
  return ended(run, deps, { status: 'ok', stopReason: 'command' });
}

function ended(run: ActiveRun, deps: ExecutorDeps, how: Pick<ExecutedRun, 'status' | 'stopReason' | 'error' | 'errorKind'>): ExecutedRun {
  return {
    ...how,
    text: run.text,
    startedAt: run.startedAt,
    endedAt: deps.now(),
    ...(run.usage === undefined ? {} : { usage: run.usage }),
  };
}

const ERROR_KINDS: Partial<Record<ProviderError['kind'], ErrorKind>> = {
  timeout: 'timeout',
  rate_limit: 'rate_limit',
  context_length: 'context_length',
  refusal: 'refusal',
};

function classify(run: ActiveRun, err: unknown): Pick<ExecutedRun, 'status' | 'stopReason' | 'error' | 'errorKind'> {
  switch (run.stopReason) {
    case 'aborted':
      return { status: 'aborted', stopReason: 'aborted' };
    case 'interrupted':
      return { status: 'interrupted', stopReason: 'interrupted', error: 'interrupted: the gateway is shutting down' };
    case 'timeout':
      return {
        status: 'timeout',
        stopReason: 'timeout',
        error: `run timed out after ${run.request.timeoutMs} ms`,
        errorKind: 'timeout',
      };
    case undefined:
      break;
  }
  if (err instanceof ProviderError) {
    return { status: 'error', stopReason: 'error', error: err.message, errorKind: ERROR_KINDS[err.kind] ?? 'unknown' };
  }
  return { status: 'error', stopReason: 'error', error: 'the model provider failed', errorKind: 'unknown' };
}
