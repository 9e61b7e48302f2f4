/**
 * agent.status and agent.control over the runtime. Session keys arrive canonical (the server resolves them).
 *
 * agent.control targets, most specific first: `taskId` (a task, or any job by id such as a dead letter),
 * `runId` (the run and every task of its plan), `sessionKey` (the session's runs and plans). On a run,
 * `cancel` and `stop` abort the run (its provider stream at once; queued, it never starts) and cancel its
 * unfinished tasks. On a session, `cancel` does that to the active run, `stop` also drops the queued turns.
 * `pause`, `resume` and `retry` act on the tasks (task-control.ts). Everything is synchronous: when the answer
 * goes out, the state agent.status shows and the events sent already agree.
 */
import { GatewayError } from '../../protocol/errors.js';
import type { ControlAction, DeadLetter, LaneStatus, RunStatus } from '../../protocol/methods/agent-plan.js';
import type { JobRecord } from '../jobs/job-types.js';
import { isFinished, taskState } from './task-view.js';
import type { AgentRuntime } from './agent-runtime.js';

/** The limits of the turn lane (the session scheduler), shown as lane `turns`. */
export interface TurnLaneLimits {
  concurrency: number;
  maxQueue: number;
}

export interface AgentStatus {
  runs: RunStatus[];
  lanes: LaneStatus[];
  identity: {
    sources: { agentId: string; file: string; sha256: string; bytes: number }[];
    conflicts: { agentId: string; subject: string; winner: string; losers: string[] }[];
  };
  deadLetters: DeadLetter[];
}

export function agentStatus(runtime: AgentRuntime, turnLane: TurnLaneLimits, params: { sessionKey?: string | undefined; runId?: string | undefined }): AgentStatus {
  const { options, turns } = runtime.deps;
  let runs: RunStatus[];
  if (params.runId !== undefined) {
    const run = runtime.book.status(params.runId);
    if (run === undefined || (params.sessionKey !== undefined && run.sessionKey !== params.sessionKey)) throw new GatewayError('UNKNOWN_RUN', { params: { runId: params.runId } });
    runs = [run];
  } else {
    const keys = params.sessionKey === undefined ? turns().openSessionKeys() : [params.sessionKey];
    const ids = new Set(keys.flatMap((key) => turns().openRunIds(key)));
    for (const plan of runtime.store.recentPlans(options.statusMaxRuns, params.sessionKey)) ids.add(plan.runId);
    runs = [...ids].slice(0, options.statusMaxRuns).flatMap((id) => runtime.book.status(id) ?? []);
  }
  const stats = turns().stats();
  const lanes: LaneStatus[] = [
    { name: 'turns', running: stats.running, queued: stats.queued, concurrency: turnLane.concurrency, maxQueue: turnLane.maxQueue },
    ...(options.workers ? runtime.runner.lanes() : []),
  ];
  return { runs, lanes, identity: identityStatus(runtime), deadLetters: runtime.store.deadLetters(options.statusMaxRuns).map(deadLetter) };
}

export function agentControl(
  runtime: AgentRuntime,
  params: { action: ControlAction; runId?: string | undefined; taskId?: string | undefined; sessionKey?: string | undefined },
): string[] {
  const { action } = params;
  if (params.taskId !== undefined) {
    const job = runtime.store.get(params.taskId);
    if (job === undefined || (params.runId !== undefined && job.runId !== params.runId)) throw new GatewayError('UNKNOWN_TASK', { params: { taskId: params.taskId } });
    return runtime.tasks.apply(action, [job]);
  }
  if (params.runId !== undefined) {
    if (!runtime.book.known(params.runId)) throw new GatewayError('UNKNOWN_RUN', { params: { runId: params.runId } });
    return controlRun(runtime, action, params.runId);
  }
  if (params.sessionKey !== undefined) return controlSession(runtime, action, params.sessionKey);
  throw new GatewayError('INVALID_PARAMS', { params: { method: 'agent.control', detail: 'taskId, runId or sessionKey is required' } });
}

function controlRun(runtime: AgentRuntime, action: ControlAction, runId: string): string[] {
  const affected: string[] = [];
  if (action === 'cancel' || action === 'stop') {
    runtime.book.markStopping(runId);
    if (runtime.deps.turns().abortRun(runId)) affected.push(runId);
  }
  return [...affected, ...runtime.tasks.apply(action, tasksOfRun(runtime, runId, action))];
}

function controlSession(runtime: AgentRuntime, action: ControlAction, sessionKey: string): string[] {
  const turns = runtime.deps.turns();
  const affected: string[] = [];
  if (action === 'cancel' || action === 'stop') {
    const open = turns.openRunIds(sessionKey);
    for (const runId of action === 'stop' ? open : open.slice(0, 1)) runtime.book.markStopping(runId);
    affected.push(...turns.abort(sessionKey, { clearQueued: action === 'stop', ...(action === 'cancel' && open[0] !== undefined ? { runId: open[0] } : {}) }));
  }
  const plans = runtime.store.recentPlans(runtime.deps.options.statusMaxRuns, sessionKey);
  const stopped = new Set(affected);
  const jobs = plans
    .filter((plan) => action !== 'cancel' || stopped.has(plan.runId))
    .flatMap((plan) => runtime.store.tasksOf(plan.planId))
    .filter((job) => !((action === 'cancel' || action === 'stop') && isFinished(taskState(job))));
  return [...affected, ...runtime.tasks.apply(action, jobs)];
}

function tasksOfRun(runtime: AgentRuntime, runId: string, action: ControlAction): JobRecord[] {
  const tasks = runtime.store.plansOfRun(runId).flatMap((plan) => runtime.store.tasksOf(plan.planId));
  return action === 'cancel' || action === 'stop' ? tasks.filter((job) => !isFinished(taskState(job))) : tasks;
}

function deadLetter(job: JobRecord): DeadLetter {
  return {
    jobId: job.id,
    kind: job.kind,
    lane: job.lane,
    attempts: job.attempts,
    lastError: job.lastError ?? 'failed',
    failedAt: job.endedAt ?? job.updatedAt,
    ...(job.runId === undefined ? {} : { runId: job.runId }),
    ...(job.planId === undefined ? {} : { taskId: job.id }),
    ...(job.sessionKey === undefined ? {} : { sessionKey: job.sessionKey }),
  };
}

function identityStatus(runtime: AgentRuntime): AgentStatus['identity'] {
  const { identity } = runtime.deps;
  const sources: AgentStatus['identity']['sources'] = [];
  const conflicts: AgentStatus['identity']['conflicts'] = [];
  for (const agentId of identity.agentIds()) {
    const packet = identity.packet(agentId);
    for (const source of packet.sources) sources.push({ agentId, file: source.file, sha256: source.sha256, bytes: source.bytes });
    for (const conflict of packet.conflicts) conflicts.push({ agentId, subject: conflict.subject, winner: conflict.winner, losers: [...conflict.losers] });
  }
  return { sources, conflicts };
}
