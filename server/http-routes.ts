/** HTTP on the WebSocket port: liveness, readiness, status, and the Control UI's config document. */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_AGENT_ID } from '../protocol/session-key.js';
import type { GatewayServices } from './services.js';
import { statusSnapshot } from './snapshots.js';

export function registerHttpRoutes(app: FastifyInstance, services: GatewayServices, isClosing: () => boolean): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    if (isClosing()) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    return { ready: true };
  });
  app.get('/status', async () => statusSnapshot(services));
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
