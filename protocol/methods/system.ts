/** Gateway, agent and model discovery methods (protocol-openclaw.md §3). */
import { Type } from '@sinclair/typebox';
import { AnyRecord, EpochMs, NonEmptyString, defineMethod } from '../schema.js';
import { Scope } from '../scopes.js';
import { HealthSnapshot, PresenceEntry } from './connect.js';

export const AgentIdentity = Type.Object({
  name: Type.Optional(Type.String()),
  emoji: Type.Optional(Type.String()),
  avatar: Type.Optional(Type.String()),
  avatarUrl: Type.Optional(Type.String()),
});

export const HeartbeatPayload = Type.Object({
  ts: EpochMs,
  status: Type.Union([
    Type.Literal('sent'),
    Type.Literal('ok-empty'),
    Type.Literal('ok-token'),
    Type.Literal('skipped'),
    Type.Literal('failed'),
  ]),
  reason: Type.Optional(Type.String()),
  durationMs: Type.Optional(Type.Number()),
  preview: Type.Optional(Type.String()),
});

const ModelEntry = Type.Object({
  id: Type.String(),
  name: Type.String(),
  provider: Type.String(),
  alias: Type.Optional(Type.String()),
  contextWindow: Type.Optional(Type.Integer()),
  reasoning: Type.Optional(Type.Boolean()),
  input: Type.Optional(Type.Array(Type.String())),
  available: Type.Optional(Type.Boolean()),
});

const CommandEntry = Type.Object({
  name: Type.String(),
  description: Type.String(),
  category: Type.Optional(Type.String()),
  source: Type.Literal('native'),
  scope: Type.Union([Type.Literal('text'), Type.Literal('native'), Type.Literal('both')]),
  acceptsArgs: Type.Boolean(),
});

export const systemMethods = {
  health: defineMethod({
    scope: 'none',
    summary: 'Health snapshot; needs no scope.',
    params: Type.Object({ probe: Type.Optional(Type.Boolean()) }),
    result: HealthSnapshot,
  }),
  status: defineMethod({
    scope: Scope.READ,
    summary: 'Free-form gateway summary: connections, sessions, runs, lanes, database.',
    params: Type.Object({}),
    result: AnyRecord,
  }),
  'system-presence': defineMethod({
    scope: Scope.READ,
    summary: 'Connected clients.',
    params: Type.Object({}),
    result: Type.Array(PresenceEntry),
  }),
  'last-heartbeat': defineMethod({
    scope: Scope.READ,
    summary: 'The last heartbeat event, or null.',
    params: Type.Object({}),
    result: Type.Union([HeartbeatPayload, Type.Null()]),
  }),
  'models.list': defineMethod({
    scope: Scope.READ,
    summary: 'Configured models; available tells whether the provider has what it needs (e.g. a key).',
    params: Type.Object({
      agentId: Type.Optional(NonEmptyString),
      sessionKey: Type.Optional(Type.String()),
      view: Type.Optional(Type.String()),
    }),
    result: Type.Object({ models: Type.Array(ModelEntry) }),
  }),
  'agents.list': defineMethod({
    scope: Scope.READ,
    summary: 'Agents with their identity (name, emoji, avatar).',
    params: Type.Object({}),
    result: Type.Object({
      defaultId: Type.String(),
      mainKey: Type.String(),
      scope: Type.Union([Type.Literal('per-sender'), Type.Literal('global')]),
      agents: Type.Array(
        Type.Object({
          id: Type.String(),
          name: Type.Optional(Type.String()),
          kind: Type.Optional(Type.String()),
          identity: Type.Optional(AgentIdentity),
          /** The agent's model and its failover chain, as model ids of models.list (OpenClaw's shape). */
          model: Type.Optional(Type.Object({ primary: Type.Optional(Type.String()), fallbacks: Type.Optional(Type.Array(Type.String())) })),
        }),
      ),
    }),
  }),
  'agent.identity.get': defineMethod({
    scope: Scope.READ,
    summary: 'Display identity of one agent.',
    params: Type.Object({ agentId: Type.Optional(NonEmptyString), sessionKey: Type.Optional(Type.String()) }),
    result: Type.Object({
      agentId: Type.String(),
      name: Type.Optional(Type.String()),
      nameSource: Type.Optional(Type.String()),
      avatar: Type.Optional(Type.String()),
      emoji: Type.Optional(Type.String()),
    }),
  }),
  'question.list': defineMethod({
    scope: Scope.QUESTIONS,
    summary: 'Questions the agent is waiting on; brainstem asks none (always empty).',
    params: Type.Object({}),
    result: Type.Object({ questions: Type.Array(AnyRecord) }),
  }),
  'plugin.approval.list': defineMethod({
    scope: Scope.APPROVALS,
    summary: 'Pending plugin approvals; brainstem has no plugins (always empty).',
    params: Type.Object({}),
    result: Type.Array(AnyRecord),
  }),
  'commands.list': defineMethod({
    scope: Scope.READ,
    summary: 'Slash commands brainstem handles inside a chat message.',
    params: Type.Object({
      sessionKey: Type.Optional(Type.String()),
      agentId: Type.Optional(Type.String()),
      provider: Type.Optional(Type.String()),
      scope: Type.Optional(Type.String()),
      includeArgs: Type.Optional(Type.Boolean()),
    }),
    result: Type.Object({ commands: Type.Array(CommandEntry) }),
  }),
} as const;
