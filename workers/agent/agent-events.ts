/**
 * What the agent runtime tells the rest of the gateway, with no knowledge of sockets: the server sends these
 * as `agent.plan`, `agent.progress`, `agent.blocked` (to connections granted `agent.plan.v1`) and `heartbeat`.
 */
import type { Static } from '@sinclair/typebox';
import type { AgentBlockedPayload, AgentPlanPayload, AgentProgressPayload } from '../../protocol/methods/agent-plan.js';
import type { HeartbeatPayload } from '../../protocol/methods/system.js';

export type AgentEvent =
  | { type: 'agent.plan'; payload: AgentPlanPayload }
  | { type: 'agent.progress'; payload: AgentProgressPayload }
  | { type: 'agent.blocked'; payload: AgentBlockedPayload }
  | { type: 'heartbeat'; payload: Static<typeof HeartbeatPayload> };

export type AgentListener = (event: AgentEvent) => void;

/** A synchronous fan-out; a listener that throws is reported and never breaks the others. */
export class AgentEvents {
  readonly #listeners = new Set<AgentListener>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  on(listener: AgentListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: AgentEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
