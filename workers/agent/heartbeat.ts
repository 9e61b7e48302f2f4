/**
 * The heartbeat worker: every `heartbeatIntervalMs` it queues one check in the background lane (never in a
 * session's turn lane, so it never delays a user turn; at most one check queued or running at a time). The
 * check is skipped while the main session has a turn open, and leaves alone every plan whose session has one.
 * For the other plans with unfinished work it looks for blocked and stale tasks, suggests next actions and
 * nudges the user (`agent.progress` with state `heartbeat`); for a blocked plan it may queue one speculative,
 * read-only task (more research about the blocked task) with its rationale in the nudge. It reads HEARTBEAT.md
 * from the workspace, when there is one, as a list of standing checks shown in the heartbeat's preview.
 * Every check ends with OpenClaw's `heartbeat` event (and `last-heartbeat` answers it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Static } from '@sinclair/typebox';
import { stripHtmlComments } from '../../identity/text.js';
import { newMemoryId } from '../../memory/ids.js';
import type { HeartbeatPayload } from '../../protocol/methods/system.js';
import { clip } from '../brain/plan.js';
import { listItemOf } from '../brain/rules-planner.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord, PlanRecord } from '../jobs/job-types.js';
import type { AgentEvents } from './agent-events.js';
import { planLine } from './status-worker.js';
import { isFinished, planFraction, taskState } from './task-view.js';
import type { TurnControl } from './turn-control.js';

/** Bytes of HEARTBEAT.md read at most. */
export const HEARTBEAT_FILE_MAX_BYTES = 16_384;
/** Characters of the heartbeat event's `preview`. */
export const HEARTBEAT_PREVIEW_CHARS = 200;
export const HEARTBEAT_FILE = 'HEARTBEAT.md';

type Beat = Static<typeof HeartbeatPayload>;

export interface HeartbeatDeps {
  intervalMs: number;
  staleTaskMs: number;
  /** Plans looked at per check (the newest). */
  maxPlans: number;
  maxAttempts: number;
  mainSessionKey: string;
  workspace: string;
  store: JobStore;
  runner: () => JobRunner;
  turns: () => TurnControl;
  events: AgentEvents;
  now: () => number;
  logger: Logger;
}

