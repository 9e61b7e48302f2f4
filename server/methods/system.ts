/** Discovery methods: health, status, presence, heartbeat, models, agents, identity, commands. */
import { DEFAULT_AGENT_ID, MAIN_KEY } from '../../protocol/session-key.js';
import { BUILTIN_SOURCE } from '../../identity/index.js';
import type { GatewayServices } from '../services.js';
import { healthSnapshot, statusSnapshot } from '../snapshots.js';
import { CHAT_COMMANDS } from '../../workers/chat-commands.js';
import { checkAgent } from './session-keys.js';
import type { HandlerGroup } from './types.js';

type SystemMethods =
  | 'health'
  | 'status'
  | 'system-presence'
  | 'last-heartbeat'
  | 'models.list'
  | 'agents.list'
  | 'agent.identity.get'
  | 'commands.list'
  | 'question.list'
  | 'plugin.approval.list';

export function systemHandlers(services: GatewayServices): HandlerGroup<SystemMethods> {
  const { identity } = services;
  return {
    health: () => healthSnapshot(services),
    status: () => statusSnapshot(services),
    'system-presence': () => services.presence.entries(),
    'last-heartbeat': () => services.lastHeartbeat,
    'models.list': () => ({ models: [...services.models] }),
    'agents.list': () => ({
      defaultId: DEFAULT_AGENT_ID,
      mainKey: MAIN_KEY,
      scope: 'per-sender' as const,
      agents: identity.agentIds().map((id) => {
        const { fields } = identity.packet(id);
        const shown = {
          ...(fields.name === undefined ? {} : { name: fields.name }),
          ...(fields.emoji === undefined ? {} : { emoji: fields.emoji }),
          ...(fields.avatar === undefined ? {} : { avatar: fields.avatar }),
        };
        const [primary, ...fallbacks] = services.provider.models().map((model) => model.id);
        return { id, ...(fields.name === undefined ? {} : { name: fields.name }), identity: shown, model: { primary: primary ?? services.model, fallbacks } };
      }),
    }),
    'agent.identity.get': (params) => {
      const agentId = params.agentId ?? DEFAULT_AGENT_ID;
      checkAgent(identity, agentId);
      const { fields, fieldSources } = identity.packet(agentId);
      const nameSource = fieldSources?.name === undefined || fieldSources.name === BUILTIN_SOURCE ? 'default' : 'workspace';
      return {
        agentId,
        ...(fields.name === undefined ? {} : { name: fields.name, nameSource }),
        ...(fields.avatar === undefined ? {} : { avatar: fields.avatar }),
        ...(fields.emoji === undefined ? {} : { emoji: fields.emoji }),
      };
    },
    'question.list': () => ({ questions: [] }),
    'plugin.approval.list': () => [],
    'commands.list': () => ({
      commands: CHAT_COMMANDS.map((command) => ({
        name: command.name,
        description: command.description,
        category: 'session',
        source: 'native' as const,
        scope: 'text' as const,
        acceptsArgs: command.acceptsArgs,
      })),
    }),
  };
}
