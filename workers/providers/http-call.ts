import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { errorCode } from './provider-errors.js';
import type { StreamGuard } from './stream-guard.js';

/** Idle keep-alive sockets are closed after this long, in ms (below common server idle limits of 5 s+). */
export const DEFAULT_FREE_SOCKET_TIMEOUT_MS = 4_000;
/** Most bytes of an error response body read for its message, in bytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The keep-alive agents one provider instance owns. */
export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Keep-alive agents for one provider; `destroyAgents` closes their sockets. */
export function createAgents(freeSocketTimeoutMs = DEFAULT_FREE_SOCKET_TIMEOUT_MS): HttpAgents {
  const options = { keepAlive: true, timeout: freeSocketTimeoutMs, scheduling: 'lifo' as const };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

export function destroyAgents(agents: HttpAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

export interface HttpCallOptions {
  url: URL;
  headers: Record<string, string>;
  body: string;
  agents: HttpAgents;
  guard: StreamGuard;
}

/**
 * One streaming POST over node:http. The guard's signal destroys the request and its socket at once, so an
 * abort or a timeout is seen by the server as a closed connection. `close()` destroys the request unless the
 * body was read to its end (then the socket goes back to the keep-alive pool).
 */
export class HttpCall {
  readonly res: http.IncomingMessage;
  readonly #req: http.ClientRequest;
  readonly #guard: StreamGuard;
  readonly #onAbort: () => void;

  private constructor(req: http.ClientRequest, res: http.IncomingMessage, guard: StreamGuard) {
    this.#req = req;
    this.res = res;
    this.#guard = guard;
    // Errors surface through reading (or the guard); this listener only keeps them from being unhandled.
    res.on('error', () => {});
    this.#onAbort = () => {
      req.destroy(guard.signal.reason);
      res.destroy(guard.signal.reason);
    };
    guard.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /**
   * Sends the request and resolves once response headers arrive. A request that fails on a reused keep-alive
   * socket before any response (the server had closed it) is sent once more on a fresh socket: the server
   * never saw it, so this is not a retry of a model call.
   */
  static async open(options: HttpCallOptions): Promise<HttpCall> {
    const { req, res } = await send(options, true);
    if (options.guard.signal.aborted) {
      req.destroy();
      throw options.guard.signal.reason;
    }
    return new HttpCall(req, res, options.guard);
  }

  /** The body, piece by piece; each piece restarts the guard's idle timer. */
  async *chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of this.res) {
      this.#guard.activity();
      yield chunk as Buffer;
    }
  }

  /** Reads up to `maxBytes` of the body as UTF-8 (for error responses). */
  async text(maxBytes = MAX_ERROR_BODY_BYTES): Promise<string> {
    const pieces: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.chunks()) {
      pieces.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) break;
    }
    return Buffer.concat(pieces).subarray(0, maxBytes).toString('utf8');
  }

  /**
   * Releases the call: a response still arriving is destroyed with its socket; a complete one that was not
   * read to its end is drained so its socket goes back to the pool. Safe to call twice.
   */
  close(): void {
    this.#guard.signal.removeEventListener('abort', this.#onAbort);
    if (!this.res.complete) {
      this.#req.destroy();
      this.res.destroy();
    } else if (!this.res.readableEnded) {
      this.res.resume();
    }
  }
}

function send(
  options: HttpCallOptions,
  mayResend: boolean,
): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  const { url, guard } = options;
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    const req = request(url, {
      method: 'POST',
      agent: secure ? options.agents.https : options.agents.http,
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    });
    let settled = false;
    const onAbort = (): void => {
      req.destroy(guard.signal.reason);
    };
    guard.signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      settled = true;
      guard.signal.removeEventListener('abort', onAbort);
    };
    req.once('socket', (socket) => watchConnect(req, socket, guard));
    req.once('response', (res) => {
      settle();
      resolve({ req, res });
    });
    req.on('error', (error) => {
      if (settled) return;
      settle();
      if (mayResend && req.reusedSocket && isStaleSocket(error) && !guard.signal.aborted) {
        resolve(send(options, false));
      } else {
        reject(guard.signal.aborted ? guard.signal.reason : error);
      }
    });
    req.end(options.body);
  });
}

/** Tells the guard when the connection is open: at once for a reused socket, else on (secure) connect. */
function watchConnect(req: http.ClientRequest, socket: Socket, guard: StreamGuard): void {
  if (req.reusedSocket) {
    guard.connected();
    return;
  }
  if (socket instanceof TLSSocket) {
    socket.once('secureConnect', () => guard.connected());
  } else if (socket.readyState === 'open') {
    guard.connected();
  } else {
    socket.once('connect', () => guard.connected());
  }
}

function isStaleSocket(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ECONNRESET' || code === 'EPIPE';
}
