/**
 * The agent runtime for the gateway (issue 5), from the configuration: on when `agentRuntimeV1` is (it offers
 * `agent.plan.v1`), with its worker pool, workers, planning brain and heartbeat when `workersV1` is too, and
 * plan results written to memory when `memoryV1` is. The job table lives in the Store's database file.
 * The gateway owns what this opens and closes it after the turns have ended.
 */
import type { Logger } from 'pino';
import { mainSessionKey } from '../protocol/session-key.js';
import type { Store } from '../memory/store.js';
import type { IdentityService } from '../identity/types.js';
import { AgentRuntime, type AgentOptions } from '../workers/agent/agent-runtime.js';
import type { PlannerKind } from '../workers/brain/plan.js';
import type { TurnControl } from '../workers/agent/turn-control.js';
import { openJobDb } from '../workers/jobs/job-db.js';
import type { JobHandler } from '../workers/jobs/job-runner.js';
import type { DocumentIndex } from '../workers/research/document-index.js';
import type { GatewayMemory } from './memory-setup.js';
import type { ModelProvider } from '../workers/providers/types.js';
import type { RuntimeEvents } from '../workers/run-events.js';
import type { Config } from './config-options.js';

export interface AgentSetupDeps {
  config: Config;
  store: Store;
  provider: ModelProvider;
  model: string;
  identity: IdentityService;
  events: RuntimeEvents;
  turns: () => TurnControl;
  now: () => number;
  logger: Logger;
  /** More job handlers by kind (tests). */
  handlers?: ReadonlyMap<string, JobHandler> | undefined;
  /**
   * memory/ (memoryV1 on): workspace documents and plan results become its document items. Without it they
   * go to the interim index in the job database (workers/research/sqlite-document-index.ts).
   */
  memory?: GatewayMemory | undefined;
  /** A job-table write failed on the background path. */
  onDatabaseError?: (err: unknown) => void;
}

export interface GatewayAgent {
  readonly runtime: AgentRuntime;
  /** Stops the runtime, then closes the job database; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The planner in effect: `auto` plans by rules with the offline local provider, and with a real model asks
 * it for a plan when the message lists steps (plain chat turns keep one model call).
 */
export function plannerOf(config: Config): PlannerKind {
  if (config.plannerMode !== 'auto') return config.plannerMode;
  return (config.models?.[0]?.provider ?? config.provider) === 'local' ? 'rules' : 'model-on-lists';
}

export function agentOptions(config: Config): AgentOptions {
  return {
    workers: config.workersV1,
    writeMemory: config.memoryV1,
    workspace: config.workspace,
    mainSessionKey: mainSessionKey(),
    lanes: {
      interactive: { concurrency: config.laneInteractiveConcurrency, maxQueue: config.laneInteractiveMaxQueue },
      research: { concurrency: config.laneResearchConcurrency, maxQueue: config.laneResearchMaxQueue },
      background: { concurrency: config.laneBackgroundConcurrency, maxQueue: config.laneBackgroundMaxQueue },
    },
    poolConcurrency: config.workerPoolConcurrency,
    agingMs: config.laneAgingMs,
    workerThreads: config.workerThreads,
    jobs: {
      maxAttempts: config.jobMaxAttempts,
      backoffBaseMs: config.jobBackoffBaseMs,
      backoffMaxMs: config.jobBackoffMaxMs,
      timeoutMs: config.jobTimeoutMs,
      retentionMs: config.jobRetentionMs,
    },
    planner: plannerOf(config),
    planMaxTasks: config.planMaxTasks,
    plannerTimeoutMs: config.plannerTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    staleTaskMs: config.staleTaskMs,
    research: { maxFiles: config.researchMaxFiles, maxFileBytes: config.researchMaxFileBytes, chunkChars: config.researchChunkChars },
    statusMaxRuns: config.agentStatusMaxRuns,
  };
}

/** The runtime, or undefined when `agentRuntimeV1` is off (the plain gateway). */
export function setupAgent(deps: AgentSetupDeps): GatewayAgent | undefined {
  if (!deps.config.agentRuntimeV1) return undefined;
  const logger = deps.logger.child({ component: 'agent' });
  const jobDb = openJobDb(deps.store.path, logger);
  const runtime = new AgentRuntime({
    options: agentOptions(deps.config),
    jobDb,
    provider: deps.provider,
    model: deps.model,
    identity: deps.identity,
    events: deps.events,
    turns: deps.turns,
    runs: deps.store.runs,
    now: deps.now,
    logger,
    ...(deps.handlers === undefined ? {} : { handlers: deps.handlers }),
    ...(deps.onDatabaseError === undefined ? {} : { onDatabaseError: deps.onDatabaseError }),
    ...(deps.memory === undefined ? {} : { index: memoryDocumentIndex(deps.memory, deps.store) }),
  });
  let closed: Promise<void> | undefined;
  return {
    runtime,
    close: () =>
      (closed ??= (async () => {
        await runtime.close();
        jobDb.close();
      })()),
  };
}

/** memory/'s document items as the research worker's DocumentIndex; hits get their document path back. */
export function memoryDocumentIndex(memory: GatewayMemory, store: Store): DocumentIndex {
  return {
    upsert: (chunk) => memory.documents.upsert(chunk),
    paths: (sessionKey) => memory.documents.paths(sessionKey),
    retire: (sessionKey, path, fromChunk) => memory.documents.retire(sessionKey, path, fromChunk).length,
    search: (text, options) => {
      const items = memory.documents.search(text, options);
      const paths = new Map(store.memory.items.many(items.map((item) => item.id)).map((record) => [record.id, record.document?.path]));
      return items.map((item) => {
        const path = paths.get(item.id);
        return { id: item.id, text: item.text, ...(item.score === undefined ? {} : { score: item.score }), ...(path === undefined ? {} : { path }) };
      });
    },
  };
}
