/** The in-memory state of one run, from accepted to ended. One AbortController per run. */
import type { Logger } from 'pino';
import type { ModelImage, ModelUsage } from '../providers/types.js';
import type { RunRef } from '../run-events.js';

/** Why a run was stopped from outside. */
export type StopReason = 'aborted' | 'timeout' | 'interrupted';

export interface TurnRequest {
  /** The user's text as sent. */
  message: string;
  /** The images attached to it, shown to the model with it. */
  images?: readonly ModelImage[] | undefined;
  /** Whole-run timeout in ms. */
  timeoutMs: number;
  extraSystemPrompt?: string | undefined;
  /** Model override for this run. */
  model?: string | undefined;
  /** The reply of a slash command: streamed as is, no model is called. */
  presetReply?: string | undefined;
}

export class ActiveRun {
  readonly controller = new AbortController();
  text = '';
  startedAt: number | undefined;
  usage: ModelUsage | undefined;
  /** The model answering, as the provider last named it (a failover chain names each model it tries). */
  answeredBy: { model: string; provider: string } | undefined;
  #stopReason: StopReason | undefined;

  constructor(
    readonly ref: RunRef,
    readonly sessionId: string,
    readonly createdAt: number,
    /** Transcript seq of the turn's user message: the run sees the history up to it. */
    readonly userSeq: number,
    readonly request: TurnRequest,
    /** Makes the turn's logger (request id, runId, sessionKey bound); called on first use only. */
    makeLogger: () => Logger,
    /** MemoryID of the turn's user message (its item in the session's active context). */
    readonly userMessageId: string | undefined = undefined,
  ) {
    this.#makeLogger = makeLogger;
  }

  readonly #makeLogger: () => Logger;
  #logger: Logger | undefined;

  /** Logs about this turn: carries the request id (reqId), runId and sessionKey. Made on first use. */
  get logger(): Logger {
    return (this.#logger ??= this.#makeLogger());
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopReason(): StopReason | undefined {
    return this.#stopReason;
  }

  /** Stops the run now; the first reason wins. */
  stop(reason: StopReason): void {
    this.#stopReason ??= reason;
    if (!this.controller.signal.aborted) this.controller.abort(new Error(`run ${reason}`));
  }
}
