/** A fixed identity: the built-in default until workspace files are read. */
import { createHash } from 'node:crypto';
import { DEFAULT_AGENT_ID } from '../protocol/session-key.js';
import type { IdentityPacket, IdentityService } from './types.js';

export const BUILTIN_SYSTEM_PROMPT =
  'You are brainstem, an agent gateway\'s assistant. Answer plainly and say when you do not know.';

export function staticIdentity(name = 'brainstem', emoji = '🧠'): IdentityService {
  const body = { agentId: DEFAULT_AGENT_ID, systemPrompt: BUILTIN_SYSTEM_PROMPT, fields: { name, emoji } };
  const packet: IdentityPacket = Object.freeze({
    ...body,
    sources: [{ file: 'builtin', sha256: createHash('sha256').update(BUILTIN_SYSTEM_PROMPT).digest('hex'), bytes: BUILTIN_SYSTEM_PROMPT.length }],
    conflicts: [],
    notices: [],
    hash: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
  });
  return {
    packet: () => packet,
    agentIds: () => [DEFAULT_AGENT_ID],
    close: async () => {},
  };
}
