/** Server-pushed events (protocol-openclaw.md §4, protocol-extensions.md). One definition per event. */
import { Type, type Static } from '@sinclair/typebox';
import { AnyRecord, AssistantSnapshot, ChatMessage, EpochMs, Usage, defineEvent } from './schema.js';
import { Scope } from './scopes.js';
import { HealthSnapshot, PresenceEntry } from './methods/connect.js';
import { HeartbeatPayload } from './methods/system.js';
import { SessionRow } from './methods/sessions.js';
import { MemoryId } from './methods/memory.js';
import { ExtensionCap } from './capabilities.js';

const ChatBase = {
  runId: Type.String(),
  sessionKey: Type.String(),
  agentId: Type.Optional(Type.String()),
  /** Per-run sequence. */
  seq: Type.Integer({ minimum: 0 }),
};

export const ErrorKind = Type.Union([
  Type.Literal('refusal'),
  Type.Literal('timeout'),
  Type.Literal('rate_limit'),
  Type.Literal('context_length'),
  Type.Literal('unknown'),
]);
export type ErrorKind = Static<typeof ErrorKind>;

export const ChatEventPayload = Type.Union([
  Type.Object({
    ...ChatBase,
    state: Type.Literal('delta'),
    deltaText: Type.String(),
    replace: Type.Optional(Type.Boolean()),
    message: AssistantSnapshot,
  }),
  Type.Object({
    ...ChatBase,
    state: Type.Literal('final'),
    message: Type.Optional(ChatMessage),
    stopReason: Type.Optional(Type.String()),
    usage: Type.Optional(Usage),
  }),
  Type.Object({
    ...ChatBase,
    state: Type.Literal('aborted'),
    message: Type.Optional(ChatMessage),
    errorMessage: Type.Optional(Type.String()),
    stopReason: Type.Optional(Type.String()),
  }),
  Type.Object({
    ...ChatBase,
    state: Type.Literal('error'),
    message: Type.Optional(ChatMessage),
    errorMessage: Type.Optional(Type.String()),
    errorKind: Type.Optional(ErrorKind),
    errorDetail: Type.Optional(Type.String()),
    stopReason: Type.Optional(Type.String()),
  }),
  Type.Object({
    ...ChatBase,
    state: Type.Literal('status'),
    phase: Type.String(),
    retry: Type.Optional(AnyRecord),
  }),
]);
export type ChatEventPayload = Static<typeof ChatEventPayload>;

export const AgentEventPayload = Type.Object({
  runId: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  stream: Type.String(),
  ts: EpochMs,
  data: AnyRecord,
  sessionKey: Type.Optional(Type.String()),
  agentId: Type.Optional(Type.String()),
});
export type AgentEventPayload = Static<typeof AgentEventPayload>;

export const EVENTS = {
  'connect.challenge': defineEvent({
    scope: 'none',
    summary: 'First frame on every socket; connect must follow.',
    payload: Type.Object({ nonce: Type.String(), ts: EpochMs, capabilities: Type.Array(Type.String()) }),
  }),
  chat: defineEvent({ scope: Scope.READ, summary: 'Chat run stream: delta, final, aborted, error, status.', payload: ChatEventPayload }),
  agent: defineEvent({ scope: Scope.READ, summary: 'Agent run stream: lifecycle and assistant text.', payload: AgentEventPayload }),
  tick: defineEvent({ scope: 'none', summary: 'Keep-alive every tickIntervalMs.', payload: Type.Object({ ts: EpochMs }) }),
  presence: defineEvent({
    scope: Scope.READ,
    summary: 'Connected clients changed.',
    payload: Type.Object({ presence: Type.Array(PresenceEntry) }),
  }),
  health: defineEvent({ scope: 'none', summary: 'Health snapshot every healthIntervalMs.', payload: HealthSnapshot }),
  heartbeat: defineEvent({ scope: 'none', summary: 'The agent heartbeat ran.', payload: HeartbeatPayload }),
  shutdown: defineEvent({
    scope: 'none',
    summary: 'The gateway is going down; the socket closes 1012 next.',
    payload: Type.Object({ reason: Type.String(), restartExpectedMs: Type.Optional(Type.Integer()) }),
  }),
  'sessions.changed': defineEvent({
    scope: Scope.READ,
    summary: 'A session was created, updated, reset or deleted (sessions.subscribe-rs only).',
    payload: Type.Object({
      sessionKey: Type.Optional(Type.String()),
      agentId: Type.Optional(Type.String()),
      reason: Type.String(),
      ts: EpochMs,
      session: Type.Optional(SessionRow),
    }),
  }),
  'session.message': defineEvent({
    scope: Scope.READ,
    summary: 'A message was appended to a transcript (sessions.messages.subscribe-rs only).',
    payload: Type.Object({
      sessionKey: Type.String(),
      message: ChatMessage,
      messageId: Type.Optional(Type.String()),
      messageSeq: Type.Optional(Type.Integer()),
      runId: Type.Optional(Type.String()),
    }),
  }),
  'session.ack': defineEvent({
    scope: 'none',
    summary: 'Extension negotiation result, right after hello-ok.',
    payload: Type.Object({
      capabilities: Type.Array(Type.String()),
      server: Type.Object({ name: Type.Literal('brainstem'), version: Type.String() }),
    }),
  }),
  'memory.event': defineEvent({
    scope: Scope.READ,
    extension: ExtensionCap.MEMORY_V1,
    summary: 'A memory operation happened (load, update, evict, summarize, recall, forget) or memory failed (error). sessionKey "*": the whole gateway.',
    payload: Type.Object({
      sessionKey: Type.String(),
      op: Type.Union([
        Type.Literal('load'),
        Type.Literal('update'),
        Type.Literal('evict'),
        Type.Literal('summarize'),
        Type.Literal('recall'),
        Type.Literal('forget'),
        Type.Literal('error'),
      ]),
      ids: Type.Array(MemoryId),
      summaryId: Type.Optional(MemoryId),
      reason: Type.Optional(Type.String()),
      ts: EpochMs,
    }),
  }),
} as const;

export type EventName = keyof typeof EVENTS;
export type EventPayload<N extends EventName> = Static<(typeof EVENTS)[N]['payload']>;
