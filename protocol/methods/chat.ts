/** Chat methods (protocol-openclaw.md §3). */
import { Type } from '@sinclair/typebox';
import { AnyRecord, ChatMessage, EpochMs, IdempotencyKey, NonEmptyString, SessionKey, defineMethod } from '../schema.js';
import { Scope } from '../scopes.js';

export const QueueMode = Type.Union([
  Type.Literal('followup'),
  Type.Literal('interrupt'),
  Type.Literal('steer'),
  Type.Literal('collect'),
]);

const Attachment = Type.Object({
  type: Type.Optional(Type.String()),
  mimeType: Type.Optional(Type.String()),
  fileName: Type.Optional(Type.String()),
  content: Type.Optional(Type.String()),
});

/** Ack of a chat turn: the run id is the idempotency key. */
export const ChatSendResult = Type.Object({
  runId: Type.String(),
  status: Type.Union([Type.Literal('started'), Type.Literal('in_flight'), Type.Literal('ok'), Type.Literal('error')]),
  messageSeq: Type.Optional(Type.Integer({ minimum: 1 })),
  summary: Type.Optional(Type.String()),
});

const SessionInfo = Type.Object({
  key: Type.String(),
  sessionId: Type.String(),
  agentId: Type.String(),
  label: Type.Optional(Type.String()),
  updatedAt: EpochMs,
});

const HistoryParams = Type.Object({
  sessionKey: SessionKey,
  agentId: Type.Optional(NonEmptyString),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  cursor: Type.Optional(Type.String()),
  maxBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  maxChars: Type.Optional(Type.Integer({ minimum: 1 })),
  sessionId: Type.Optional(Type.String()),
});

const HistoryResult = Type.Union([
  Type.Object({
    sessionKey: Type.String(),
    sessionId: Type.String(),
    messages: Type.Array(ChatMessage),
    defaults: AnyRecord,
    sessionInfo: SessionInfo,
    thinkingLevel: Type.Optional(Type.String()),
    fastMode: Type.Optional(Type.Boolean()),
    verboseLevel: Type.Optional(Type.String()),
    hasMore: Type.Boolean(),
    nextOffset: Type.Optional(Type.Integer({ minimum: 0 })),
    deltaCursor: Type.String(),
    inFlightRun: Type.Optional(Type.Object({ runId: Type.String(), text: Type.String() })),
  }),
  Type.Object({
    kind: Type.Literal('delta'),
    messages: Type.Array(ChatMessage),
    deltaCursor: Type.String(),
    sessionInfo: SessionInfo,
  }),
  Type.Object({ kind: Type.Literal('reset') }),
]);

const AbortResult = Type.Object({ ok: Type.Literal(true), aborted: Type.Boolean(), runIds: Type.Array(Type.String()) });

export const chatMethods = {
  'chat.send': defineMethod({
    scope: Scope.WRITE,
    summary: 'Send a user message to a session; acked at once, the reply streams as chat/agent events.',
    params: Type.Object({
      sessionKey: SessionKey,
      message: Type.String(),
      // OpenClaw requires it; openclaw-node's sessions.send() omits it, so brainstem generates one.
      idempotencyKey: Type.Optional(IdempotencyKey),
      agentId: Type.Optional(NonEmptyString),
      sessionId: Type.Optional(Type.String()),
      thinking: Type.Optional(Type.Unknown()),
      deliver: Type.Optional(Type.Boolean()),
      attachments: Type.Optional(Type.Array(Attachment)),
      timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
      queueMode: Type.Optional(QueueMode),
    }),
    result: ChatSendResult,
  }),
  'chat.history': defineMethod({
    scope: Scope.READ,
    summary: 'Transcript of a session, newest `limit` messages, oldest first.',
    params: HistoryParams,
    result: HistoryResult,
  }),
  'chat.startup': defineMethod({
    scope: Scope.READ,
    summary: 'Same as chat.history; the Control UI calls it on first load.',
    params: HistoryParams,
    result: HistoryResult,
  }),
  'chat.abort': defineMethod({
    scope: Scope.WRITE,
    summary: 'Abort the active run of a session (or one run by id) and its queued turns.',
    params: Type.Object({
      sessionKey: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      runId: Type.Optional(NonEmptyString),
      preserveSideRuns: Type.Optional(Type.Boolean()),
    }),
    result: AbortResult,
  }),
  'chat.inject': defineMethod({
    scope: Scope.ADMIN,
    summary: 'Append an assistant message to a transcript without running the model.',
    params: Type.Object({
      sessionKey: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      message: Type.String(),
      label: Type.Optional(Type.String()),
    }),
    result: Type.Object({ ok: Type.Literal(true), messageId: Type.String() }),
  }),
} as const;

export { AbortResult };
