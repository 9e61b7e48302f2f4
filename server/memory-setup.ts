/**
 * Builds the session memory from the config: the active contexts (always: every chat path goes through
 * them), and with `memoryV1` on the long-term side — the wire API, documents for the runtime, the memory
 * manager — and the bridge from memory events and database health to `memory.event` for connections
 * granted `memory.v1`. In RAM-only (degraded) mode a `memory.event {op: "error"}` goes out when it begins,
 * and to each memory.v1 client that connects while it lasts.
 */
import type { Logger } from 'pino';
import { MemoryApi } from '../memory/memory-api.js';
import { Documents } from '../memory/documents.js';
import type { ExtractiveTask } from '../memory/extractive-summary.js';
import { MemoryService, type MemoryEvent } from '../memory/memory-service.js';
import type { Store, StoreHealth } from '../memory/store.js';
import { MemoryManager } from '../workers/memory-manager.js';
import { extractiveSummarizer, providerSummarizer, summaryThreads, type Summarizer } from '../workers/memory-summarizer.js';
import type { ThreadPool } from '../workers/pool/thread-pool.js';
import type { ModelProvider } from '../workers/providers/types.js';
import { sessionOf, type Broadcaster } from './broadcaster.js';
import type { Config } from './config-options.js';
import type { Connection } from './connection.js';

/** sessionKey of memory events about the whole gateway (database errors). */
export const ALL_SESSIONS = '*';

export interface GatewayMemory {
  readonly service: MemoryService;
  /** memory.query / recall / forget (memoryV1 on). */
  readonly api: MemoryApi;
  /** Document chunks for the agent runtime. */
  readonly documents: Documents;
  /** The background worker; undefined with memoryV1 off. */
  readonly manager: MemoryManager | undefined;
  /** Starts pushing memory events to the broadcaster's memory.v1 connections. */
  attach(broadcaster: Broadcaster): void;
  /** A memory.v1 connection just opened: tell it when the store is degraded. */
  opened(broadcaster: Broadcaster, conn: Connection): void;
  /** Stops the manager, flushes the batch writer; safe to call twice. */
  close(): void;
}

export interface MemorySetupDeps {
  config: Config;
  store: Store;
  provider: ModelProvider;
  model: string;
  /**
   * The vendor of the first usable model (`local`, `openai`, `anthropic`), which `memorySummarizer: auto` goes
   * by. Not `provider.id`: the configured models are served through a failover chain, whose id is `failover`.
   */
  primaryVendor: string;
  now: () => number;
  logger: Logger;
}

function summarizerFor(deps: MemorySetupDeps, threads: ThreadPool<ExtractiveTask, string> | undefined, logger: Logger): Summarizer {
  const { config, provider } = deps;
  const useProvider = config.memorySummarizer === 'provider' || (config.memorySummarizer === 'auto' && deps.primaryVendor !== 'local');
  if (!useProvider) return extractiveSummarizer(threads, logger);
  return providerSummarizer({ provider, model: deps.model, timeoutMs: config.memorySummarizerTimeoutMs, logger, ...(threads === undefined ? {} : { threads }) });
}

function errorEvent(health: StoreHealth, ts: number): MemoryEvent {
  return { sessionKey: ALL_SESSIONS, op: 'error', ids: [], reason: `database unavailable (${health.reason ?? 'unknown'}): serving from RAM, memory methods unavailable`, ts };
}

export function setupMemory(deps: MemorySetupDeps): GatewayMemory {
  const { config, store, now } = deps;
  const logger = deps.logger.child({ component: 'memory' });
  const longTerm = config.memoryV1;
  const service = new MemoryService({
    store,
    limits: { maxMessageBytes: config.memoryMaxMessageBytes, maxItems: config.memoryMaxItems, maxTokens: config.memoryMaxTokens },
    longTerm,
    snapshotIntervalMs: config.memorySnapshotIntervalMs,
    maxContexts: config.memoryMaxContexts,
    now,
    logger,
  });
  const ranking = { candidates: config.memoryRecallCandidates, halfLifeMs: config.memoryRecallHalfLifeMs };
  const managerLogger = logger.child({ worker: 'memory-manager' });
  const threads = longTerm && config.memorySummaryThread ? summaryThreads() : undefined;
  const manager = longTerm
    ? new MemoryManager({
        memory: service,
        summarizer: summarizerFor(deps, threads, managerLogger),
        policy: {
          summarizeAtPercent: config.memorySummarizeAtPercent,
          keepRecent: config.memoryKeepRecentItems,
          staleAfterMs: config.memoryStaleAfterMs,
          summaryMaxTokens: config.memorySummaryMaxTokens,
          transcriptRetentionDays: config.memoryTranscriptRetentionDays,
          summaryRetentionDays: config.memorySummaryRetentionDays,
        },
        intervalMs: config.memoryManagerIntervalMs,
        retentionIntervalMs: config.memoryRetentionIntervalMs,
        now,
        logger: managerLogger,
      })
    : undefined;
  manager?.start();
  const stops: (() => void)[] = [];
  let closed = false;
  return {
    service,
    api: new MemoryApi(service, ranking, now, logger),
    documents: new Documents(service, ranking, now),
    manager,
    attach: (broadcaster) => {
      stops.push(service.on((event) => void broadcaster.broadcast('memory.event', event, sessionOf(event.sessionKey))));
      stops.push(
        store.onHealthChange((health) => {
          if (health.state === 'degraded') service.emit(errorEvent(health, now()));
          else logger.warn({ health }, 'database back; memory methods available again');
        }),
      );
      const health = store.health();
      if (health.state === 'degraded') service.emit(errorEvent(health, now()));
    },
    opened: (broadcaster, conn) => {
      const health = store.health();
      if (health.state === 'degraded') broadcaster.sendTo(conn, 'memory.event', errorEvent(health, now()));
    },
    close: () => {
      if (closed) return;
      closed = true;
      for (const stop of stops) stop();
      manager?.close();
      void threads?.close();
      service.close();
    },
  };
}
