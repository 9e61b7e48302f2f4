/**
 * The primary brain: the planner loop of a turn, and with run-executor.ts the only caller of the model.
 * A turn streams its immediate reply as always (run-executor.ts); then, when the goal needs work beyond one
 * reply, the brain makes a short plan (rules-planner.ts, or model-planner.ts for real models — by default only
 * for messages that list steps, see PlannerKind), hands the tasks
 * to the worker pool, waits until the plan has nothing more to run by itself, and appends the final part of
 * the reply made from the tasks' structured results — streamed on the same run, so every client (legacy ones
 * too) sees one reply that pauses while the workers run. It also writes the results to long-term memory (a
 * side-effecting job with an idempotency key).
 *
 * With the rules planner the plan is known when the turn is submitted: `admit` reserves lane capacity for it
 * then, and refuses the turn with QUEUE_FULL (nothing stored) when there is none. A model plan is known only
 * after the reply; when its lanes have no room then, the reply says so and no task starts.
 *
 * The brain never fails a turn: a planning or synthesis failure leaves the reply as the model gave it.
 * The run's signal bounds every wait; a stop cancels the plan's unfinished tasks at once, a shutdown leaves
 * them to run after the restart.
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { IdentityService } from '../../identity/types.js';
import { ExecutionWorker } from '../agent/execution-worker.js';
import { queueFullError } from '../agent/queue-full.js';
import { isFinished, taskState } from '../agent/task-view.js';
import type { JobRunner, Reservation } from '../jobs/job-runner.js';
import type { ModelProvider } from '../providers/types.js';
import type { ExecutedRun } from '../run-executor.js';
import type { RuntimeEvents } from '../run-events.js';
import type { ActiveRun } from '../runs/active-run.js';
import { planWithModel } from './model-planner.js';
import type { Plan, PlannerKind } from './plan.js';
import { hasListItem, planByRules } from './rules-planner.js';
import { renderResults, synthesisMessages, taskOutcomes, type TaskOutcome } from './synthesis.js';
import type { TurnAdmission, TurnBrain } from './turn-brain.js';

export interface BrainDeps {
  planner: PlannerKind;
  provider: ModelProvider;
  /** Default model id. */
  model: string;
  identity: IdentityService | undefined;
  events: RuntimeEvents;
  board: ExecutionWorker;
  runner: JobRunner;
  /** Write each plan's results to long-term memory (memoryV1). */
  writeMemory: boolean;
  maxTasks: number;
  plannerTimeoutMs: number;
  maxAttempts: number;
  now: () => number;
  logger: Logger;
}

interface Admitted {
  plan: Plan;
  reservation: Reservation;
}

export class Brain implements TurnBrain {
  readonly #deps: BrainDeps;
  readonly #admitted = new Map<string, Admitted>();
  readonly #stopListening: () => void;

