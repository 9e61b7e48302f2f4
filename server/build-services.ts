/**
 * The gateway's runtime, built from its dependencies in order: memory, the agent runtime, turns (recovering
 * runs a previous process left open), the broadcaster and the hardening pieces (metrics, limits, audit). The
 * transport (fastify, sockets, router) is wired around it in server/app.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../memory/store.js';
import type { IdentityService } from '../identity/types.js';
import type { ModelInfo, ModelProvider } from '../workers/providers/types.js';
import type { JobHandler } from '../workers/jobs/job-runner.js';
import { RuntimeEvents } from '../workers/run-events.js';
import { SessionService } from '../workers/session-service.js';
import { TurnService } from '../workers/turn-service.js';
import { setupAgent } from './agent-setup.js';
import type { AuditLog } from './audit-log.js';
import { Broadcaster } from './broadcaster.js';
import type { Config } from './config-options.js';
import { effectiveModel } from './config.js';
import { EventLoopMonitor } from './event-loop.js';
import { offeredExtensions } from './extensions.js';
import { createHardening, type Hardening } from './hardening.js';
import { setupMemory } from './memory-setup.js';
import { Presence } from './presence.js';
import type { GatewayServices } from './services.js';
import { SERVER_VERSION } from './version.js';

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  store: Store;
  provider: ModelProvider;
  /**
   * Every configured model for `models.list`, including those left out of the provider for lack of a key
   * (server/model-provider.ts); default `provider.models()`.
   */
  models?: readonly ModelInfo[];
  identity: IdentityService;
  /** The shared secret clients must present; undefined when auth is off. */
  token: string | undefined;
  now?: () => number;
  /** Check every method result against its schema (tests). */
  validateResults?: boolean;
  /** More job handlers for the agent runtime, by kind (tests). */
  agentHandlers?: ReadonlyMap<string, JobHandler>;
  /** Where audit records go; by default the gateway opens (and owns) the one the config names. */
  audit?: AuditLog;
}

export interface Runtime {
  services: GatewayServices;
  /** Where turns, runs and the agent runtime announce what happens, for the event projectors. */
  events: RuntimeEvents;
  /** Hooks the transport needs from the hardening pieces (router, handshake and endpoint limits). */
  hardening: Hardening;
}

export function buildServices(deps: GatewayDeps): Runtime {
  const { config, logger, store } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const events = new RuntimeEvents((err) => logger.error({ err }, 'runtime event listener failed'));
  // The first model that can answer is the default shown to clients (a primary without its key is left out).
  const primary = deps.models?.find((info) => info.available);
  const model = primary?.name ?? effectiveModel(config);
  const memory = setupMemory({ config, store, provider: deps.provider, model, primaryVendor: primary?.provider ?? deps.provider.id, now, logger });
  // The agent runtime (undefined with agentRuntimeV1 off); its brain plans inside the turns.
  const agent = setupAgent({
    config,
    store,
    provider: deps.provider,
    model,
    identity: deps.identity,
    events,
    turns: () => turns,
    now,
    logger,
    handlers: deps.agentHandlers,
    memory: config.memoryV1 ? memory : undefined,
    onDatabaseError: () => hardening.metrics.databaseError(),
  });
  const turns = new TurnService({
    brain: agent?.runtime.brain,
    store,
    memory: memory.service,
    provider: deps.provider,
    identity: deps.identity,
    events,
    now,
    model,
    logger,
    limits: {
      maxConcurrentRuns: config.maxConcurrentRuns,
      maxQueuedTurnsPerSession: config.maxQueuedTurnsPerSession,
      maxQueuedRuns: config.maxQueuedRuns,
      runTimeoutMs: config.runTimeoutMs,
      idempotencyTtlMs: config.idempotencyTtlMs,
      attachmentMaxBytes: config.attachmentMaxBytes,
      maxQueuedTurnBytes: config.maxQueuedTurnBytes,
    },
  });
  const interrupted = turns.recover();
  if (interrupted > 0) logger.warn({ interrupted }, 'runs cut off by the previous shutdown were marked interrupted');
  agent?.runtime.start();
  const broadcaster = new Broadcaster();
  const loop = new EventLoopMonitor();
  const hardening = createHardening({ config, store, now, broadcaster, turns, events, loop, audit: deps.audit });
  if (agent !== undefined) hardening.metrics.setJobSource(() => agent.runtime.jobCounts());
  const services: GatewayServices = {
    config,
    store,
    turns,
    sessions: new SessionService(store, turns, events, now, memory.service, logger),
    memory,
    agent,
    identity: deps.identity,
    provider: deps.provider,
    models: deps.models ?? deps.provider.models(),
    model,
    modelProvider: primary?.provider ?? deps.provider.id,
    broadcaster,
    presence: new Presence(broadcaster, { serverVersion: SERVER_VERSION, startedAt, debounceMs: config.presenceDebounceMs, maxEntries: config.presenceMaxEntries, maxBytesPerSec: config.presenceMaxBytesPerSec }),
    loop,
    metrics: hardening.metrics,
    limits: hardening.limits,
    audit: hardening.audit,
    now,
    startedAt,
    version: SERVER_VERSION,
    bootId: randomUUID(),
    extensions: offeredExtensions(config),
    lastHeartbeat: null,
  };
  // A purge a previous process left unfinished goes on (nothing happens when none is pending).
  void services.sessions.purge();
  return { services, events, hardening };
}
