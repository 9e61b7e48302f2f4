/**
 * The life of one socket: admission (connection cap, per-IP attempts), challenge on open, handshake frames
 * until hello-ok, then requests through the router; handshake timeout; cleanup and presence on close.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket, RawData } from 'ws';
import type { Logger } from 'pino';
import { CHALLENGE_CAPABILITIES } from '../protocol/capabilities.js';
import { CLOSES } from '../protocol/errors.js';
import type { Broadcaster } from './broadcaster.js';
import { Connection } from './connection.js';
import { handleHandshakeFrame, type HandshakeContext } from './handshake.js';
import { timeoutAfterIo } from './io-timer.js';
import type { OutboundPolicy } from './outbound.js';
import type { RateLimits } from './rate-limits.js';
import type { Router } from './router.js';

export interface EndpointContext {
  logger: Logger;
  broadcaster: Broadcaster;
  router: Router;
  handshake: HandshakeContext;
  handshakeTimeoutMs: number;
  outbound: OutboundPolicy;
  limits: RateLimits;
  now: () => number;
  /** True once shutdown began: new sockets are closed at once. */
  closing: () => boolean;
  /** A connection left after it had been open. */
  left: (conn: Connection) => void;
  /** Counts frames in, for metrics. */
  frameIn?: (bytes: number) => void;
  /** A socket was accepted (`refused` undefined) or refused before its challenge. */
  admitted?: (refused: 'connections' | 'connects' | undefined) => void;
}

/** How long a refused socket gets to complete the closing handshake before it is destroyed, in ms. */
export const REFUSED_SOCKET_TERMINATE_MS = 1_000;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Takes over an upgraded socket; undefined when it was refused at once: over the connection cap (close 1013
 * "too many connections") or over its IP's connection-attempt rate (close 1013 "too many connection attempts").
 * Both are "try again later" closes a client can read; no challenge is sent.
 */
export function acceptSocket(ws: WebSocket, req: IncomingMessage, ctx: EndpointContext): Connection | undefined {
  const ip = req.socket.remoteAddress;
  const refusal = ctx.closing() ? undefined : ctx.limits.admitSocket(ip, ctx.broadcaster.size);
  ctx.admitted?.(refusal?.limit);
  if (refusal !== undefined) {
    const close = refusal.limit === 'connections' ? CLOSES.TOO_MANY_CONNECTIONS : CLOSES.CONNECT_RATE_LIMITED;
    ctx.logger.debug({ ip, limit: refusal.limit, retryAfterMs: refusal.retryAfterMs }, 'connection refused');
    ws.on('error', () => undefined);
    ws.close(close.code, close.reason);
    // A refused client that never answers the close frame is not kept for ws's 30 s close timeout.
    setTimeout(() => ws.terminate(), REFUSED_SOCKET_TERMINATE_MS).unref();
    return undefined;
  }
  const conn = new Connection(ws, req.socket, ip, req.headers.origin !== undefined, ctx.outbound, ctx.logger);
  if (ctx.closing()) {
    conn.close(CLOSES.SERVICE_RESTART.code, CLOSES.SERVICE_RESTART.reason);
    return conn;
  }
  ctx.broadcaster.add(conn);
  // After the sockets were read: a connect that came while the event loop was held is not judged missing.
  const handshakeTimer = timeoutAfterIo(ctx.handshakeTimeoutMs, () => {
    if (conn.phase === 'challenge') conn.close(CLOSES.HANDSHAKE_TIMEOUT.code, CLOSES.HANDSHAKE_TIMEOUT.reason);
  }).unref();

  ws.on('message', (raw: RawData) => {
    const data = toBuffer(raw);
    conn.framesIn += 1;
    ctx.frameIn?.(data.length);
    if (conn.phase === 'challenge') {
      handleHandshakeFrame(conn, data, ctx.handshake);
      if (conn.phase !== 'challenge') handshakeTimer.clear();
      if (conn.open) conn.requestLimiter = ctx.limits.requestLimiter();
    } else if (conn.phase === 'open') {
      void ctx.router.dispatch(conn, data);
    }
  });
  ws.on('pong', () => {
    conn.alive = true;
  });
  ws.on('error', (err) => conn.logger.debug({ err }, 'socket error'));
  ws.on('close', (code, reason) => {
    handshakeTimer.clear();
    const wasOpen = conn.grant !== undefined;
    conn.markClosed();
    ctx.broadcaster.delete(conn);
    conn.logger.debug({ code, reason: reason.toString() }, 'socket closed');
    if (wasOpen) ctx.left(conn);
  });
  conn.sendChallenge({ nonce: conn.nonce, ts: ctx.now(), capabilities: [...CHALLENGE_CAPABILITIES] });
  return conn;
}
