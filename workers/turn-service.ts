/**
 * Chat turns from acceptance to their stored ending. `submit` checks idempotency and queue room, stores the
 * user turn (before the caller acks), and queues the run; the scheduler runs it; its ending is stored and
 * announced. Runs are keyed by runId = idempotencyKey.
 */
import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import { GatewayError } from '../protocol/errors.js';
import type { Store } from '../memory/store.js';
import type { StoredMessage, TranscriptMessage } from '../memory/types.js';
import { MAX_TIMER_MS } from './abortable.js';
import { executeRun, type ExecutorDeps, type ExecutedRun } from './run-executor.js';
import type { RunEnded, RunRef } from './run-events.js';
import { agentFinal, chatReplay } from './responses.js';
import { ActiveRun, type TurnRequest } from './runs/active-run.js';
import { SessionScheduler, type SchedulerStats } from './runs/session-scheduler.js';
import { TurnBatch } from './runs/turn-batch.js';
import type { CommandTurn } from './chat-commands.js';
import { RunWaiters, type WaitResult } from './runs/run-waiters.js';
import { recoverInterruptedRuns } from './runs/recovery.js';
import type { TurnAdmission, TurnBrain } from './brain/turn-brain.js';
import { parseAttachments, type CheckedImage } from './attachments.js';
import type { ModelImage } from './providers/types.js';

export interface TurnLimits {
  maxConcurrentRuns: number;
  maxQueuedTurnsPerSession: number;
  maxQueuedRuns: number;
  /** Default whole-run timeout, in ms. */
  runTimeoutMs: number;
  /** Lifetime of a finished request's idempotency record, in ms. */
  idempotencyTtlMs: number;
  /** Largest image attachment, decoded, in bytes. */
  attachmentMaxBytes: number;
  /** Bytes of message text and attachments that turns waiting to run may hold in all. */
  maxQueuedTurnBytes: number;
}

export interface TurnServiceDeps extends ExecutorDeps {
  limits: TurnLimits;
  /** The primary brain (agentRuntimeV1 + workersV1): plans after the reply and appends the final part. */
  brain?: TurnBrain | undefined;
}

export interface SubmitTurn {
  kind: 'chat' | 'agent';
  idempotencyKey: string;
  /** Canonical session key. */
  sessionKey: string;
  agentId: string;
  message: string;
  /** As the request sent them: checked and turned into images here (workers/attachments.ts). */
  attachments?: readonly unknown[] | undefined;
  queueMode: 'followup' | 'interrupt';
  timeoutMs?: number | undefined;
  extraSystemPrompt?: string | undefined;
  model?: string | undefined;
  /** A slash command: its effect runs once, only for a new request, before the turn is stored. */
  command?: CommandTurn | undefined;
  /**
   * Makes the request's logger (connId and reqId bound), to which the turn's log lines add runId and sessionKey.
   * Called only when the turn logs: most turns never do, and a pino child per turn costs ~2 % of the gateway's CPU.
   */
  logger?: (() => Logger) | undefined;
}

export type SubmitOutcome =
  | { kind: 'started'; runId: string; messageSeq: number; acceptedAt: number; sessionCreated: boolean }
  | { kind: 'in_flight'; runId: string }
  | { kind: 'finished'; runId: string; ok: boolean; response: unknown };

/** Seconds a client is told to wait when a queue is full. */
const QUEUE_FULL_RETRY_AFTER_MS = 1_000;

/** Expired idempotency records dropped per statement of a sweep (~6 ms of work). */
export const SWEEP_BATCH = 500;

export class TurnService {
  readonly #deps: TurnServiceDeps;
  readonly #scheduler: SessionScheduler;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #waiters = new RunWaiters();
  readonly #batch: TurnBatch;
  /** Idempotency keys whose accept waits for the batch commit: a repeat in the same batch waits for it. */
  readonly #accepting = new Map<string, Promise<unknown>>();
  /** Endings of runs cancelled before they started, being stored: `close()` waits for them. */
  readonly #cancelled = new Set<Promise<void>>();
  #sweeping: Promise<number> | undefined;
  #closing = false;

