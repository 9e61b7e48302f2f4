/**
 * createGateway: wires the fastify app, the WebSocket endpoint, the router, the runtime and the event
 * projector from things passed in. It owns what it creates (sockets, timers, the HTTP server) and closes them
 * in order; the store, provider and identity belong to the caller, who closes them after the gateway.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import type { Logger } from 'pino';
import { EXTENSION_CAPS, ExtensionCap } from '../protocol/capabilities.js';
import { CLOSES } from '../protocol/errors.js';
import { EVENTS } from '../protocol/events.js';
import type { EventDef } from '../protocol/schema.js';
import { mainSessionKey, DEFAULT_AGENT_ID, MAIN_KEY } from '../protocol/session-key.js';
import type { Store } from '../memory/store.js';
import type { IdentityService } from '../identity/types.js';
import type { ModelInfo, ModelProvider } from '../workers/providers/types.js';
import { RuntimeEvents } from '../workers/run-events.js';
import { SessionService } from '../workers/session-service.js';
import { TurnService } from '../workers/turn-service.js';
import type { JobHandler } from '../workers/jobs/job-runner.js';
import { agentProjector } from './agent-projector.js';
import { setupAgent } from './agent-setup.js';
import type { AuditLog } from './audit-log.js';
import { Broadcaster } from './broadcaster.js';
import { ChatProjector } from './chat-projector.js';
import type { Config } from './config-options.js';
import { effectiveModel } from './config.js';
import { enabledMethods, offeredExtensions } from './extensions.js';
import type { Connection, Grant } from './connection.js';
import { EventLoopMonitor } from './event-loop.js';
import type { HandshakeContext } from './handshake.js';
import { grantedExtensions } from './handshake.js';
import { createHardening } from './hardening.js';
import { registerControlUi, sendIndex } from './control-ui.js';
import { registerHttpRoutes } from './http-routes.js';
import { createHandlers } from './methods/index.js';
import { startPeriodic } from './periodic.js';
import { Presence } from './presence.js';
import { Router } from './router.js';
import type { GatewayServices } from './services.js';
import { healthSnapshot } from './snapshots.js';
import { setupMemory } from './memory-setup.js';
import { SERVER_VERSION } from './version.js';
import { acceptSocket } from './ws-endpoint.js';

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

export interface Gateway {
  readonly services: GatewayServices;
  /** Starts listening; resolves with the real address. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Stop accepting, `shutdown` event, close sockets 1012, drain runs, stop timers and the HTTP server. Safe to call twice. */
  close(reason?: string): Promise<void>;
}

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, logger, store } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const events = new RuntimeEvents((err) => logger.error({ err }, 'runtime event listener failed'));
  // The first model that can answer is the default shown to clients (a primary without its key is left out).
  const primary = deps.models?.find((info) => info.available);
  const model = primary?.name ?? effectiveModel(config);
  const memory = setupMemory({ config, store, provider: deps.provider, model, now, logger });
  // issue 5: the agent runtime (undefined with agentRuntimeV1 off); its brain plans inside the turns.
  const agent = setupAgent({ config, store, provider: deps.provider, model, identity: deps.identity, events, turns: () => turns, now, logger, handlers: deps.agentHandlers, memory: config.memoryV1 ? memory : undefined });
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
    sessions: new SessionService(store, turns, events, now, memory.service),
    memory,
    agent,
    identity: deps.identity,
    provider: deps.provider,
    models: deps.models ?? deps.provider.models(),
    model,
    modelProvider: primary?.provider ?? deps.provider.id,
    broadcaster,
    presence: new Presence(broadcaster, { serverVersion: SERVER_VERSION, startedAt, debounceMs: config.presenceDebounceMs, maxEntries: config.presenceMaxEntries }),
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
  const projector = new ChatProjector(broadcaster, { chatDeltaIntervalMs: config.chatDeltaIntervalMs, now, openRunIds: (key) => turns.openRunIds(key) });
  const stopProjecting = events.on(projector.handle);
  if (services.extensions.includes(ExtensionCap.MEMORY_V1)) memory.attach(broadcaster);
  const stopAgentEvents = agent?.runtime.events.on(agentProjector(broadcaster, services));
  const router = new Router(createHandlers(services), logger, { validateResults: deps.validateResults ?? false, offered: services.extensions, ...hardening.router });
  let closing = false;
  const handshake: HandshakeContext = {
    preauthMaxPayloadBytes: config.preauthMaxPayloadBytes,
    token: deps.token,
    extensions: services.extensions,
    now,
    hello: (conn, grant) => helloOk(services, conn, grant),
    opened: (conn) => opened(services, conn),
    ...hardening.handshake,
  };

  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(websocket, { options: { maxPayload: config.maxPayloadBytes, perMessageDeflate: false } });
  app.route({
    method: 'GET',
    url: '/',
    handler: config.controlUiDir === undefined ? async () => 'brainstem gateway: connect with a WebSocket client (OpenClaw protocol v3/v4).\n' : sendIndex,
    wsHandler: (socket, req) => {
      acceptSocket(socket, req.raw, {
        logger,
        broadcaster,
        router,
        handshake,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        now,
        closing: () => closing,
        left: () => services.presence.changed(),
        ...hardening.endpoint,
      });
    },
  });
  registerHttpRoutes(app, services, () => closing);
  if (config.controlUiDir !== undefined) await registerControlUi(app, config.controlUiDir);
  const periodic = startPeriodic(services, broadcaster, logger);

  let closed: Promise<void> | undefined;
  const close = (reason = 'gateway shutting down'): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      broadcaster.broadcast('shutdown', { reason });
      for (const conn of [...broadcaster.connections()]) conn.close(CLOSES.SERVICE_RESTART.code, CLOSES.SERVICE_RESTART.reason);
      await turns.close(config.shutdownGraceMs);
      await agent?.close();
      stopAgentEvents?.();
      memory.close();
      periodic.stop();
      stopProjecting();
      projector.close();
      services.presence.close();
      services.loop.close();
      await app.close();
      hardening.close();
    })();
    return closed;
  };

  return {
    services,
    close,
    listen: async () => {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return { host: config.host, port, url: `ws://${host}:${port}` };
    },
  };
}

