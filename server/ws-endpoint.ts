/**
 * The life of one socket: challenge on open, handshake frames until hello-ok, then requests through the
 * router; handshake timeout; cleanup and presence on close.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket, RawData } from 'ws';
import type { Logger } from 'pino';
import { CHALLENGE_CAPABILITIES } from '../protocol/capabilities.js';
import { CLOSES } from '../protocol/errors.js';
import type { Broadcaster } from './broadcaster.js';
import { Connection } from './connection.js';
import { handleHandshakeFrame, type HandshakeContext } from './handshake.js';
import type { Router } from './router.js';

export interface EndpointContext {
  logger: Logger;
  broadcaster: Broadcaster;
  router: Router;
  handshake: HandshakeContext;
  handshakeTimeoutMs: number;
  maxBufferedBytes: number;
  now: () => number;
  /** True once shutdown began: new sockets are closed at once. */
  closing: () => boolean;
  /** A connection left after it had been open. */
  left: (conn: Connection) => void;
  /** Counts frames in, for metrics. */
  frameIn?: (bytes: number) => void;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function acceptSocket(ws: WebSocket, req: IncomingMessage, ctx: EndpointContext): Connection {
  const conn = new Connection(ws, req.socket, req.socket.remoteAddress, req.headers.origin !== undefined, ctx.maxBufferedBytes, ctx.logger);
  if (ctx.closing()) {
    conn.close(CLOSES.SERVICE_RESTART.code, CLOSES.SERVICE_RESTART.reason);
    return conn;
  }
  ctx.broadcaster.add(conn);
  const handshakeTimer = setTimeout(() => {
    if (conn.phase === 'challenge') conn.close(CLOSES.HANDSHAKE_TIMEOUT.code, CLOSES.HANDSHAKE_TIMEOUT.reason);
  }, ctx.handshakeTimeoutMs);
  handshakeTimer.unref();

  ws.on('message', (raw: RawData) => {
    const data = toBuffer(raw);
    conn.framesIn += 1;
    ctx.frameIn?.(data.length);
    if (conn.phase === 'challenge') {
      handleHandshakeFrame(conn, data, ctx.handshake);
      if (conn.phase !== 'challenge') clearTimeout(handshakeTimer);
    } else if (conn.phase === 'open') {
      void ctx.router.dispatch(conn, data);
    }
  });
  ws.on('pong', () => {
    conn.alive = true;
  });
  ws.on('error', (err) => conn.logger.debug({ err }, 'socket error'));
  ws.on('close', (code, reason) => {
    clearTimeout(handshakeTimer);
    const wasOpen = conn.grant !== undefined;
    conn.markClosed();
    ctx.broadcaster.delete(conn);
    conn.logger.debug({ code, reason: reason.toString() }, 'socket closed');
    if (wasOpen) ctx.left(conn);
  });
  conn.sendChallenge({ nonce: conn.nonce, ts: ctx.now(), capabilities: [...CHALLENGE_CAPABILITIES] });
  return conn;
}
