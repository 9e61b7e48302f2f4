/** Resolves a request's session key and agent id, refusing agents brainstem does not know. */
import { GatewayError } from '../../protocol/errors.js';
import { DEFAULT_AGENT_ID, mainSessionKey, parseSessionKey } from '../../protocol/session-key.js';
import type { IdentityService } from '../../identity/types.js';

export interface ResolvedKey {
  key: string;
  agentId: string;
}

export function resolveSession(identity: IdentityService, rawKey: string | undefined, agentId: string | undefined): ResolvedKey {
  const owner = agentId ?? DEFAULT_AGENT_ID;
  const parsed = rawKey === undefined ? { canonical: mainSessionKey(owner), agentId: owner } : parseSessionKey(rawKey, owner);
  checkAgent(identity, parsed.agentId);
  return { key: parsed.canonical, agentId: parsed.agentId };
}

export function checkAgent(identity: IdentityService, agentId: string): void {
  if (!identity.agentIds().includes(agentId)) throw new GatewayError('UNKNOWN_AGENT_ID', { params: { agentId } });
}
