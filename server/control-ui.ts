/**
 * Serves a Control UI build (OpenClaw's `dist/control-ui`) on the gateway port, as OpenClaw does: files as
 * they are, and `index.html` for any other GET that wants HTML (the UI routes in the browser). The UI then
 * connects back to the same origin over WebSocket and fetches `/control-ui-config.json`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from './config.js';

export async function registerControlUi(app: FastifyInstance, dir: string): Promise<void> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) throw new ConfigError(`controlUiDir ${dir} has no index.html`);
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: true, index: false });
  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) return sendIndex(req, reply);
    return reply.code(404).send({ error: 'not found' });
  });
}

/** The UI's entry page; never cached, so a new UI build is picked up at once. */
export function sendIndex(_req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.sendFile('index.html', { maxAge: 0, immutable: false });
}
