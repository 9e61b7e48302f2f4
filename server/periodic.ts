/** The gateway's clocks: tick and health events, WebSocket liveness pings, idempotency sweeps, purge retries. */
import { CLOSES } from '../protocol/errors.js';
import type { Broadcaster } from './broadcaster.js';
import type { GatewayServices } from './services.js';
import { intervalAfterIo } from './io-timer.js';
import { healthSnapshot } from './snapshots.js';

/** How often expired idempotency records are dropped, in ms. */
export const IDEMPOTENCY_SWEEP_INTERVAL_MS = 60_000;

/** How often a purge of deleted sessions that failed (or was left by a restart) is tried again, in ms. */
export const PURGE_RETRY_INTERVAL_MS = 60_000;

export interface Periodic {
  /** Stops every timer; safe to call twice. */
  stop(): void;
}

export function startPeriodic(services: GatewayServices, broadcaster: Broadcaster): Periodic {
  const { config } = services;
  const timers = [
    setInterval(() => broadcaster.broadcast('tick', { ts: services.now() }), config.tickIntervalMs),
    setInterval(() => {
      const stateVersion = services.presence.healthChanged();
      broadcaster.broadcast('health', healthSnapshot(services), { stateVersion });
    }, config.healthIntervalMs),
    setInterval(() => void services.turns.sweep(), IDEMPOTENCY_SWEEP_INTERVAL_MS),
    setInterval(() => void services.sessions.purge(), PURGE_RETRY_INTERVAL_MS),
  ];
  for (const timer of timers) timer.unref();
  // After the sockets were read: pongs that came while the event loop was held are not judged missing.
  const liveness = intervalAfterIo(config.pingIntervalMs, () => checkLiveness(broadcaster)).unref();
  return {
    stop: () => {
      timers.forEach(clearInterval);
      liveness.clear();
    },
  };
}

/** Closes the connections that did not answer the last ping, and pings the others. */
function checkLiveness(broadcaster: Broadcaster): void {
  for (const conn of broadcaster.connections()) {
    if (!conn.alive) {
      conn.logger.debug('no pong since the last ping; closing');
      conn.close(CLOSES.PONG_TIMEOUT.code, CLOSES.PONG_TIMEOUT.reason);
      conn.ws.terminate();
      continue;
    }
    conn.alive = false;
    conn.ws.ping();
  }
}
