/**
 * What issue 7 adds around the core, built in one place and handed to the endpoint, the handshake and the
 * router as hooks: rate limits, Prometheus metrics and the audit log. createGateway owns the result and
 * closes it after the HTTP server.
 */
import { join } from 'node:path';
import type { Store } from '../memory/store.js';
import type { Config } from './config-options.js';
import type { RuntimeEvents } from '../workers/run-events.js';
import type { TurnService } from '../workers/turn-service.js';
import { actorOf, disabledAuditLog, openAuditLog, type AuditLog } from './audit-log.js';
import type { Broadcaster } from './broadcaster.js';
import type { EventLoopMonitor } from './event-loop.js';
import type { HandshakeContext } from './handshake.js';
import { GatewayMetrics } from './metrics.js';
import { RateLimits, rateLimitOptions } from './rate-limits.js';
import type { RouterOptions } from './router.js';
import type { EndpointContext } from './ws-endpoint.js';

/** File name of the audit log inside the data dir (when `auditLogFile` is not set). */
export const AUDIT_LOG_FILE = 'audit.log';

export interface HardeningDeps {
  config: Config;
  store: Store;
  now: () => number;
  broadcaster: Broadcaster;
  turns: TurnService;
  events: RuntimeEvents;
  loop: EventLoopMonitor;
  /** An audit log the caller owns; when absent the one the config names is opened and owned here. */
  audit: AuditLog | undefined;
}

export interface Hardening {
  readonly metrics: GatewayMetrics;
  readonly limits: RateLimits;
  readonly audit: AuditLog;
  readonly handshake: Required<Pick<HandshakeContext, 'authRetryAfter' | 'authFailed'>>;
  readonly endpoint: Pick<EndpointContext, 'outbound' | 'limits' | 'frameIn' | 'admitted'>;
  readonly router: Pick<RouterOptions, 'observe' | 'acked' | 'databaseError'>;
  /** Stops listening to runtime events, forgets rate-limit state, closes an owned audit log; safe to call twice. */
  close(): void;
}

export function createHardening(deps: HardeningDeps): Hardening {
  const { config, broadcaster } = deps;
  const metrics = new GatewayMetrics({
    connections: () => countConnections(broadcaster),
    lanes: () => ({ ...deps.turns.stats(), deepest: deps.turns.deepestQueue() }),
    loopDelay: () => deps.loop.read(),
    outboundBuffered: () => outboundBuffered(broadcaster),
    databaseDegraded: () => deps.store.health().state === 'degraded',
  });
  // A database that became unusable is a database error; one that was unusable at start counts once too.
  if (deps.store.health().state === 'degraded') metrics.databaseError();
  const stopWatchingStore = deps.store.onHealthChange((health) => {
    if (health.state === 'degraded') metrics.databaseError();
  });
  const limits = new RateLimits(rateLimitOptions(config), deps.now, (limit) => metrics.rateLimited(limit));
  const audit = deps.audit ?? openConfiguredAuditLog(config);
  const stopCountingRuns = deps.events.on((event) => {
    if (event.type !== 'run.ended') return;
    const { status, startedAt, endedAt } = event.ended;
    metrics.runEnded(status, startedAt === undefined ? undefined : endedAt - startedAt);
  });
  const wire = metrics.wire;
  return {
    metrics,
    limits,
    audit,
    handshake: {
      authRetryAfter: (conn) => limits.authRetryAfter(conn.remoteAddress),
      authFailed: (conn, error, secret) => {
        if (secret) limits.authFailed(conn.remoteAddress);
        const detailCode = error.spec.detailCode ?? error.kind;
        metrics.authFailed(detailCode);
        audit.authFailure(actorOf(conn), { detailCode, authReason: stringField(error.details, 'authReason'), retryAfterMs: error.retryAfterMs });
      },
    },
    endpoint: {
      outbound: { maxBufferedBytes: config.maxBufferedBytes, droppableBufferedBytes: config.droppableBufferedBytes, totals: wire },
      limits,
      frameIn: (bytes) => {
        wire.framesIn += 1;
        wire.bytesIn += bytes;
      },
      admitted: (refused) => (refused === undefined ? metrics.connectionAccepted() : metrics.connectionRefused(refused)),
    },
    router: {
      observe: (method, ok) => metrics.requestDone(method, ok),
      acked: (method, ms) => metrics.acked(method, ms),
      databaseError: () => metrics.databaseError(),
    },
    close: () => {
      stopCountingRuns();
      stopWatchingStore();
      limits.close();
      if (deps.audit === undefined) audit.close();
    },
  };
}

/** The audit log the config asks for: `<dataDir>/audit.log` unless `auditLogFile` names another file. */
function openConfiguredAuditLog(config: Config): AuditLog {
  if (!config.auditLog) return disabledAuditLog();
  return openAuditLog(config.auditLogFile ?? join(config.dataDir, AUDIT_LOG_FILE));
}

function countConnections(broadcaster: Broadcaster): { handshaking: number; open: number } {
  let open = 0;
  for (const conn of broadcaster.connections()) if (conn.open) open += 1;
  return { handshaking: broadcaster.size - open, open };
}

function outboundBuffered(broadcaster: Broadcaster): { total: number; max: number } {
  let total = 0;
  let max = 0;
  for (const conn of broadcaster.connections()) {
    const bytes = conn.outbound.bufferedBytes;
    total += bytes;
    max = Math.max(max, bytes);
  }
  return { total, max };
}

function stringField(details: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = details?.[key];
  return typeof value === 'string' ? value : undefined;
}
