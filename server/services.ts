/** Everything method handlers and HTTP routes may use, built once by createGateway and passed in. */
import type { ExtensionCap } from '../protocol/capabilities.js';
import type { Config } from './config-options.js';
import type { Store } from '../memory/store.js';
import type { IdentityService } from '../identity/types.js';
import type { EventPayload } from '../protocol/events.js';
import type { ModelInfo, ModelProvider } from '../workers/providers/types.js';
import type { SessionService } from '../workers/session-service.js';
import type { TurnService } from '../workers/turn-service.js';
import type { GatewayAgent } from './agent-setup.js';
import type { AuditLog } from './audit-log.js';
import type { Broadcaster } from './broadcaster.js';
import type { EventLoopMonitor } from './event-loop.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayMemory } from './memory-setup.js';
import type { Presence } from './presence.js';
import type { RateLimits } from './rate-limits.js';

export interface GatewayServices {
  readonly config: Config;
  readonly store: Store;
  readonly turns: TurnService;
  readonly sessions: SessionService;
  /** Active contexts, memory API, documents, memory manager. */
  readonly memory: GatewayMemory;
  /** The agent runtime (jobs, lanes, workers, brain); undefined when agentRuntimeV1 is off. */
  readonly agent: GatewayAgent | undefined;
  readonly identity: IdentityService;
  readonly provider: ModelProvider;
  /** Every configured model (`models.list`), with `available` false for those lacking a key. */
  readonly models: readonly ModelInfo[];
  /** Default model id. */
  readonly model: string;
  /** Provider kind of the default model (`openai`, `anthropic`, `local`), for clients' defaults. */
  readonly modelProvider: string;
  readonly broadcaster: Broadcaster;
  readonly presence: Presence;
  readonly loop: EventLoopMonitor;
  readonly metrics: GatewayMetrics;
  readonly limits: RateLimits;
  /** Security-relevant acts: auth failures, session deletes and resets, agent.control, memory.forget. */
  readonly audit: AuditLog;
  readonly now: () => number;
  readonly startedAt: number;
  readonly version: string;
  /** Random per process start; lets clients notice a restart. */
  readonly bootId: string;
  /** Extension capabilities offered (from the feature flags). */
  readonly extensions: readonly ExtensionCap[];
  lastHeartbeat: EventPayload<'heartbeat'> | null;
}