  constructor(deps: BrainDeps) {
    this.#deps = deps;
    // A turn that ends without reaching the brain (aborted while queued) gives its reservation back.
    this.#stopListening = deps.events.on((event) => {
      if (event.type === 'run.ended') this.#release(event.run.runId);
    });
  }

  admit(turn: { sessionKey: string; message: string }, isRetry: () => boolean): TurnAdmission | undefined {
    if (this.#deps.planner !== 'rules') return undefined;
    const plan = planByRules(turn.message, this.#deps.maxTasks);
    if (plan === undefined || isRetry()) return undefined;
    const demand = ExecutionWorker.demand(plan);
    const refusal = this.#deps.runner.refusal(demand);
    if (refusal !== undefined) throw queueFullError(refusal);
    const reservation = this.#deps.runner.reserve(demand);
    return {
      commit: (runId) => {
        this.#admitted.set(runId, { plan, reservation });
      },
      release: () => reservation.release(),
    };
  }

  async continueRun(run: ActiveRun, executed: ExecutedRun): Promise<ExecutedRun> {
    const admitted = this.#admitted.get(run.ref.runId);
    this.#admitted.delete(run.ref.runId);
    try {
      if (executed.status !== 'ok' || run.signal.aborted) return executed;
      return await this.#work(run, executed, admitted);
    } catch (err) {
      if (!run.signal.aborted) this.#deps.logger.error({ err, runId: run.ref.runId }, 'the brain failed after the reply; the turn keeps its reply');
      // Stopped: the run's signal and its tasks are aborted already, and agent.status says so. Storing and
      // announcing its ending waits for the next event-loop phase, so the answer to the stop is not held
      // back behind that work (it is flushed once the current phase's microtasks are done).
      else await setImmediate();
      return this.#ending(run, executed);
    } finally {
      admitted?.reservation.release();
    }
  }

  /** Stops listening; safe to call twice. */
  close(): void {
    this.#stopListening();
    for (const runId of [...this.#admitted.keys()]) this.#release(runId);
  }

  #release(runId: string): void {
    this.#admitted.get(runId)?.reservation.release();
    this.#admitted.delete(runId);
  }

  async #work(run: ActiveRun, executed: ExecutedRun, admitted: Admitted | undefined): Promise<ExecutedRun> {
    const remaining = run.request.timeoutMs - (this.#deps.now() - (executed.startedAt ?? this.#deps.now()));
    const deadline = setTimeout(() => run.stop('timeout'), Math.max(0, remaining));
    deadline.unref();
    try {
      const plan = admitted?.plan ?? (await this.#modelPlan(run, executed));
      if (plan === undefined || plan.tasks.length === 0) return executed;
      if (admitted === undefined) {
        const refusal = this.#deps.runner.refusal(ExecutionWorker.demand(plan));
        if (refusal !== undefined) {
          this.#append(run, `\n\n(The ${refusal.lane} queue is full, so the ${plan.tasks.length} planned tasks did not start; ask again in ${Math.ceil(refusal.retryAfterMs / 1000)} s.)`);
          return { ...executed, text: run.text, endedAt: this.#deps.now() };
        }
      }
      const { planId } = this.#deps.board.createPlan({ runId: run.ref.runId, sessionKey: run.ref.sessionKey }, plan);
      admitted?.reservation.release(); // the plan's jobs now count in their lanes
      try {
        await this.#deps.board.waitSettled(planId, run.signal);
      } catch (err) {
        if (run.stopReason === 'aborted' || run.stopReason === 'timeout') this.cancelUnfinished(planId);
        throw err;
      }
      const outcomes = taskOutcomes(this.#deps.board.tasks(planId));
      await this.#synthesize(run, plan, executed.text, outcomes);
      if (this.#deps.writeMemory) this.#rememberResults(run, planId, plan, outcomes);
      return { ...executed, text: run.text, endedAt: this.#deps.now() };
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Cancels every task of a plan that is not finished; returns their ids. */
  cancelUnfinished(planId: string): string[] {
    const cancelled: string[] = [];
    for (const job of this.#deps.board.tasks(planId)) {
      if (!isFinished(taskState(job)) && this.#deps.runner.cancel(job.id)) cancelled.push(job.id);
    }
    return cancelled;
  }

  async #modelPlan(run: ActiveRun, executed: ExecutedRun): Promise<Plan | undefined> {
    if (this.#deps.planner === 'rules') return undefined;
    if (this.#deps.planner === 'model-on-lists' && !hasListItem(run.request.message)) return undefined;
    const outcome = await planWithModel(this.#deps.provider, {
      goal: run.request.message,
      reply: executed.text,
      model: run.request.model ?? this.#deps.model,
      runId: run.ref.runId,
      maxTasks: this.#deps.maxTasks,
      timeoutMs: this.#deps.plannerTimeoutMs,
      signal: run.signal,
    });
    if (outcome.plan === undefined && outcome.reason !== 'no-plan') {
      this.#deps.logger.info({ runId: run.ref.runId, reason: outcome.reason, err: outcome.error }, 'no plan for this turn');
    }
    return outcome.plan;
  }

  async #synthesize(run: ActiveRun, plan: Plan, reply: string, outcomes: TaskOutcome[]): Promise<void> {
    if (this.#deps.planner === 'rules') return this.#append(run, renderResults(plan.goal, outcomes));
    try {
      const messages = synthesisMessages(this.#deps.identity?.packet(run.ref.agentId).systemPrompt, plan.goal, reply, outcomes);
      this.#append(run, '\n\n');
      const stream = this.#deps.provider.stream({ model: run.request.model ?? this.#deps.model, messages, signal: run.signal, runId: `${run.ref.runId}:final` });
      for await (const event of stream) {
        run.signal.throwIfAborted();
        if (event.type === 'text' && event.text !== '') this.#append(run, event.text);
      }
    } catch (err) {
      run.signal.throwIfAborted();
      this.#deps.logger.warn({ err, runId: run.ref.runId }, 'the model could not write the final reply; the results are rendered instead');
      const rendered = renderResults(plan.goal, outcomes);
      this.#append(run, run.text.endsWith('\n\n') ? rendered.slice(2) : rendered);
    }
  }

  #append(run: ActiveRun, delta: string): void {
    run.text += delta;
    this.#deps.events.emit({ type: 'run.text', run: run.ref, delta, text: run.text });
  }

  /** The plan's results become a document item of the session (once, whatever the retries and restarts). */
  #rememberResults(run: ActiveRun, planId: string, plan: Plan, outcomes: readonly TaskOutcome[]): void {
    try {
      this.#deps.runner.enqueue({
        id: `job_memory_${planId}`,
        kind: 'memory-write',
        lane: 'background',
        maxAttempts: this.#deps.maxAttempts,
        idempotencyKey: `plan-results:${planId}`,
        payload: { sessionKey: run.ref.sessionKey, path: `plans/${planId}`, text: renderResults(plan.goal, outcomes).trim() },
        runId: run.ref.runId,
        sessionKey: run.ref.sessionKey,
      });
    } catch (err) {
      this.#deps.logger.warn({ err, planId }, 'the plan results could not be queued for memory');
    }
  }

  /** How a run ends when the brain's phase was cut short: by its stop reason, else with the reply as it is. */
  #ending(run: ActiveRun, executed: ExecutedRun): ExecutedRun {
    const base = { ...executed, text: run.text, endedAt: this.#deps.now() };
    switch (run.stopReason) {
      case 'aborted':
        return { ...base, status: 'aborted', stopReason: 'aborted' };
      case 'interrupted':
        return { ...base, status: 'interrupted', stopReason: 'interrupted', error: 'interrupted: the gateway is shutting down' };
      case 'timeout':
        return { ...base, status: 'timeout', stopReason: 'timeout', error: `run timed out after ${run.request.timeoutMs} ms`, errorKind: 'timeout' };
      case undefined:
        return base;
    }
  }
}
