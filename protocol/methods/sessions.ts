/** Session methods (protocol-openclaw.md §3). Keys are canonicalized (`main` → `agent:main:main`). */
import { Type, type Static } from '@sinclair/typebox';
import { AnyRecord, EpochMs, IdempotencyKey, NonEmptyString, SessionKey, defineMethod } from '../schema.js';
import { Scope, type MethodScope } from '../scopes.js';
import { AbortResult, ChatSendResult } from './chat.js';

export const SessionRow = Type.Object({
  key: Type.String(),
  kind: Type.String(),
  sessionId: Type.String(),
  agentId: Type.String(),
  createdAt: EpochMs,
  updatedAt: EpochMs,
  label: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  derivedTitle: Type.Optional(Type.String()),
  lastMessagePreview: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  modelProvider: Type.Optional(Type.String()),
  thinkingLevel: Type.Optional(Type.String()),
  fastMode: Type.Optional(Type.Boolean()),
  verboseLevel: Type.Optional(Type.String()),
  reasoningLevel: Type.Optional(Type.String()),
  pinned: Type.Optional(Type.Boolean()),
  archived: Type.Optional(Type.Boolean()),
  inputTokens: Type.Optional(Type.Integer({ minimum: 0 })),
  outputTokens: Type.Optional(Type.Integer({ minimum: 0 })),
  totalTokens: Type.Optional(Type.Integer({ minimum: 0 })),
  messageCount: Type.Integer({ minimum: 0 }),
  hasActiveRun: Type.Boolean(),
  activeRunIds: Type.Optional(Type.Array(Type.String())),
});
export type SessionRow = Static<typeof SessionRow>;

const ListParams = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  activeMinutes: Type.Optional(Type.Number({ minimum: 0 })),
  activeOnly: Type.Optional(Type.Boolean()),
  sortBy: Type.Optional(Type.String()),
  includeGlobal: Type.Optional(Type.Boolean()),
  includeDerivedTitles: Type.Optional(Type.Boolean()),
  includeLastMessage: Type.Optional(Type.Boolean()),
  label: Type.Optional(Type.String()),
  agentId: Type.Optional(NonEmptyString),
  search: Type.Optional(Type.String()),
  archived: Type.Optional(Type.Boolean()),
});

export const SessionsListResult = Type.Object({
  ts: EpochMs,
  path: Type.String(),
  count: Type.Integer({ minimum: 0 }),
  totalCount: Type.Integer({ minimum: 0 }),
  limitApplied: Type.Integer({ minimum: 0 }),
  nextOffset: Type.Optional(Type.Integer({ minimum: 0 })),
  hasMore: Type.Boolean(),
  defaults: AnyRecord,
  sessions: Type.Array(SessionRow),
});

const KeyParams = Type.Object({ key: SessionKey, agentId: Type.Optional(NonEmptyString) });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

const EntryResult = Type.Object({ ok: Type.Literal(true), key: Type.String(), entry: SessionRow, resolved: AnyRecord });

const SendParams = Type.Object({
  key: SessionKey,
  message: Type.String(),
  agentId: Type.Optional(NonEmptyString),
  thinking: Type.Optional(Type.Unknown()),
  attachments: Type.Optional(Type.Array(AnyRecord)),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
  idempotencyKey: Type.Optional(IdempotencyKey),
});

/** `sessions.delete` is admin, or write when it only deletes archived sessions (§6). */
function deleteScope(params: unknown): MethodScope {
  const archivedOnly = typeof params === 'object' && params !== null && (params as Record<string, unknown>).archivedOnly;
  return archivedOnly === true ? Scope.WRITE : Scope.ADMIN;
}

