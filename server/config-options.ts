/**
 * Every option and limit brainstem has, with its default and unit, in one table. The CLI flag is the kebab-case
 * name (`--data-dir`), the environment variable is `BRAINSTEM_` + SCREAMING_SNAKE (`BRAINSTEM_DATA_DIR`), the
 * config-file key is the camelCase name. The README's option table is checked against this file by a test.
 */

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_TIMER_MS } from '../workers/abortable.js';

export type OptionKind = 'string' | 'int' | 'number' | 'bool' | 'enum' | 'json';

export interface OptionDef<T> {
  readonly kind: OptionKind;
  readonly default: T;
  readonly doc: string;
  /** Never logged; shown as `(secret)` in docs. */
  readonly secret?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Extra environment variables read when `BRAINSTEM_<NAME>` is not set (e.g. `OPENAI_API_KEY`). */
  readonly envAliases?: readonly string[];
  /** Group heading in the README table. */
  readonly group: string;
  /** For `json` options: the shape the value must have (JSON text in flags and env, a JSON value in the file). */
  readonly schema?: TSchema;
}

type Extra = Partial<Pick<OptionDef<unknown>, 'secret' | 'envAliases'>>;

/** One configured model (see workers/providers/model-config.ts); `apiKeyEnv` names an environment variable. */
export const ModelEntry = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    provider: Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('local')]),
    model: Type.String({ minLength: 1 }),
    baseUrl: Type.Optional(Type.String({ minLength: 1 })),
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    apiKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
    contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
    maxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    requiresApiKey: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ModelEntry = Static<typeof ModelEntry>;
const ModelList = Type.Array(ModelEntry, { minItems: 1 });

function str(group: string, def: string, doc: string, extra: Extra = {}): OptionDef<string> {
  return { kind: 'string', default: def, doc, group, ...extra };
}
function optStr(group: string, doc: string, extra: Extra = {}): OptionDef<string | undefined> {
  return { kind: 'string', default: undefined, doc, group, ...extra };
}
function int(group: string, def: number, doc: string, min = 0, max = Number.MAX_SAFE_INTEGER): OptionDef<number> {
  return { kind: 'int', default: def, doc, group, min, max };
}
/** A delay in ms that ends up in a timer: at most MAX_TIMER_MS. */
function ms(group: string, def: number, doc: string, min = 0, max = MAX_TIMER_MS): OptionDef<number> {
  return int(group, def, doc, min, Math.min(max, MAX_TIMER_MS));
}
function bool(group: string, def: boolean, doc: string): OptionDef<boolean> {
  return { kind: 'bool', default: def, doc, group };
}
function optInt(group: string, doc: string, min = 1): OptionDef<number | undefined> {
  return { kind: 'int', default: undefined, doc, group, min, max: Number.MAX_SAFE_INTEGER };
}
function json<T extends TSchema>(group: string, schema: T, doc: string): OptionDef<Static<T> | undefined> {
  return { kind: 'json', default: undefined, doc, group, schema, secret: true };
}
function oneOf<const V extends string>(group: string, values: readonly V[], def: V, doc: string): OptionDef<V> {
  return { kind: 'enum', default: def, doc, group, values };
}

const G = 'general';
const M = 'model';
const L = 'limits';
const F = 'features';
const MEM = 'memory';
const DAY_MS = 86_400_000;
const W = 'workers';
const R = 'rate limits';
const O = 'observability';

