/** HTTP on the WebSocket port: liveness, readiness, status, metrics, and the Control UI's config document. */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../protocol/errors.js';
import { DEFAULT_AGENT_ID } from '../protocol/session-key.js';
import type { GatewayServices } from './services.js';
import { statusSnapshot } from './snapshots.js';

export function registerHttpRoutes(app: FastifyInstance, services: GatewayServices, isClosing: () => boolean): void {
  limitHttpRequests(app, services);
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    if (isClosing()) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    return { ready: true };
  });
  app.get('/status', async () => statusSnapshot(services));
  app.get('/metrics', async (_req, reply) => {
    const text = await services.metrics.render();
    return reply.type(services.metrics.contentType).send(text);
  });
  app.get('/control-ui-config.json', async () => {
    const { fields } = services.identity.packet(DEFAULT_AGENT_ID);
    return {
      basePath: '',
      assistantName: fields.name ?? 'brainstem',
      assistantAvatar: fields.avatar ?? fields.emoji ?? '',
      serverVersion: services.version,
    };
  });
}

/**
 * Plain HTTP requests (not WebSocket upgrades, which have their own per-IP attempt limit) spend a token of their
 * IP's bucket; without one they get 429, `Retry-After` in whole seconds and the catalog's RATE_LIMITED error
 * with `retryAfterMs` as the JSON body.
 */
function limitHttpRequests(app: FastifyInstance, services: GatewayServices): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.upgrade !== undefined) return;
    const retryAfterMs = services.limits.httpRetryAfter(req.socket.remoteAddress);
    if (retryAfterMs === 0) return;
    const error = new GatewayError('RATE_LIMITED', { details: { limit: 'http', retryAfterMs }, retryAfterMs });
    return reply
      .code(error.spec.httpStatus ?? 429)
      .header('retry-after', String(Math.ceil(retryAfterMs / 1000)))
      .send({ error: error.toWire() });
  });
}
