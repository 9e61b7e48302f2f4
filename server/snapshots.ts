/** The health snapshot (`health` method and event, hello-ok) and the `/status` / `status` summary. */
import type { HealthSnapshot } from '../protocol/methods/connect.js';
import { DEFAULT_AGENT_ID } from '../protocol/session-key.js';
import type { GatewayServices } from './services.js';

/** Sessions listed in the health snapshot's `recent`. */
export const HEALTH_RECENT_SESSIONS = 5;

export function healthSnapshot(services: GatewayServices): HealthSnapshot {
  const started = performance.now();
  const now = services.now();
  const recent = services.store.sessions.recent(HEALTH_RECENT_SESSIONS).map((session) => ({
    key: session.key,
    sessionId: session.sessionId,
    updatedAt: session.updatedAt,
    age: now - session.updatedAt,
  }));
  const agents = services.identity.agentIds().map((agentId) => ({
    agentId,
    name: services.identity.packet(agentId).fields.name ?? agentId,
    isDefault: agentId === DEFAULT_AGENT_ID,
  }));
  return {
    ok: true,
    ts: now,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    channels: {},
    heartbeatSeconds: 0,
    defaultAgentId: DEFAULT_AGENT_ID,
    agents,
    sessions: { path: services.store.path, count: services.store.sessions.count(), recent },
  };
}

export function statusSnapshot(services: GatewayServices): Record<string, unknown> {
  const memory = process.memoryUsage();
  const runs = services.turns.stats();
  return {
    name: 'brainstem',
    version: services.version,
    bootId: services.bootId,
    uptimeMs: services.now() - services.startedAt,
    connections: services.broadcaster.size,
    sessions: services.store.sessions.count(),
    activeRuns: runs.running,
    queuedRuns: runs.queued,
    lanes: [
      { name: 'sessions', running: runs.running, queued: runs.queued, concurrency: services.config.maxConcurrentRuns, maxQueue: services.config.maxQueuedRuns },
    ],
    eventLoopLagMs: services.loop.read(),
    heapMB: Math.round((memory.heapUsed / 1_048_576) * 10) / 10,
    rssMB: Math.round((memory.rss / 1_048_576) * 10) / 10,
    database: { ...services.store.health(), path: services.store.path },
    provider: services.provider.id,
    model: services.model,
  };
}