export const OPTIONS = {
  config: optStr(G, 'Path of an optional JSON config file (camelCase keys).'),
  host: str(G, '127.0.0.1', 'Interface to listen on.'),
  port: int(G, 18789, 'TCP port for WebSocket and HTTP; 0 picks a free port.', 0, 65535),
  token: optStr(G, 'Shared gateway token. When unset, one is generated and stored in the data dir (mode 0600).', {
    secret: true,
  }),
  authMode: oneOf(G, ['token', 'none'], 'token', 'token: clients must present the token. none: no auth, loopback hosts only.'),
  dataDir: str(G, './data', 'Folder of the SQLite database and the generated token.'),
  workspace: str(G, './workspace', 'Folder of the identity files (SOUL.md, AGENT.md, IDENTITY.md, USER.md).'),
  controlUiDir: optStr(G, 'Folder of the OpenClaw Control UI build (e.g. `$(npm root -g)/openclaw/dist/control-ui`), served on the gateway port.'),
  logLevel: oneOf(G, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino log level (logs go to stderr).'),

  provider: oneOf(M, ['local', 'openai', 'anthropic'], 'local', 'Primary model provider: the offline `local` echo, an OpenAI-compatible server, or Anthropic.'),
  model: optStr(M, 'Primary model id; default `local-echo` (local), `gpt-4o-mini` (openai), `claude-sonnet-4-5` (anthropic).'),
  contextWindow: optInt(M, 'Context window of the primary model, in tokens (shown by models.list).'),
  maxOutputTokens: optInt(M, 'Most tokens the primary model may generate per turn (provider default when unset).'),
  fallbacks: optStr(M, 'Failover chain after the primary, as `provider:model` entries separated by commas (e.g. `anthropic:claude-haiku-4-5,local`).'),
  models: json(M, ModelList, 'Full per-model configuration, JSON list of {id, provider, model, baseUrl?, apiKey? | apiKeyEnv?, contextWindow?, maxOutputTokens?}, in failover order; replaces provider/model/fallbacks.'),
  openaiBaseUrl: str(M, 'https://api.openai.com/v1', 'Base URL of the OpenAI-compatible API (OpenAI, Ollama, vLLM, llama.cpp server).'),
  openaiApiKey: optStr(M, 'API key for the OpenAI-compatible provider.', { secret: true, envAliases: ['OPENAI_API_KEY'] }),
  anthropicBaseUrl: str(M, 'https://api.anthropic.com', 'Base URL of the Anthropic Messages API.'),
  anthropicApiKey: optStr(M, 'API key for Anthropic.', { secret: true, envAliases: ['ANTHROPIC_API_KEY'] }),
  localChunkDelayMs: ms(M, 0, 'Delay between the local provider\'s streamed chunks, in ms (0: as fast as possible).', 0, 60_000),
  runTimeoutMs: ms(M, 600_000, 'Longest a run may take (failover and Retry-After waits included) before it ends with a timeout error, unless chat.send gives its own timeoutMs; also the longest one model call may take, in ms.', 1, 86_400_000),
  providerConnectTimeoutMs: ms(M, 10_000, 'Time to connect to a model server, in ms.', 1, 600_000),
  providerFirstTokenTimeoutMs: ms(M, 60_000, 'Time from request to the first streamed token, in ms.', 1, 3_600_000),
  providerIdleTimeoutMs: ms(M, 30_000, 'Longest silence between two streamed chunks, in ms.', 1, 3_600_000),

  memoryV1: bool(F, true, 'Offer the `memory.v1` extension (session memory, memory.* methods). Off: the plain gateway.'),
  agentRuntimeV1: bool(F, true, 'Offer the `agent.plan.v1` extension (planner, agent.* methods and events). Off: the plain gateway.'),
  workersV1: bool(F, true, 'Run the background workers (research, execution, status, heartbeat). Off: no worker pool.'),

  memoryMaxMessageBytes: int(MEM, 32_768, 'Largest message kept as itself in a session\'s active context, in UTF-8 bytes; a longer one is stored whole and replaced in the context by an extractive summary that fits: its head and its tail verbatim and stretches between them summarized, drawn from at most twice the limit in characters.', 256, 262_144),
  memoryMaxItems: int(MEM, 200, 'Most items (turns, summaries, documents) in one session\'s active context; past it the least recently used items are evicted to the long-term store.', 2, 100_000),
  memoryMaxTokens: int(MEM, 16_000, 'Most tokens (cl100k_base) in one session\'s active context; past it the least recently used items are evicted to the long-term store.', 64, 10_000_000),
  memoryMaxContexts: int(MEM, 10_000, 'Session contexts held in RAM at most; past it the least recently used idle ones are unloaded (and rebuilt from the store when used again). A context at the default item and token limits holds ~125 KB of heap, so 10,000 full ones take ~1.2 GB: size this to the RAM you give the gateway.', 1, 10_000_000),
  memorySummarizeAtPercent: int(MEM, 75, 'The memory manager summarizes a context once it holds more than this percentage of memoryMaxItems or memoryMaxTokens.', 1, 100),
  memoryKeepRecentItems: int(MEM, 8, 'Newest items of a context the memory manager never summarizes.', 0, 10_000),
  memoryStaleAfterMs: int(MEM, 3_600_000, 'A context untouched this long has its older items (all but memoryKeepRecentItems) summarized, in ms; 0: never.', 0),
  memorySummaryMaxTokens: int(MEM, 400, 'Longest summary the memory manager writes, in tokens.', 16, 100_000),
  memorySummarizer: oneOf(MEM, ['auto', 'provider', 'extractive'], 'auto', 'How summaries are written: provider (the configured model; should it fail over to the offline local one, whose echo is no summary, the extractive one is used), extractive (the deterministic sentence picker), auto (the provider unless the first usable model is the offline local one).'),
  memorySummarizerTimeoutMs: ms(MEM, 60_000, 'Longest a provider summary may take before the extractive summarizer is used instead, in ms.', 1),
  memorySummaryThread: bool(MEM, true, 'Draft extractive summaries in a worker thread of their own (~45 MB while it runs; it ends after 30 s without work), so that summarizing a full context (2–11 ms of CPU, more with long messages) never holds up the event loop. Off: drafted on the event loop.'),
  memoryManagerIntervalMs: ms(MEM, 5_000, 'Time between memory manager passes over the active contexts, in ms.', 10),
  memorySnapshotIntervalMs: ms(MEM, 1_000, 'Time between batch writes of RAM snapshots and memory bookkeeping (written in slices of ~2 ms, each its own transaction), in ms.', 10, 600_000),
  memoryTranscriptRetentionDays: int(MEM, 0, 'Days a turn\'s text is kept once it has left the active context; older ones are purged to forgotten tombstones. 0: forever.', 0, 36_500),
  memorySummaryRetentionDays: int(MEM, 0, 'Days a summary\'s text is kept once it has left the active context. 0: forever.', 0, 36_500),
  memoryRetentionIntervalMs: ms(MEM, 3_600_000, 'Time between retention passes of the memory manager, in ms.', 1_000),
  memoryRecallCandidates: int(MEM, 100, 'Newest full-text matches scored per text query (bounds recall time whatever the store size).', 10, 1_000_000),
  memoryRecallHalfLifeMs: int(MEM, 7 * DAY_MS, 'Age at which an item\'s recency boost in recall ranking halves, in ms.', 1),
  memoryDbRetryIntervalMs: ms(MEM, 5_000, 'In RAM-only mode (database unusable), time between attempts to reopen the database file, in ms.', 10),

  maxPayloadBytes: int(L, 26_214_400, "Largest inbound frame after hello-ok, in bytes (larger closes 1009). OpenClaw's 25 MiB; a 1 MB message takes ~60 ms to its final and holds other clients' requests up to ~50 ms, a 4 MB one ~180 / ~120 ms (`npm run bench:large`), so lower it where no client sends large pastes.", 1024),
  attachmentMaxBytes: int(L, 5_242_880, 'Largest image attachment of a turn (chat.send, sessions.send, agent), decoded, in bytes; a larger one is refused INVALID_REQUEST. 5 MiB is the most the Anthropic API takes per image. Told to clients in hello-ok (policy.attachments).', 1_024),
  preauthMaxPayloadBytes: int(L, 65_536, 'Largest inbound frame before hello-ok, in bytes (larger closes 1009).', 256),
  maxBufferedBytes: int(L, 52_428_800, 'Outbound bytes buffered per socket before it is closed 1008 "slow consumer".', 1024),
  droppableBufferedBytes: int(L, 1_048_576, 'Outbound bytes buffered per socket above which droppable events (chat deltas) are skipped and counted, in bytes (capped at maxBufferedBytes).', 0),
  handshakeTimeoutMs: ms(L, 15_000, 'Time from socket open to a successful connect, in ms.', 100),
  tickIntervalMs: ms(L, 30_000, 'Interval of `tick` events, in ms.', 10),
  healthIntervalMs: ms(L, 60_000, 'Interval of `health` events, in ms.', 10),
  pingIntervalMs: ms(L, 25_000, 'WebSocket ping interval; a socket that has not answered the previous ping is closed, in ms.', 10),
  presenceDebounceMs: ms(L, 250, 'Presence changes within this window are sent as one `presence` event, in ms (0: at once).', 0, 60_000),
  presenceMaxEntries: int(L, 200, 'Most clients listed in hello-ok\'s snapshot and in `presence` events (`system-presence` lists all).', 1, 1_000_000),
  presenceMaxBytesPerSec: int(L, 16_777_216, 'Most bytes of `presence` events sent per second, all clients together; past it the events are spaced further apart than presenceDebounceMs.', 1_024),
  maxSubscriptionsPerConnection: int(L, 1_000, 'Sessions one connection may follow with `sessions.messages.subscribe` at once; one more is refused with SUBSCRIPTION_LIMIT.', 1, 1_000_000),
  maxConcurrentRuns: int(L, 32, 'Runs streaming at once across all sessions (one per session at most).', 1, 100_000),
  maxQueuedTurnsPerSession: int(L, 64, 'Turns waiting behind the active run of one session.', 1, 100_000),
  maxQueuedRuns: int(L, 10_000, 'Turns waiting across all sessions.', 1, 10_000_000),
  maxQueuedTurnBytes: int(L, 268_435_456, 'Bytes of message text and attachments (base64) that turns waiting to run may hold in RAM, all sessions together; a turn past it is refused QUEUE_FULL (details.unit "bytes") before it is stored. A turn is always let into an empty queue.', 1_024),
  chatDeltaIntervalMs: ms(L, 75, 'Minimum spacing of `chat` delta events per run, in ms (text in between is merged).', 0, 10_000),
  idempotencyTtlMs: int(L, 86_400_000, 'How long a finished request\'s idempotency record is kept, in ms.', 1_000),
  historyMaxBytes: int(L, 6_291_456, 'Largest chat.history payload, in bytes (oldest messages are left out).', 1024),
  agentWaitDefaultMs: ms(L, 30_000, 'agent.wait timeout when the request has none, in ms.', 0),
  shutdownGraceMs: ms(L, 5_000, 'Time running turns get to finish on shutdown before they are aborted, in ms.', 0),

  workerPoolConcurrency: int(W, 4, 'Worker jobs running at once across all lanes.', 1, 1_024),
  laneInteractiveConcurrency: int(W, 2, 'Jobs running at once in the `interactive` lane (execution and status tasks of plans).', 1, 1_024),
  laneInteractiveMaxQueue: int(W, 256, 'Jobs admitted to the `interactive` lane and not yet running; more are refused with QUEUE_FULL.', 1, 1_000_000),
  laneResearchConcurrency: int(W, 2, 'Jobs running at once in the `research` lane (research tasks, workspace indexing).', 1, 1_024),
  laneResearchMaxQueue: int(W, 256, 'Jobs admitted to the `research` lane and not yet running; more are refused with QUEUE_FULL.', 1, 1_000_000),
  laneBackgroundConcurrency: int(W, 1, 'Jobs running at once in the `background` lane (heartbeat, speculative tasks, memory writes).', 1, 1_024),
  laneBackgroundMaxQueue: int(W, 1_024, 'Jobs admitted to the `background` lane and not yet running; more are refused with QUEUE_FULL.', 1, 1_000_000),
  laneAgingMs: int(W, 5_000, 'A waiting job moves up one lane priority for every this long it has waited, so background work is never starved, in ms.', 1),
  workerThreads: int(W, 2, 'Worker threads for CPU-heavy work (chunking and hashing documents); started on first use.', 1, 64),
  jobMaxAttempts: int(W, 3, 'Attempts a job gets before it becomes a dead letter.', 1, 100),
  jobBackoffBaseMs: int(W, 1_000, 'Wait before the first retry of a failed job, doubled for each further attempt, with jitter, in ms.', 1),
  jobBackoffMaxMs: int(W, 60_000, 'Longest wait before a retry of a failed job, in ms.', 1),
  jobTimeoutMs: ms(W, 120_000, 'Longest one attempt of a job may take before it counts as failed, in ms.', 1),
  jobRetentionMs: int(W, 604_800_000, 'Finished plans and jobs are kept this long for agent.status, in ms.', 1_000),
  plannerMode: oneOf(W, ['auto', 'rules', 'model'], 'auto', 'How the brain plans: rules (a numbered or bulleted list in the message becomes tasks), model (asks the model for a JSON plan after every reply), auto (rules with the offline local provider; with a real model, asks it only when the message lists steps).'),
  planMaxTasks: int(W, 8, 'Most tasks in one plan; longer lists are cut.', 1, 100),
  plannerTimeoutMs: ms(W, 30_000, 'Longest the planning model call may take; past it the turn goes on without a plan, in ms.', 1),
  heartbeatIntervalMs: ms(W, 1_800_000, 'Interval of the heartbeat worker, in ms (0: no heartbeat).', 0),
  staleTaskMs: int(W, 600_000, 'A pending or running task unchanged this long is reported stale by the heartbeat, in ms.', 1),
  researchMaxFiles: int(W, 2_000, 'Most workspace files the research worker indexes.', 1, 1_000_000),
  researchMaxFileBytes: int(W, 1_048_576, 'Largest workspace file the research worker indexes, in bytes.', 1),
  researchChunkChars: int(W, 2_000, 'Characters per indexed document chunk.', 100, 1_000_000),
  agentStatusMaxRuns: int(W, 50, 'Most runs agent.status lists.', 1, 10_000),
  maxConnections: int(R, 20_000, 'WebSocket connections open at once, handshaking ones included; one more is closed 1013 "too many connections".', 1, 10_000_000),
  requestsPerSec: int(R, 2_000, 'Requests per second one connection may make after hello-ok (token-bucket refill); more get RATE_LIMITED with retryAfterMs. 0: no limit.', 0),
  requestBurst: int(R, 4_000, 'Requests one connection may make at once above its rate (token-bucket size).', 1),
  maxPendingRequestsPerConnection: int(R, 1_000, 'Requests one connection may have waiting for their answer at once (agent.wait and `agent` wait for a run); one more gets RATE_LIMITED with retryAfterMs.', 1, 1_000_000),
  connectsPerIpPerMin: int(R, 120, 'WebSocket connection attempts per minute per client IP; more are closed 1013 "too many connection attempts". 0: no limit.', 0),
  connectBurstPerIp: int(R, 60, 'Connection attempts one IP may make at once above its rate.', 1),
  authFailuresPerIpPerMin: int(R, 1, 'Failed authentications per minute per client IP (refill); beyond the burst, connect gets AUTH_RATE_LIMITED and a close 1008. 0: no limit.', 0),
  authFailureBurstPerIp: int(R, 10, 'Failed authentications one IP may have in a row before it must wait.', 1),
  httpRequestsPerIpPerSec: int(R, 20, 'HTTP requests (/healthz, /readyz, /status, /metrics, ...) per second per client IP; more get 429 with Retry-After. 0: no limit.', 0),
  httpBurstPerIp: int(R, 100, 'HTTP requests one IP may make at once above its rate.', 1),
  rateLimitLoopback: bool(R, false, 'Apply the per-IP limits (connection attempts, failed auth, HTTP) to loopback clients too. Off: local processes and clients behind a local reverse proxy share one address.'),

  auditLog: bool(O, true, 'Write the audit log (auth failures, agent.control, sessions.delete, sessions.reset, memory.forget) as JSON lines.'),
  auditLogFile: optStr(O, 'File of the audit log; default `<dataDir>/audit.log`.'),
} as const;

export type OptionName = keyof typeof OPTIONS;
type ValueOf<D> = D extends OptionDef<infer T> ? T : never;

/** The validated configuration every component receives. */
export type Config = { readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> };

export function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function envName(name: string): string {
  return `BRAINSTEM_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