  constructor(deps: TurnServiceDeps) {
    this.#deps = deps;
    this.#batch = new TurnBatch(deps.store);
    this.#scheduler = new SessionScheduler({
      maxConcurrentRuns: deps.limits.maxConcurrentRuns,
      maxQueuedPerSession: deps.limits.maxQueuedTurnsPerSession,
      maxQueuedTotal: deps.limits.maxQueuedRuns,
      maxQueuedBytes: deps.limits.maxQueuedTurnBytes,
    });
  }

  /** Marks runs left open by a previous process as interrupted; returns how many there were. */
  recover(): number {
    return recoverInterruptedRuns(this.#deps.store, this.#deps.now(), this.#deps.limits.idempotencyTtlMs, this.#deps.logger);
  }

  /**
   * Accepts a turn: idempotency, queue room, the user turn stored (group commit) — resolves once it is on disk,
   * so the caller acks only what is stored — then queues the run.
   */
  async submit(input: SubmitTurn): Promise<SubmitOutcome> {
    if (this.#closing) throw new GatewayError('SHUTTING_DOWN');
    const pending = this.#accepting.get(input.idempotencyKey);
    if (pending !== undefined) await pending.catch(() => undefined);
    if (this.#closing) throw new GatewayError('SHUTTING_DOWN');
    const images = parseAttachments(input.attachments, this.#deps.limits.attachmentMaxBytes);
    const now = this.#deps.now();
    const requestHash = hashRequest(input.kind, input.sessionKey, input.message, images);
    const isRetry = this.#retryCheck(input.idempotencyKey, now);
    // What the turn holds in RAM until it runs (one byte per character: text is mostly ASCII, base64 all).
    const bytes = images.reduce((n, image) => n + image.data.length, input.message.length);
    const refusal = this.#scheduler.refusal(input.sessionKey, bytes);
    if (refusal !== undefined && !isRetry()) {
      throw new GatewayError('QUEUE_FULL', {
        params: { queue: refusal.queue },
        details: { queue: refusal.queue, limit: refusal.limit, ...(refusal.unit === 'bytes' ? { unit: 'bytes' } : {}) },
        retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS,
      });
    }
    if (input.command?.effect !== undefined && !isRetry()) input.command.effect();
    // The brain reserves lane room for work it can plan now (QUEUE_FULL before anything is stored).
    const admission: TurnAdmission | undefined = this.#deps.brain?.admit(input, isRetry);
    let accepted: ReturnType<Store['turns']['accept']>;
    const accepting = this.#batch.accept({
      idempotencyKey: input.idempotencyKey,
      method: input.kind,
      requestHash,
      sessionKey: input.sessionKey,
      agentId: input.agentId,
      kind: input.kind,
      userMessage: { role: 'user', content: userContent(input.message, images), timestamp: now },
      now,
    });
    this.#accepting.set(input.idempotencyKey, accepting);
    try {
      accepted = await accepting;
    } catch (err) {
      admission?.release();
      throw err;
    } finally {
      this.#accepting.delete(input.idempotencyKey);
    }
    if (accepted.kind === 'accepted') admission?.commit(input.idempotencyKey);
    else admission?.release();
    if (accepted.kind === 'conflict') {
      throw new GatewayError('CHAT_REQUEST_CONFLICT', { details: { reason: 'chat-request-conflict' } });
    }
    if (accepted.kind === 'duplicate') {
      const { record } = accepted;
      if (record.status === 'in_flight') return { kind: 'in_flight', runId: record.runId };
      return { kind: 'finished', runId: record.runId, ok: record.status === 'ok', response: record.response };
    }
    const ref: RunRef = { runId: input.idempotencyKey, sessionKey: accepted.session.key, agentId: input.agentId, kind: input.kind };
    const request: TurnRequest = {
      message: input.message,
      ...(images.length === 0 ? {} : { images }),
      // A client's timeout may be longer than a timer holds (OpenClaw takes any integer): it is then that long.
      timeoutMs: Math.min(input.timeoutMs ?? this.#deps.limits.runTimeoutMs, MAX_TIMER_MS),
      extraSystemPrompt: input.extraSystemPrompt,
      // A model the request names, else the one the session was patched to (sessions.patch, the TUI's /model).
      model: input.model ?? accepted.session.settings.model,
      ...(input.command === undefined ? {} : { presetReply: input.command.reply() }),
    };
    const makeLogger = (): Logger => (input.logger?.() ?? this.#deps.logger).child({ runId: ref.runId, sessionKey: ref.sessionKey });
    const run = new ActiveRun(ref, accepted.run.sessionId, now, accepted.userMessage.seq, request, makeLogger, accepted.userMessage.id);
    this.#runs.set(ref.runId, run);
    this.#remember(accepted.userMessage, run);
    this.#deps.events.emit({ type: 'message.stored', message: accepted.userMessage });
    if (accepted.sessionCreated) this.#sessionChanged(ref, 'created');
    this.#scheduler.enqueue(
      {
        runId: ref.runId,
        sessionKey: ref.sessionKey,
        bytes,
        run: () => this.#execute(run),
        cancel: (reason) => this.#cancel(run, reason === 'aborted' ? 'aborted' : 'interrupted'),
      },
      input.queueMode,
    );
    return { kind: 'started', runId: ref.runId, messageSeq: accepted.userMessage.seq, acceptedAt: now, sessionCreated: accepted.sessionCreated };
  }

  /**
   * Whether a request's idempotency key is stored already (a retry), read at most once and only when asked. A
   * retry gets its result even when the queue is full, runs no command effect again and reserves no lane room;
   * a fresh turn that meets none of these is never asked, and skips the read: its accept reads the key anyway,
   * inside the group commit, while a read of its own takes and drops a WAL read lock (a missing key: 3.5–3.8 µs
   * alone, against 0.6 µs inside a transaction).
   */
  #retryCheck(idempotencyKey: string, now: number): () => boolean {
    let known: boolean | undefined;
    return () => (known ??= this.#deps.store.idempotency.get(idempotencyKey, now) !== undefined);
  }

  /** Aborts one run of a session, or the session's active run (and queued ones with `clearQueued`). */
  abort(sessionKey: string, options: { runId?: string | undefined; clearQueued: boolean }): string[] {
    if (options.runId !== undefined) {
      const run = this.#runs.get(options.runId);
      if (run === undefined || run.ref.sessionKey !== sessionKey) return [];
      return this.#scheduler.abortRun(options.runId) ? [options.runId] : [];
    }
    return this.#scheduler.abortSession(sessionKey, options.clearQueued);
  }

  /** Aborts a run by id wherever it is; false when no such run is open. */
  abortRun(runId: string): boolean {
    return this.#scheduler.abortRun(runId);
  }

  /** Waits up to `timeoutMs` for a run to end (`pending` right away when 0 and it is open). */
  wait(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    const stored = this.#deps.store.runs.get(runId);
    const open = this.#runs.has(runId);
    if (stored !== undefined && !open && stored.status !== 'queued' && stored.status !== 'running') {
      return Promise.resolve(RunWaiters.fromRecord(stored));
    }
    if (timeoutMs === 0) return Promise.resolve({ runId, status: 'pending', ...(stored?.startedAt ? { startedAt: stored.startedAt } : {}) });
    return this.#waiters.wait(runId, Math.min(timeoutMs, MAX_TIMER_MS), signal);
  }

  /** The active run of a session and its text so far (chat.history's `inFlightRun`). */
  inFlight(sessionKey: string): { runId: string; text: string } | undefined {
    const runId = this.#scheduler.activeRunId(sessionKey);
    const run = runId === undefined ? undefined : this.#runs.get(runId);
    return run === undefined ? undefined : { runId: run.ref.runId, text: run.text };
  }

  /** Active and queued run ids of a session, active first. */
  openRunIds(sessionKey: string): string[] {
    // A run that has finished is no longer open, even while the scheduler still holds its lane slot
    // (it lets go only after #finish has announced the end).
    const active = this.#scheduler.activeRunId(sessionKey);
    const open = active !== undefined && this.#runs.has(active);
    return [...(open ? [active] : []), ...this.#scheduler.queuedRunIds(sessionKey)];
  }

  /** Canonical keys of the sessions with an active or queued run. */
  openSessionKeys(): string[] {
    return [...new Set([...this.#runs.values()].map((run) => run.ref.sessionKey))];
  }

  stats(): SchedulerStats {
    return this.#scheduler.stats();
  }

  /** Turns waiting in the longest session lane. */
  deepestQueue(): number {
    return this.#scheduler.deepestQueue();
  }

  /**
   * Drops idempotency records past their lifetime, SWEEP_BATCH per statement with the event loop free between
   * two (under steady load a minute's worth expires at once: 30,000 records at 500 turns/s, ~0.4 s as one
   * statement); stops when the service closes. A sweep already going on is joined. Logs what it did (a
   * failure at warn) and resolves with how many were dropped.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepAll().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepAll(): Promise<number> {
    let dropped = 0;
    try {
      while (!this.#closing) {
        const batch = this.#deps.store.idempotency.sweep(this.#deps.now(), SWEEP_BATCH);
        dropped += batch;
        if (batch < SWEEP_BATCH) break;
        await setImmediate();
      }
      if (dropped > 0) this.#deps.logger.debug({ dropped }, 'expired idempotency records dropped');
    } catch (err) {
      this.#deps.logger.warn({ err, dropped }, 'idempotency sweep failed');
    }
    return dropped;
  }

  /**
   * Stops accepting turns, gives running ones `graceMs` to finish, then interrupts them and everything
   * queued. Turns whose accept was being committed are stored and queued first, so they end interrupted too.
   * Every ending is stored before this resolves: the store may be closed next. Safe to call twice.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    while (this.#accepting.size > 0) await Promise.allSettled([...this.#accepting.values()]);
    const running = [...this.#runs.values()].filter((run) => run.startedAt !== undefined);
    if (running.length > 0 && graceMs > 0) await this.#waiters.allEnded(running.map((r) => r.ref.runId), graceMs);
    for (const run of this.#runs.values()) if (run.startedAt !== undefined) run.stop('interrupted');
    await this.#scheduler.drain('shutdown');
    await Promise.allSettled(this.#cancelled);
  }

  async #execute(run: ActiveRun): Promise<void> {
    if (run.signal.aborted) return this.#finish(run, notStarted(run, this.#deps.now()));
    const executed = await executeRun(run, this.#deps);
    // The session's next turn starts only once this one's ending is stored (the scheduler waits for this).
    await this.#finish(run, this.#deps.brain === undefined ? executed : await this.#deps.brain.continueRun(run, executed));
  }

  #cancel(run: ActiveRun, reason: 'aborted' | 'interrupted'): void {
    run.stop(reason);
    if (run.startedAt !== undefined) return;
    const ending: Promise<void> = this.#finish(run, notStarted(run, this.#deps.now())).finally(() => this.#cancelled.delete(ending));
    this.#cancelled.add(ending);
  }

  /** Stores the run's ending (group commit), then announces it: the final event is sent for what is on disk. */
  async #finish(run: ActiveRun, executed: ExecutedRun): Promise<void> {
    if (!this.#runs.delete(run.ref.runId)) return;
    const assistant = assistantMessage(run, executed, this.#deps.model, this.#deps.provider.id);
    const ended: RunEnded = { ...executed };
    const response = run.ref.kind === 'agent' ? agentFinal(run.ref.runId, ended) : chatReplay(run.ref.runId, ended);
    let stored: StoredMessage | undefined;
    try {
      stored = await this.#batch.finish({
        runId: run.ref.runId,
        idempotencyKey: run.ref.runId,
        sessionKey: run.ref.sessionKey,
        sessionId: run.sessionId,
        end: { status: executed.status, startedAt: executed.startedAt, endedAt: executed.endedAt, error: executed.error, errorKind: executed.errorKind, stopReason: executed.stopReason, usage: executed.usage },
        assistantMessage: assistant,
        outcome: executed.status === 'ok' ? 'ok' : 'error',
        response,
        expiresAt: executed.endedAt + this.#deps.limits.idempotencyTtlMs,
      });
    } catch (err) {
      run.logger.error({ err }, 'storing the end of a run failed');
    }
    if (stored !== undefined) {
      this.#remember(stored, run);
      ended.message = stored;
      this.#deps.events.emit({ type: 'message.stored', message: stored });
    }
    this.#deps.events.emit({ type: 'run.ended', run: run.ref, ended });
    this.#sessionChanged(run.ref, 'updated');
    this.#waiters.resolve(RunWaiters.fromEnded(run.ref.runId, ended));
  }

  /** The stored message enters its session's active context; memory never fails a turn. */
  #remember(stored: StoredMessage, run: ActiveRun): void {
    try {
      // The turn's logger is made only if memory logs about this append at a level that is on: a context at its
      // limit logs an eviction at debug on every append, and making the logger (two pino children) for a line
      // that is dropped cost ~19 µs a turn.
      this.#deps.memory.appendMessage(stored, {
        debug: (obj, msg) => {
          if (this.#deps.logger.isLevelEnabled('debug')) run.logger.debug(obj, msg);
        },
        info: (obj, msg) => run.logger.info(obj, msg),
        warn: (obj, msg) => run.logger.warn(obj, msg),
      });
    } catch (err) {
      run.logger.error({ err }, 'adding the message to the active context failed');
    }
  }

  #sessionChanged(ref: RunRef, reason: string): void {
    const { store } = this.#deps;
    this.#deps.events.emit({ type: 'session.changed', sessionKey: ref.sessionKey, agentId: ref.agentId, reason, session: () => store.sessions.get(ref.sessionKey) });
  }
}

function notStarted(run: ActiveRun, now: number): ExecutedRun {
  const status = run.stopReason === 'interrupted' ? 'interrupted' : 'aborted';
  return { status, stopReason: status, text: '', startedAt: undefined, endedAt: now };
}

function assistantMessage(run: ActiveRun, executed: ExecutedRun, defaultModel: string, provider: string): TranscriptMessage | undefined {
  const failed = executed.status === 'error' || executed.status === 'timeout' || executed.status === 'interrupted';
  if (executed.text === '' && !(failed && run.startedAt !== undefined)) return undefined;
  return {
    role: 'assistant',
    content: executed.text === '' ? [] : [{ type: 'text', text: executed.text }],
    timestamp: executed.endedAt,
    // The model that really answered (after a failover too), when the provider named it.
    model: run.answeredBy?.model ?? run.request.model ?? defaultModel,
    provider: run.answeredBy?.provider ?? provider,
    stopReason: executed.stopReason,
    ...(executed.usage === undefined ? {} : { usage: executed.usage }),
    ...(executed.error === undefined ? {} : { errorMessage: executed.error }),
  };
}

/** What makes two requests "the same input" for idempotency: kind, session, text and images (by their bytes' hash). */
export function hashRequest(kind: SubmitTurn['kind'], sessionKey: string, message: string, images: readonly CheckedImage[]): string {
  const canonical = JSON.stringify([kind, sessionKey, message, images.length === 0 ? null : images.map((image) => [image.mimeType, image.sha256])]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** A user message as the transcript keeps it: the text alone, or a text block (if any) then the images. */
function userContent(message: string, images: readonly ModelImage[]): TranscriptMessage['content'] {
  if (images.length === 0) return message;
  const text = message === '' ? [] : [{ type: 'text' as const, text: message }];
  return [...text, ...images.map((image) => ({ type: 'image' as const, data: image.data, mimeType: image.mimeType }))];
}
