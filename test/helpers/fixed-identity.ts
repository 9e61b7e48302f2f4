/** An identity service that always returns the built-in packet of the default agent (no files, no watching). */
import { DEFAULT_AGENT_ID, DEFAULT_IDENTITY_LIMITS, buildPacket, type IdentityService } from '../../identity/index.js';

export function fixedIdentity(agentIds: readonly string[] = [DEFAULT_AGENT_ID]): IdentityService {
  const packets = new Map(agentIds.map((agentId) => [agentId, buildPacket({ agentId, files: [], limits: DEFAULT_IDENTITY_LIMITS })]));
  return {
    packet: (agentId) => packets.get(agentId) ?? buildPacket({ agentId, files: [], limits: DEFAULT_IDENTITY_LIMITS }),
    agentIds: () => [...agentIds],
    close: async () => {},
  };
}