/** Event names brainstem may send, for hello-ok's `features.events`: core events and the offered extensions'. */
function enabledEvents(offered: readonly ExtensionCap[]): string[] {
  return (Object.entries(EVENTS) as [string, EventDef][])
    .filter(([name, def]) => name !== 'connect.challenge' && (def.extension === undefined || offered.includes(def.extension)))
    .map(([name]) => name);
}

function helloOk(services: GatewayServices, conn: Connection, grant: Grant) {
  const { config } = services;
  return {
    type: 'hello-ok' as const,
    protocol: grant.protocol,
    server: { version: services.version, connId: conn.connId, bootId: services.bootId },
    features: { methods: enabledMethods(services.extensions), events: enabledEvents(services.extensions), capabilities: [...services.extensions] },
    snapshot: {
      presence: services.presence.snapshot(),
      health: healthSnapshot(services),
      stateVersion: services.presence.stateVersion,
      uptimeMs: services.now() - services.startedAt,
      sessionDefaults: { defaultAgentId: DEFAULT_AGENT_ID, mainKey: MAIN_KEY, mainSessionKey: mainSessionKey(), scope: 'per-sender' },
      authMode: config.authMode,
    },
    auth: { role: grant.role, scopes: [...grant.scopes], method: grant.authMethod },
    policy: { maxPayload: config.maxPayloadBytes, maxBufferedBytes: config.maxBufferedBytes, tickIntervalMs: config.tickIntervalMs },
  };
}

function opened(services: GatewayServices, conn: Connection): void {
  const grant = conn.grant;
  if (grant === undefined) return;
  // A client that asked for a known extension learns what it got; a plain gateway (none offered) stays plain.
  const askedKnown = [...grant.caps].some((cap) => (EXTENSION_CAPS as readonly string[]).includes(cap));
  if (askedKnown && services.extensions.length > 0) {
    const capabilities = grantedExtensions([...grant.caps], services.extensions);
    services.broadcaster.sendTo(conn, 'session.ack', { capabilities, server: { name: 'brainstem', version: services.version } });
  }
  services.broadcaster.opened(conn);
  if (grant.extensions.has(ExtensionCap.MEMORY_V1)) services.memory.opened(services.broadcaster, conn);
  conn.logger.info({ client: grant.client.id, mode: grant.client.mode, protocol: grant.protocol, scopes: grant.scopes }, 'client connected');
  services.presence.changed();
}
