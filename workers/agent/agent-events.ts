/**
 * What the agent runtime tells the rest of the gateway, with no knowledge of sockets: the server sends these
 * as `agent.plan`, `agent.progress`, `agent.blocked` (to connections granted `agent.plan.v1`) and `heartbeat`.
 */
import type { Static } from '@sinclair/typebox';
import type { AgentBlockedPayload, AgentPlanPayload, AgentProgressPayload } from '../../protocol/methods/agent-plan.js';
import type { HeartbeatPayload } from '../../protocol/methods/system.js';
import { Fanout } from '../fanout.js';

export type AgentEvent =
  | { type: 'agent.plan'; payload: AgentPlanPayload }
  | { type: 'agent.progress'; payload: AgentProgressPayload }
  | { type: 'agent.blocked'; payload: AgentBlockedPayload }
  | { type: 'heartbeat'; payload: Static<typeof HeartbeatPayload> };

/** The agent runtime's events, fanned out (workers/fanout.ts). */
export class AgentEvents extends Fanout<AgentEvent> {}