export const sessionsMethods = {
  'sessions.list': defineMethod({
    scope: Scope.READ,
    summary: 'List sessions, most recently updated first.',
    params: ListParams,
    result: SessionsListResult,
  }),
  'sessions.subscribe': defineMethod({
    scope: Scope.READ,
    summary: 'Receive sessions.changed events; with list params the first page comes back too.',
    params: ListParams,
    result: Type.Object({ subscribed: Type.Literal(true), list: Type.Optional(SessionsListResult) }),
  }),
  'sessions.unsubscribe': defineMethod({
    scope: Scope.READ,
    summary: 'Stop sessions.changed events.',
    params: Type.Object({}),
    result: Type.Object({ subscribed: Type.Literal(false) }),
  }),
  'sessions.messages.subscribe': defineMethod({
    scope: Scope.READ,
    summary: 'Receive session.message events (and, with session-scoped-events, chat/agent) for one session.',
    params: KeyParams,
    result: Type.Object({ subscribed: Type.Literal(true), key: Type.String() }),
  }),
  'sessions.messages.unsubscribe': defineMethod({
    scope: Scope.READ,
    summary: 'Stop session.message events for one session.',
    params: KeyParams,
    result: Type.Object({ subscribed: Type.Literal(false), key: Type.String() }),
  }),
  'sessions.create': defineMethod({
    scope: Scope.WRITE,
    summary: 'Create a session (key generated when absent; an existing key is adopted); with message, start its first turn.',
    params: Type.Object({
      key: Type.Optional(SessionKey),
      idempotencyKey: Type.Optional(IdempotencyKey),
      agentId: Type.Optional(NonEmptyString),
      label: Type.Optional(Type.String({ maxLength: 200 })),
      model: Type.Optional(NonEmptyString),
      thinkingLevel: Type.Optional(NonEmptyString),
      message: Type.Optional(Type.String()),
      timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
    }),
    result: Type.Object({
      ok: Type.Literal(true),
      key: Type.String(),
      sessionId: Type.String(),
      entry: SessionRow,
      runStarted: Type.Boolean(),
      runId: Type.Optional(Type.String()),
      messageSeq: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  }),
  'sessions.describe': defineMethod({
    scope: Scope.READ,
    summary: 'One session row.',
    params: Type.Object({
      key: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      includeDerivedTitles: Type.Optional(Type.Boolean()),
      includeLastMessage: Type.Optional(Type.Boolean()),
    }),
    result: Type.Object({ session: SessionRow }),
  }),
  'sessions.send': defineMethod({
    scope: Scope.WRITE,
    summary: 'chat.send addressed by session key; generates the idempotency key when absent.',
    params: SendParams,
    result: ChatSendResult,
  }),
  'sessions.steer': defineMethod({
    scope: Scope.WRITE,
    summary: 'Deprecated OpenClaw alias: sessions.send with queue mode interrupt.',
    params: SendParams,
    result: ChatSendResult,
  }),
  'sessions.abort': defineMethod({
    scope: Scope.WRITE,
    summary: 'Abort the active run of a session or one run by id; clearQueued also drops queued turns.',
    params: Type.Object({
      key: Type.Optional(SessionKey),
      runId: Type.Optional(NonEmptyString),
      agentId: Type.Optional(NonEmptyString),
      clearQueued: Type.Optional(Type.Boolean()),
    }),
    result: AbortResult,
  }),
  'sessions.patch': defineMethod({
    scope: Scope.WRITE,
    summary: 'Change session settings; null clears a field.',
    params: Type.Object({
      key: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      expectedSessionId: Type.Optional(NonEmptyString),
      label: Nullable(Type.String({ maxLength: 200 })),
      thinkingLevel: Nullable(Type.String()),
      fastMode: Nullable(Type.Boolean()),
      verboseLevel: Nullable(Type.String()),
      reasoningLevel: Nullable(Type.String()),
      model: Nullable(Type.String()),
      pinned: Nullable(Type.Boolean()),
      archived: Nullable(Type.Boolean()),
    }),
    result: EntryResult,
  }),
  'sessions.reset': defineMethod({
    scope: Scope.ADMIN,
    summary: 'Start a fresh transcript under a new sessionId; the old one stays on disk.',
    params: Type.Object({
      key: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      reason: Type.Optional(Type.Union([Type.Literal('new'), Type.Literal('reset')])),
      expectedSessionId: Type.Optional(NonEmptyString),
    }),
    result: EntryResult,
  }),
  'sessions.delete': defineMethod({
    scope: deleteScope,
    summary: 'Delete a session (its transcript too unless deleteTranscript is false).',
    params: Type.Object({
      key: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      deleteTranscript: Type.Optional(Type.Boolean()),
      archivedOnly: Type.Optional(Type.Boolean()),
    }),
    result: Type.Object({
      ok: Type.Literal(true),
      key: Type.String(),
      deleted: Type.Boolean(),
      archived: Type.Array(Type.String()),
    }),
  }),
  'sessions.compact': defineMethod({
    scope: Scope.ADMIN,
    summary: 'Keep the newest maxLines (default 400) transcript messages in the live history.',
    params: Type.Object({
      key: SessionKey,
      agentId: Type.Optional(NonEmptyString),
      maxLines: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
    result: Type.Object({
      ok: Type.Literal(true),
      key: Type.String(),
      compacted: Type.Boolean(),
      kept: Type.Integer({ minimum: 0 }),
      removed: Type.Integer({ minimum: 0 }),
    }),
  }),
} as const;
