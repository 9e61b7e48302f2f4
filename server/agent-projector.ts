/**
 * Agent runtime events → wire events: `agent.plan`, `agent.progress`, `agent.blocked` (the broadcaster sends
 * them only to connections granted `agent.plan.v1` holding operator.read, and to a `session-scoped-events`
 * client only for the sessions it subscribed to) and OpenClaw's `heartbeat`, which
 * `last-heartbeat` then answers.
 */
import type { AgentEvent } from '../workers/agent/agent-events.js';
import { sessionOf, type Broadcaster } from './broadcaster.js';
import type { GatewayServices } from './services.js';

export function agentProjector(broadcaster: Broadcaster, services: Pick<GatewayServices, 'lastHeartbeat'>): (event: AgentEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'agent.plan':
        broadcaster.broadcast('agent.plan', event.payload, sessionOf(event.payload.sessionKey));
        return;
      case 'agent.progress':
        broadcaster.broadcast('agent.progress', event.payload, sessionOf(event.payload.sessionKey));
        return;
      case 'agent.blocked':
        broadcaster.broadcast('agent.blocked', event.payload, sessionOf(event.payload.sessionKey));
        return;
      case 'heartbeat':
        services.lastHeartbeat = event.payload;
        broadcaster.broadcast('heartbeat', event.payload);
        return;
    }
  };
}
