/**
 * The transactions of a turn. Accepting a turn reserves its idempotency key, creates the run and stores the
 * user message in one transaction — before the ack is sent. Finishing a turn stores the assistant message,
 * the run's ending and the replayable response in one transaction.
 */
import type { Db } from './db.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { RunEnd, RunsStore } from './runs-store.js';
import type { SessionsStore } from './sessions-store.js';
import type { TranscriptStore } from './transcript-store.js';
import type {
  IdempotencyRecord,
  RunKind,
  RunRecord,
  SessionRecord,
  StoredMessage,
  TranscriptMessage,
} from './types.js';

export interface AcceptTurnInput {
  idempotencyKey: string;
  method: string;
  /** Hash of the request's meaningful input: same key with another hash is a conflict. */
  requestHash: string;
  sessionKey: string;
  agentId: string;
  kind: RunKind;
  userMessage: TranscriptMessage;
  now: number;
}

export type AcceptTurnResult =
  | { kind: 'accepted'; run: RunRecord; session: SessionRecord; sessionCreated: boolean; userMessage: StoredMessage }
  | { kind: 'duplicate'; record: IdempotencyRecord }
  | { kind: 'conflict'; record: IdempotencyRecord };

export interface FinishTurnInput {
  runId: string;
  idempotencyKey: string;
  /** Where the run lives, when the caller knows (saves reading the run row). */
  sessionKey?: string;
  sessionId?: string;
  end: RunEnd;
  assistantMessage: TranscriptMessage | undefined;
  outcome: 'ok' | 'error';
  /** What a repeat of the request gets from now on. */
  response: unknown;
  expiresAt: number;
}

export class TurnStore {
  readonly #accept;
  readonly #finish;

  constructor(
    db: Db,
    private readonly stores: {
      sessions: SessionsStore;
      transcript: TranscriptStore;
      runs: RunsStore;
      idempotency: IdempotencyStore;
    },
  ) {
    this.#accept = db.transaction((input: AcceptTurnInput): AcceptTurnResult => this.#acceptTx(input));
    this.#finish = db.transaction((input: FinishTurnInput): StoredMessage | undefined => this.#finishTx(input));
  }

  accept(input: AcceptTurnInput): AcceptTurnResult {
    return this.#accept(input);
  }

  /** Returns the stored assistant message, if one was given and its session still exists. */
  finish(input: FinishTurnInput): StoredMessage | undefined {
    return this.#finish(input);
  }

  /**
   * `accept` without a savepoint of its own, inside the caller's transaction: if it throws, some of its writes
   * may be done, so the caller must roll back the whole transaction. A savepoint costs its two statements and a
   * copy of every page the turn writes (~15) into the sub-journal; a group commit pays that only after a failure.
   */
  acceptWithin(input: AcceptTurnInput): AcceptTurnResult {
    return this.#acceptTx(input);
  }

  /** `finish` without a savepoint of its own, as `acceptWithin`. */
  finishWithin(input: FinishTurnInput): StoredMessage | undefined {
    return this.#finishTx(input);
  }

  #acceptTx(input: AcceptTurnInput): AcceptTurnResult {
    const { sessions, transcript, runs, idempotency } = this.stores;
    const existing = idempotency.get(input.idempotencyKey, input.now);
    if (existing !== undefined) {
      const same = existing.requestHash === input.requestHash && existing.method === input.method;
      return same ? { kind: 'duplicate', record: existing } : { kind: 'conflict', record: existing };
    }
    const { session, created } = sessions.ensure(input.sessionKey, input.agentId, input.now);
    idempotency.reserve(input.idempotencyKey, input.method, input.requestHash, input.idempotencyKey, input.now);
    const runBase = {
      runId: input.idempotencyKey,
      sessionKey: session.key,
      sessionId: session.sessionId,
      agentId: input.agentId,
      kind: input.kind,
      createdAt: input.now,
    };
    runs.insert(runBase);
    const userMessage = transcript.append(session.key, session.sessionId, input.userMessage, input.idempotencyKey);
    const run: RunRecord = {
      ...runBase,
      status: 'queued',
      startedAt: undefined,
      endedAt: undefined,
      error: undefined,
      errorKind: undefined,
      stopReason: undefined,
      usage: undefined,
    };
    return { kind: 'accepted', run, session, sessionCreated: created, userMessage };
  }

  #finishTx(input: FinishTurnInput): StoredMessage | undefined {
    const { sessions, transcript, runs, idempotency } = this.stores;
    const where = input.sessionKey !== undefined && input.sessionId !== undefined ? { sessionKey: input.sessionKey, sessionId: input.sessionId } : runs.get(input.runId);
    runs.end(input.runId, input.end);
    idempotency.complete(input.idempotencyKey, input.outcome, input.response, input.expiresAt);
    if (where === undefined) return undefined;
    const tokens = { input: input.end.usage?.input ?? 0, output: input.end.usage?.output ?? 0 };
    if (input.assistantMessage === undefined) {
      if (tokens.input + tokens.output > 0) sessions.addTokens(where.sessionKey, tokens.input, tokens.output);
      return undefined;
    }
    // Undefined when the session was deleted while the run went on: there is nowhere to store the reply.
    return transcript.appendIfSession(where.sessionKey, where.sessionId, input.assistantMessage, input.runId, tokens);
  }
}
