/** The handler table: one handler per registry method, checked by the type. */
import type { GatewayServices } from '../services.js';
import { agentHandlers } from './agent.js';
import { chatHandlers } from './chat.js';
import { memoryHandlers } from './memory.js';
import { sessionsHandlers } from './sessions.js';
import { systemHandlers } from './system.js';
import type { Handlers } from './types.js';

export function createHandlers(services: GatewayServices): Handlers {
  return {
    ...systemHandlers(services),
    ...chatHandlers(services),
    ...agentHandlers(services),
    ...sessionsHandlers(services),
    ...memoryHandlers(services),
  };
}
