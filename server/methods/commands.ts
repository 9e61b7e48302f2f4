/** The slash command a chat message starts with, bound to this gateway's services (workers/chat-commands.ts). */
import { commandTurn, parseChatCommand, type CommandTurn } from '../../workers/chat-commands.js';
import type { GatewayServices } from '../services.js';

export function chatCommand(services: GatewayServices, message: string, sessionKey: string, agentId: string): CommandTurn | undefined {
  const parsed = parseChatCommand(message);
  if (parsed === undefined) return undefined;
  return commandTurn(parsed.name, sessionKey, agentId, {
    sessions: services.sessions,
    turns: services.turns,
    models: () => [...services.models],
    defaultModel: () => services.model,
    version: services.version,
    uptimeMs: () => services.now() - services.startedAt,
  });
}
