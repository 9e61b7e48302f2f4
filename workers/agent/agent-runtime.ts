/**
 * The agent runtime: the durable job table, the lane pool and worker threads, the workers (research,
 * execution, status, memory writes, heartbeat) and the brain, built from options passed in. It owns what it
 * opens (threads, timers, the pool); the job database belongs to the caller. `close()` stops the heartbeat,
 * aborts running attempts (they go back to pending and run after the next start) and ends the threads.
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { IdentityService } from '../../identity/types.js';
import { Brain } from '../brain/brain.js';
import type { PlannerKind } from '../brain/plan.js';
import type { JobDb } from '../jobs/job-db.js';
import { JobRunner, PermanentJobError, type JobContext, type JobHandler, type JobOutcome } from '../jobs/job-runner.js';
import { JobStore } from '../jobs/job-store.js';
import type { JobRecord, JobState, NewJob } from '../jobs/job-types.js';
import { ThreadPool } from '../pool/thread-pool.js';
import type { LaneSpec } from '../pool/lane-pool.js';
import type { ModelProvider } from '../providers/types.js';
import { CHUNK_ON_LOOP_MAX_CHARS, chunkDocument, type ChunkInput, type TextChunk } from '../research/chunker.js';
import type { DocumentIndex } from '../research/document-index.js';
import { ResearchWorker } from '../research/research-worker.js';
import { SqliteDocumentIndex } from '../research/sqlite-document-index.js';
import type { RuntimeEvents } from '../run-events.js';
import { AgentEvents } from './agent-events.js';
import { ExecutionWorker } from './execution-worker.js';
import { Heartbeat } from './heartbeat.js';
import { RunBook } from './run-book.js';
import { StatusWorker } from './status-worker.js';
import { TaskControl } from './task-control.js';
import type { RunsReader, TurnControl } from './turn-control.js';

/** How often finished jobs and plans past their retention are dropped, in ms. */
export const JOB_PRUNE_INTERVAL_MS = 3_600_000;
/** Rows of each job table dropped per transaction of a prune (a few ms). */
export const PRUNE_BATCH = 500;
/** Plans of a deleted session removed per transaction (with their tasks: at most planMaxTasks each). */
export const FORGET_BATCH = 50;

export interface LaneLimits {
  concurrency: number;
  /** Jobs admitted and not yet running, at most. */
  maxQueue: number;
}

export interface AgentOptions {
  /** Run the worker pool, the workers, the brain's planning and the heartbeat (workersV1). */
  workers: boolean;
  /** Write plan results to long-term memory (memoryV1). */
  writeMemory: boolean;
  workspace: string;
  mainSessionKey: string;
  lanes: { interactive: LaneLimits; research: LaneLimits; background: LaneLimits };
  poolConcurrency: number;
  agingMs: number;
  workerThreads: number;
  jobs: { maxAttempts: number; backoffBaseMs: number; backoffMaxMs: number; timeoutMs: number; retentionMs: number };
  planner: PlannerKind;
  planMaxTasks: number;
  plannerTimeoutMs: number;
  heartbeatIntervalMs: number;
  staleTaskMs: number;
  research: { maxFiles: number; maxFileBytes: number; chunkChars: number };
  statusMaxRuns: number;
}

export interface AgentRuntimeDeps {
  options: AgentOptions;
  jobDb: JobDb;
  /** Where workspace documents and plan results go; default: the interim SQLite index in the job database. */
  index?: DocumentIndex;
  provider: ModelProvider;
  model: string;
  identity: IdentityService;
  events: RuntimeEvents;
  turns: () => TurnControl;
  runs: RunsReader;
  now: () => number;
  logger: Logger;
  /** A write of the job table failed on the background path (the gateway's database-error metric). */
  onDatabaseError?: (err: unknown) => void;
  random?: () => number;
  /** More job handlers by kind (tests, future workers). */
  handlers?: ReadonlyMap<string, JobHandler>;
}

