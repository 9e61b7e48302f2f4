/** The `agent` method (two responses) and `agent.wait` (protocol-openclaw.md §3). */
import { Type } from '@sinclair/typebox';
import { AnyRecord, EpochMs, IdempotencyKey, NonEmptyString, SessionKey, defineMethod } from '../schema.js';
import { Scope, type MethodScope } from '../scopes.js';

const RunTerminalStatus = Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('timeout')]);

export const AgentAccepted = Type.Object({
  runId: Type.String(),
  sessionKey: Type.String(),
  agentId: Type.String(),
  status: Type.Literal('accepted'),
  acceptedAt: EpochMs,
});

export const AgentFinal = Type.Object({
  runId: Type.String(),
  status: RunTerminalStatus,
  summary: Type.Union([Type.Literal('completed'), Type.Literal('failed'), Type.Literal('aborted')]),
  stopReason: Type.Optional(Type.String()),
  result: Type.Object({
    payloads: Type.Array(Type.Object({ text: Type.String() })),
    meta: Type.Object({ durationMs: Type.Number() }, { additionalProperties: true }),
  }),
});

const SESSION_COMMANDS = /^\/(new|reset)\b/i;

/** `/new` and `/reset` through `agent` need admin (§6); everything else needs write. */
function agentScope(params: unknown): MethodScope {
  const message = typeof params === 'object' && params !== null ? (params as Record<string, unknown>).message : undefined;
  return typeof message === 'string' && SESSION_COMMANDS.test(message.trim()) ? Scope.ADMIN : Scope.WRITE;
}

export const agentMethods = {
  agent: defineMethod({
    scope: agentScope,
    summary: 'Run one agent turn; answers twice on the same id: accepted, then the final result.',
    params: Type.Object({
      message: NonEmptyString,
      idempotencyKey: IdempotencyKey,
      agentId: Type.Optional(NonEmptyString),
      sessionKey: Type.Optional(SessionKey),
      sessionId: Type.Optional(Type.String()),
      thinking: Type.Optional(Type.Unknown()),
      deliver: Type.Optional(Type.Boolean()),
      attachments: Type.Optional(Type.Array(AnyRecord)),
      timeout: Type.Optional(Type.Number({ minimum: 0 })),
      extraSystemPrompt: Type.Optional(Type.String()),
      provider: Type.Optional(Type.String()),
      model: Type.Optional(Type.String()),
      label: Type.Optional(Type.String()),
    }),
    result: Type.Union([AgentAccepted, AgentFinal, Type.Object({ runId: Type.String(), status: Type.Literal('in_flight') })]),
  }),
  'agent.wait': defineMethod({
    scope: Scope.WRITE,
    summary: 'Wait up to timeoutMs (default 30000) for a run to end.',
    params: Type.Object({ runId: NonEmptyString, timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })) }),
    result: Type.Object({
      runId: Type.String(),
      status: Type.Union([RunTerminalStatus, Type.Literal('pending')]),
      startedAt: Type.Optional(EpochMs),
      endedAt: Type.Optional(EpochMs),
      error: Type.Optional(Type.String()),
      stopReason: Type.Optional(Type.String()),
    }),
  }),
} as const;
