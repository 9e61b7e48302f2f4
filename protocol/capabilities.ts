/** Client capabilities (`connect.params.caps`) that change what brainstem sends. */
export const ClientCap = {
  /** OpenClaw: agent/chat events only for sessions the connection subscribed to. */
  SESSION_SCOPED_EVENTS: 'session-scoped-events',
  /** OpenClaw: receive tool stream events for runs the connection started. */
  TOOL_EVENTS: 'tool-events',
} as const;

/** brainstem's negotiated extensions (protocol-extensions.md). */
export const ExtensionCap = {
  MEMORY_V1: 'memory.v1',
  AGENT_PLAN_V1: 'agent.plan.v1',
} as const;
export type ExtensionCap = (typeof ExtensionCap)[keyof typeof ExtensionCap];

export const EXTENSION_CAPS: readonly ExtensionCap[] = [ExtensionCap.MEMORY_V1, ExtensionCap.AGENT_PLAN_V1];

/** Server capabilities advertised in `connect.challenge`. */
export const CHALLENGE_CAPABILITIES = ['model-catalog-snapshot'] as const;