export class AgentRuntime {
  readonly events: AgentEvents;
  readonly store: JobStore;
  readonly runner: JobRunner;
  readonly board: ExecutionWorker;
  readonly book: RunBook;
  readonly tasks: TaskControl;
  readonly research: ResearchWorker;
  readonly heartbeat: Heartbeat;
  /** Undefined with workers off: turns run without planning. */
  readonly brain: Brain | undefined;
  readonly deps: AgentRuntimeDeps;
  readonly #threads: ThreadPool<ChunkInput, TextChunk[]>;
  readonly #index: DocumentIndex;
  #pruner: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;
  #pruning = false;
  readonly #stopForgetting: () => void;

  constructor(deps: AgentRuntimeDeps) {
    this.deps = deps;
    const { options, logger, now } = deps;
    this.events = new AgentEvents((err) => logger.error({ err }, 'agent event listener failed'));
    this.store = new JobStore(deps.jobDb.db);
    this.#index = deps.index ?? new SqliteDocumentIndex(deps.jobDb.db, now);
    this.#threads = new ThreadPool(chunkDocument, options.workerThreads, { small: (input) => input.text.length <= CHUNK_ON_LOOP_MAX_CHARS });
    this.board = new ExecutionWorker({ store: this.store, runner: () => this.runner, events: this.events, now, maxAttempts: options.jobs.maxAttempts, logger });
    this.research = new ResearchWorker({ workspace: options.workspace, index: this.#index, threads: this.#threads, limits: options.research, now, logger });
    const status = new StatusWorker((planId) => this.store.tasksOf(planId));
    const handlers = new Map<string, JobHandler>([
      ['research', this.#researchTask],
      ['execution', this.board.handle],
      ['status', status.handle],
      ['memory-write', this.#memoryWrite],
      ...(deps.handlers ?? []),
    ]);
    this.runner = new JobRunner({
      store: this.store,
      lanes: laneSpecs(options),
      maxRunning: options.poolConcurrency,
      agingMs: options.agingMs,
      handlers,
      backoff: { baseMs: options.jobs.backoffBaseMs, maxMs: options.jobs.backoffMaxMs },
      attemptTimeoutMs: options.jobs.timeoutMs,
      now,
      ...(deps.random === undefined ? {} : { random: deps.random }),
      logger,
      onChange: this.board.onJobChange,
      ...(deps.onDatabaseError === undefined ? {} : { onDatabaseError: deps.onDatabaseError }),
    });
    this.book = new RunBook({ events: deps.events, turns: deps.turns, runs: deps.runs, store: this.store, now });
    this.tasks = new TaskControl(this.store, () => this.runner, this.board);
    this.#stopForgetting = deps.events.on((event) => {
      if (event.type === 'session.deleted') void this.forgetSession(event.sessionKey);
    });
    this.heartbeat = new Heartbeat({
      intervalMs: options.heartbeatIntervalMs,
      staleTaskMs: options.staleTaskMs,
      maxPlans: options.statusMaxRuns,
      maxAttempts: options.jobs.maxAttempts,
      mainSessionKey: options.mainSessionKey,
      workspace: options.workspace,
      store: this.store,
      runner: () => this.runner,
      turns: deps.turns,
      events: this.events,
      now,
      logger,
    });
    this.brain = !options.workers
      ? undefined
      : new Brain({
          planner: options.planner,
          provider: deps.provider,
          model: deps.model,
          identity: deps.identity,
          events: deps.events,
          board: this.board,
          runner: this.runner,
          writeMemory: options.writeMemory,
          maxTasks: options.planMaxTasks,
          plannerTimeoutMs: options.plannerTimeoutMs,
          maxAttempts: options.jobs.maxAttempts,
          now,
          logger,
        });
  }

  /** Recovers jobs cut off by the last stop, indexes the workspace, starts the heartbeat (workers on). */
  start(): void {
    if (!this.deps.options.workers) return;
    this.runner.start();
    this.runner.runEphemeral('research', 'index-workspace', async (signal) => {
      const report = await this.research.indexWorkspace(signal).catch((err: unknown) => {
        if (!signal.aborted) this.deps.logger.warn({ err }, 'indexing the workspace failed');
      });
      if (report !== undefined) this.deps.logger.info({ ...report }, 'workspace indexed');
    });
    this.heartbeat.start();
    this.#pruner = setInterval(() => void this.#prune(), JOB_PRUNE_INTERVAL_MS);
    this.#pruner.unref();
  }

  /** Adds a durable job (background work, tests); the caller checks admission with `runner.refusal`. */
  enqueue(job: NewJob): JobRecord {
    return this.runner.enqueue(job);
  }

  /**
   * A session was deleted with its transcript: its unfinished jobs are cancelled at once (a running attempt is
   * aborted), then its plans, tasks and their effect records are deleted, FORGET_BATCH plans (and as many other
   * jobs) a transaction with the event loop free between two. A plan's goal and its tasks' results quote the
   * conversation, and would otherwise stay for `jobRetentionMs` after they end. Resolves with the plans deleted.
   */
  async forgetSession(sessionKey: string): Promise<number> {
    const before = this.deps.now();
    let plans = 0;
    try {
      this.tasks.apply('stop', this.store.openJobsOfSession(sessionKey));
      for (;;) {
        const step = this.store.forgetSession(sessionKey, before, FORGET_BATCH);
        plans += step.plans;
        if (!step.more || this.#closed !== undefined) break;
        await setImmediate();
      }
      if (plans > 0) this.deps.logger.debug({ sessionKey, plans }, 'plans of a deleted session removed');
    } catch (err) {
      // What is left goes with the retention prune once it has ended.
      this.deps.logger.warn({ err, sessionKey, plans }, 'removing the plans of a deleted session failed');
    }
    return plans;
  }

  /** Jobs by state (for `/metrics`). */
  jobCounts(): Record<JobState, number> {
    return this.store.countsByState();
  }

  /** Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopForgetting();
      clearInterval(this.#pruner);
      this.heartbeat.close();
      this.brain?.close();
      this.book.close();
      this.research.close();
      await this.runner.close();
      await this.#threads.close();
    })();
    return this.#closed;
  }

  /** Drops what is past its retention, PRUNE_BATCH rows a table per transaction, the event loop free between two. */
  async #prune(): Promise<void> {
    if (this.#pruning) return;
    this.#pruning = true;
    let dropped = 0;
    try {
      const before = this.deps.now() - this.deps.options.jobs.retentionMs;
      for (let more = true; more && this.#closed === undefined; ) {
        const batch = this.store.prune(before, PRUNE_BATCH);
        dropped += batch.jobs;
        more = batch.more;
        if (more) await setImmediate();
      }
      if (dropped > 0) this.deps.logger.debug({ dropped }, 'finished jobs past their retention dropped');
    } catch (err) {
      this.deps.logger.warn({ err, dropped }, 'pruning the job table failed');
    } finally {
      this.#pruning = false;
    }
  }

  /** A research task searches for its title; when that finds nothing, for its title and the plan's goal. */
  readonly #researchTask = async (ctx: JobContext): Promise<JobOutcome> => {
    const goal = (ctx.job.payload as { goal?: string }).goal ?? '';
    const title = ctx.job.title ?? '';
    const first = await this.research.research(title, ctx.signal);
    if (first.hits.length > 0 || goal === '') return { result: first };
    return { result: await this.research.research(`${title} ${goal}`, ctx.signal) };
  };

  /** A side-effecting job: the plan's results become a document item, once per idempotency key. */
  readonly #memoryWrite = async (ctx: JobContext): Promise<JobOutcome> => {
    const payload = ctx.job.payload as { sessionKey?: string; path?: string; text?: string };
    const key = ctx.job.idempotencyKey;
    if (key === undefined || payload.sessionKey === undefined || payload.path === undefined || payload.text === undefined) {
      throw new PermanentJobError('memory-write jobs need an idempotency key, a sessionKey, a path and a text');
    }
    const { text, sessionKey, path } = payload;
    const { ran, result } = ctx.once(key, () => this.#index.upsert({ sessionKey, path, chunk: 0, text }));
    return { result: { kind: 'memory-write', id: result.id, ran } };
  };
}

function laneSpecs(options: AgentOptions): LaneSpec[] {
  const { interactive, research, background } = options.lanes;
  return [
    { name: 'interactive', priority: 0, ...interactive },
    { name: 'research', priority: 1, ...research },
    { name: 'background', priority: 2, ...background },
  ];
}
