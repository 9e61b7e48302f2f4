/**
 * Session keys (protocol-openclaw.md §3): canonical `agent:<agentId>:<key>`; a bare key belongs to the given
 * (or default) agent; `global` stays `global`. Events and `sessionInfo.key` always carry the canonical key.
 */
export const DEFAULT_AGENT_ID = 'main';
export const MAIN_KEY = 'main';
export const GLOBAL_SESSION_KEY = 'global';

export interface ParsedSessionKey {
  canonical: string;
  agentId: string;
  /** The part after `agent:<agentId>:`. */
  rest: string;
}

const AGENT_PREFIX = /^agent:([^:]+):(.+)$/;

export function parseSessionKey(raw: string, agentId: string = DEFAULT_AGENT_ID): ParsedSessionKey {
  const key = raw.trim();
  if (key === GLOBAL_SESSION_KEY) return { canonical: GLOBAL_SESSION_KEY, agentId, rest: GLOBAL_SESSION_KEY };
  const match = AGENT_PREFIX.exec(key);
  if (match) {
    const [, owner = agentId, rest = MAIN_KEY] = match;
    return { canonical: `agent:${owner.toLowerCase()}:${rest}`, agentId: owner.toLowerCase(), rest };
  }
  return { canonical: `agent:${agentId}:${key}`, agentId, rest: key };
}

export function mainSessionKey(agentId: string = DEFAULT_AGENT_ID): string {
  return `agent:${agentId}:${MAIN_KEY}`;
}