export class Heartbeat {
  readonly #deps: HeartbeatDeps;
  #timer: NodeJS.Timeout | undefined;
  #queued = false;

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#deps.intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  /** Queues a check in the background lane; false when one is already queued or the lane has no room. */
  tick(): boolean {
    if (this.#queued) return false;
    if (this.#busy(this.#deps.mainSessionKey)) {
      this.#emit({ ts: this.#deps.now(), status: 'skipped', reason: 'session busy' });
      return false;
    }
    const id = `heartbeat_${newMemoryId(this.#deps.now())}`;
    const queued = this.#deps.runner().runEphemeral('background', id, async (signal) => {
      try {
        this.#emit(await this.beat(signal));
      } catch (err) {
        if (!signal.aborted) {
          this.#deps.logger.warn({ err }, 'heartbeat check failed');
          this.#emit({ ts: this.#deps.now(), status: 'failed', reason: err instanceof Error ? err.message : String(err) });
        }
      } finally {
        this.#queued = false;
      }
    });
    if (!queued) this.#emit({ ts: this.#deps.now(), status: 'skipped', reason: 'background lane full' });
    this.#queued = queued;
    return queued;
  }

  /** One check (see the file comment); returns the `heartbeat` payload. */
  async beat(signal: AbortSignal): Promise<Beat> {
    const started = performance.now();
    const ts = this.#deps.now();
    const done = (beat: Omit<Beat, 'ts' | 'durationMs'>): Beat => ({ ts, durationMs: Math.round((performance.now() - started) * 100) / 100, ...beat });
    if (this.#busy(this.#deps.mainSessionKey)) return done({ status: 'skipped', reason: 'session busy' });
    const checks = await readChecklist(this.#deps.workspace, signal);
    const nudges: string[] = [];
    let busy = 0;
    for (const plan of this.#deps.store.recentPlans(this.#deps.maxPlans)) {
      const tasks = this.#deps.store.tasksOf(plan.planId);
      if (tasks.every((job) => isFinished(taskState(job)))) continue;
      if (this.#busy(plan.sessionKey)) {
        busy += 1;
        continue;
      }
      const nudge = this.#nudge(plan, tasks);
      if (nudge !== undefined) nudges.push(nudge);
    }
    const preview = nudges[0] ?? (checks === undefined ? undefined : `${HEARTBEAT_FILE}: ${checks.join('; ')}`);
    const shown = preview === undefined ? {} : { preview: clip(preview, HEARTBEAT_PREVIEW_CHARS) };
    if (nudges.length > 0) return done({ status: 'sent', ...shown });
    if (busy > 0) return done({ status: 'skipped', reason: 'session busy', ...shown });
    return done({ status: checks === undefined ? 'ok-empty' : 'ok-token', ...shown });
  }

  /** Stops the timer; safe to call twice. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #busy(sessionKey: string): boolean {
    return this.#deps.turns().openRunIds(sessionKey).length > 0;
  }

  #emit(beat: Beat): void {
    this.#deps.events.emit({ type: 'heartbeat', payload: beat });
  }

  /** Suggestions for a plan's blocked and stale tasks, sent as `agent.progress`; undefined when none. */
  #nudge(plan: PlanRecord, tasks: JobRecord[]): string | undefined {
    const now = this.#deps.now();
    const suggestions: string[] = [];
    const blocked = tasks.filter((job) => taskState(job) === 'blocked' || (taskState(job) === 'failed' && !job.cancelled));
    for (const job of blocked) {
      const title = `"${job.title ?? job.kind}"`;
      if (job.hold === 'approval') suggestions.push(`approve ${title} with agent.control resume`);
      else if (job.hold === 'user-input') suggestions.push(`answer ${title}, or agent.control resume to go on without it`);
      else suggestions.push(`retry ${title} with agent.control retry`);
    }
    for (const job of tasks) {
      const state = taskState(job);
      if ((state === 'pending' || state === 'running') && now - job.updatedAt > this.#deps.staleTaskMs) {
        suggestions.push(`"${job.title ?? job.kind}" has not moved for ${Math.round((now - job.updatedAt) / 60_000)} min: check it or cancel it`);
      }
    }
    if (suggestions.length === 0) return undefined;
    const speculative = blocked[0] === undefined ? undefined : this.#speculate(plan, tasks, blocked[0]);
    const message = `heartbeat: ${planLine(tasks)}; next: ${suggestions.join('; ')}${speculative === undefined ? '' : `; ${speculative}`}`;
    this.#deps.events.emit({
      type: 'agent.progress',
      payload: { runId: plan.runId, sessionKey: plan.sessionKey, planId: plan.planId, state: 'heartbeat', progress: planFraction(tasks), message, ts: now },
    });
    return message;
  }

  /** Queues one read-only research task for a blocked task (once per blocked task); returns its rationale. */
  #speculate(plan: PlanRecord, tasks: readonly JobRecord[], blocked: JobRecord): string | undefined {
    const key = `speculative:${blocked.id}`;
    if (tasks.some((job) => job.idempotencyKey === key)) return undefined;
    const runner = this.#deps.runner();
    if (runner.refusal(new Map([['background', 1]])) !== undefined) return undefined;
    const title = clip(`Research more for "${blocked.title ?? blocked.kind}"`, 200);
    const rationale = `"${blocked.title ?? blocked.kind}" is blocked (${blocked.hold ?? 'needs a retry'}); more research is read-only and low-risk, so it runs meanwhile`;
    const job = runner.enqueue({
      id: `task_${newMemoryId(this.#deps.now())}`,
      kind: 'research',
      lane: 'background',
      maxAttempts: this.#deps.maxAttempts,
      idempotencyKey: key,
      payload: { goal: plan.goal, speculative: true, rationale },
      runId: plan.runId,
      sessionKey: plan.sessionKey,
      planId: plan.planId,
      title,
      position: tasks.length,
    });
    this.#deps.events.emit({
      type: 'agent.progress',
      payload: { runId: plan.runId, sessionKey: plan.sessionKey, planId: plan.planId, taskId: job.id, state: 'pending', progress: planFraction([...tasks, job]), message: `queued speculative task "${title}": ${rationale}`, ts: this.#deps.now() },
    });
    return `queued "${title}" — ${rationale}`;
  }
}

/** The standing checks of HEARTBEAT.md (list items, else non-empty lines), or undefined without the file. */
export async function readChecklist(workspace: string, signal: AbortSignal): Promise<string[] | undefined> {
  let text: string;
  try {
    const bytes = await readFile(join(workspace, HEARTBEAT_FILE), { signal });
    text = bytes.subarray(0, HEARTBEAT_FILE_MAX_BYTES).toString('utf8');
  } catch (err) {
    signal.throwIfAborted();
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const lines = stripHtmlComments(text).text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const items = lines.map(listItemOf).filter((item): item is string => item !== undefined);
  return items.length > 0 ? items : lines;
}
