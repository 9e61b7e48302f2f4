/**
 * createGateway: wires the fastify app, the WebSocket endpoint, the router and the event projectors around
 * the runtime (server/build-services.ts) built from things passed in. It owns what it creates (sockets,
 * timers, the HTTP server) and closes them in order; the store, provider and identity belong to the caller,
 * who closes them after the gateway.
 */
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import { ExtensionCap } from '../protocol/capabilities.js';
import { CLOSES } from '../protocol/errors.js';
import { agentProjector } from './agent-projector.js';
import { buildServices, type GatewayDeps } from './build-services.js';
import { ChatProjector } from './chat-projector.js';
import { registerControlUi, sendIndex } from './control-ui.js';
import type { HandshakeContext } from './handshake.js';
import { helloOkJson, opened } from './hello.js';
import { registerHttpRoutes } from './http-routes.js';
import { createHandlers } from './methods/index.js';
import { startPeriodic } from './periodic.js';
import { Router } from './router.js';
import type { GatewayServices } from './services.js';
import { acceptSocket } from './ws-endpoint.js';

export type { GatewayDeps } from './build-services.js';

export interface Gateway {
  readonly services: GatewayServices;
  /** Starts listening; resolves with the real address. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Stop accepting, `shutdown` event, close sockets 1012, drain runs, stop timers and the HTTP server. Safe to call twice. */
  close(reason?: string): Promise<void>;
}

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, logger } = deps;
  const { services, events, hardening } = buildServices(deps);
  const { turns, memory, agent, broadcaster, now } = services;
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
    hello: (conn, grant) => helloOkJson(services, conn, grant),
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
        left: (conn) => services.presence.left(conn),
        ...hardening.endpoint,
      });
    },
  });
  registerHttpRoutes(app, services, () => closing);
  if (config.controlUiDir !== undefined) await registerControlUi(app, config.controlUiDir);
  const periodic = startPeriodic(services, broadcaster);

  let closed: Promise<void> | undefined;
  const close = (reason = 'gateway shutting down'): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      broadcaster.broadcast('shutdown', { reason });
      for (const conn of [...broadcaster.connections()]) conn.close(CLOSES.SERVICE_RESTART.code, CLOSES.SERVICE_RESTART.reason);
      await turns.close(config.shutdownGraceMs);
      await agent?.close();
      stopAgentEvents?.();
      services.sessions.close();
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
