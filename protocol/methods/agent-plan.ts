/**
 * The `agent.plan.v1` extension (protocol-extensions.md): `agent.status` and `agent.control` in, `agent.plan`,
 * `agent.progress` and `agent.blocked` out. Field names are the contract; fields marked "brainstem" are
 * additive and documented in the README.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ExtensionCap } from '../capabilities.js';
import { EpochMs, NonEmptyString, SessionKey, defineEvent, defineMethod } from '../schema.js';
import { Scope } from '../scopes.js';

const AGENT_PLAN = ExtensionCap.AGENT_PLAN_V1;

export const TaskState = Type.Union([
  Type.Literal('pending'),
  Type.Literal('running'),
  Type.Literal('blocked'),
  Type.Literal('done'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);
export type TaskState = Static<typeof TaskState>;

export const RunState = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('blocked'),
  Type.Literal('done'),
  Type.Literal('error'),
  Type.Literal('aborted'),
]);
export type RunState = Static<typeof RunState>;

export const BlockedNeeds = Type.Union([Type.Literal('user-input'), Type.Literal('retry'), Type.Literal('approval')]);
export type BlockedNeeds = Static<typeof BlockedNeeds>;

export const TaskStatus = Type.Object({
  taskId: Type.String(),
  title: Type.String(),
  /** `research`, `execution`, `status`, or another worker's name. */
  worker: Type.String(),
  state: TaskState,
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  dependsOn: Type.Array(Type.String()),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String()),
  attempts: Type.Integer({ minimum: 0 }),
  /** brainstem: the lane the task's job runs in. */
  lane: Type.Optional(Type.String()),
  /** brainstem: why a pending or blocked task does not run (`deps`, `paused`, `approval`, `user-input`). */
  hold: Type.Optional(Type.String()),
  /** brainstem: when a task waiting out its retry backoff runs again, epoch ms. */
  nextRunAt: Type.Optional(EpochMs),
  /** brainstem: the task's job used up its attempts (a dead letter; `agent.control retry` runs it again). */
  deadLetter: Type.Optional(Type.Boolean()),
});
export type TaskStatus = Static<typeof TaskStatus>;

export const PlanStatus = Type.Object({ planId: Type.String(), goal: Type.String(), tasks: Type.Array(TaskStatus) });
export type PlanStatus = Static<typeof PlanStatus>;

export const RunStatus = Type.Object({
  runId: Type.String(),
  sessionKey: Type.String(),
  state: RunState,
  startedAt: EpochMs,
  endedAt: Type.Optional(EpochMs),
  plan: Type.Optional(PlanStatus),
});
export type RunStatus = Static<typeof RunStatus>;

export const LaneStatus = Type.Object({
  name: Type.String(),
  running: Type.Integer({ minimum: 0 }),
  queued: Type.Integer({ minimum: 0 }),
  concurrency: Type.Integer({ minimum: 0 }),
  maxQueue: Type.Integer({ minimum: 0 }),
});
export type LaneStatus = Static<typeof LaneStatus>;

/** brainstem: a job that used up its attempts, kept until retried (`agent.control retry` with its id as taskId). */
export const DeadLetter = Type.Object({
  jobId: Type.String(),
  kind: Type.String(),
  lane: Type.String(),
  attempts: Type.Integer({ minimum: 0 }),
  lastError: Type.String(),
  failedAt: EpochMs,
  runId: Type.Optional(Type.String()),
  taskId: Type.Optional(Type.String()),
  sessionKey: Type.Optional(Type.String()),
});
export type DeadLetter = Static<typeof DeadLetter>;

export const IdentityStatus = Type.Object({
  sources: Type.Array(Type.Object({ agentId: Type.String(), file: Type.String(), sha256: Type.String(), bytes: Type.Integer({ minimum: 0 }) })),
  conflicts: Type.Array(Type.Object({ agentId: Type.String(), subject: Type.String(), winner: Type.String(), losers: Type.Array(Type.String()) })),
});

export const ControlAction = Type.Union([
  Type.Literal('cancel'),
  Type.Literal('pause'),
  Type.Literal('resume'),
  Type.Literal('retry'),
  Type.Literal('stop'),
]);
export type ControlAction = Static<typeof ControlAction>;

export const agentPlanMethods = {
  'agent.status': defineMethod({
    scope: Scope.READ,
    extension: AGENT_PLAN,
    summary: 'Runs with their plans and tasks, lanes, dead letters, identity sources and conflicts.',
    params: Type.Object({ sessionKey: Type.Optional(SessionKey), runId: Type.Optional(NonEmptyString) }),
    result: Type.Object({
      runs: Type.Array(RunStatus),
      lanes: Type.Array(LaneStatus),
      identity: IdentityStatus,
      deadLetters: Type.Array(DeadLetter),
    }),
  }),
  'agent.control': defineMethod({
    scope: Scope.WRITE,
    extension: AGENT_PLAN,
    summary: 'cancel, pause, resume, retry or stop a run, a task, or the runs of a session; answered after the state changed.',
    params: Type.Object({
      action: ControlAction,
      runId: Type.Optional(NonEmptyString),
      taskId: Type.Optional(NonEmptyString),
      sessionKey: Type.Optional(SessionKey),
    }),
    result: Type.Object({ ok: Type.Literal(true), affected: Type.Array(Type.String()) }),
  }),
} as const;

/** Where an agent event belongs: the run, its session and its plan (empty strings when the task has none). */
const PlanRef = {
  runId: Type.String(),
  sessionKey: Type.String(),
  planId: Type.String(),
};

export const AgentPlanPayload = Type.Object({
  ...PlanRef,
  goal: Type.String(),
  tasks: Type.Array(Type.Object({ taskId: Type.String(), title: Type.String(), worker: Type.String(), dependsOn: Type.Array(Type.String()) })),
  ts: EpochMs,
});
export type AgentPlanPayload = Static<typeof AgentPlanPayload>;

export const AgentProgressPayload = Type.Object({
  ...PlanRef,
  taskId: Type.Optional(Type.String()),
  /** The task's new state; without taskId the plan's (`running`, `blocked`, `done`) or `heartbeat`. */
  state: Type.String(),
  /** Fraction of the plan's tasks that are finished, 0..1. */
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  message: Type.String(),
  ts: EpochMs,
});
export type AgentProgressPayload = Static<typeof AgentProgressPayload>;

export const AgentBlockedPayload = Type.Object({
  ...PlanRef,
  taskId: Type.String(),
  reason: Type.String(),
  needs: BlockedNeeds,
  ts: EpochMs,
});
export type AgentBlockedPayload = Static<typeof AgentBlockedPayload>;

export const agentPlanEvents = {
  'agent.plan': defineEvent({ scope: Scope.READ, extension: AGENT_PLAN, summary: 'The brain made a plan for a run.', payload: AgentPlanPayload }),
  'agent.progress': defineEvent({
    scope: Scope.READ,
    extension: AGENT_PLAN,
    summary: 'A task changed state, or a plan-level message (heartbeat nudges).',
    payload: AgentProgressPayload,
  }),
  'agent.blocked': defineEvent({
    scope: Scope.READ,
    extension: AGENT_PLAN,
    summary: 'A task cannot go on: it needs user input, approval, or a retry after its attempts ran out.',
    payload: AgentBlockedPayload,
  }),
} as const;
