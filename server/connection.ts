/**
 * One client socket: challenge → connect → open → closed. Holds what the handshake granted (role, scopes,
 * caps, extensions), the subscriptions, the per-connection event `seq`, and the outbound queue. One
 * AbortController per connection: everything done on its behalf stops when it closes.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { ExtensionCap } from '../protocol/capabilities.js';
import { CLOSES, type WireError } from '../protocol/errors.js';
import type { StateVersion } from '../protocol/frames.js';
import type { ConnectParams } from '../protocol/methods/connect.js';
import type { MethodScope } from '../protocol/scopes.js';
import { Outbound, type OutboundPolicy } from './outbound.js';
import type { RequestLimiter } from './rate-limits.js';

/**
 * After a slow-consumer close the close frame waits behind the unread backlog; past this many ms the socket is
 * destroyed, so a client that reads nothing does not hold up to `maxBufferedBytes` for ws's 30 s close timeout.
 */
export const SLOW_CONSUMER_TERMINATE_MS = 5_000;

export type ConnectionPhase = 'challenge' | 'open' | 'closed';

/** What a successful connect granted. */
export interface Grant {
  role: string;
  scopes: readonly string[];
  /** Every scope the granted scopes satisfy (`admin` all, `write` also read and talk). */
  satisfies: ReadonlySet<MethodScope>;
  caps: ReadonlySet<string>;
  extensions: ReadonlySet<ExtensionCap>;
  protocol: number;
  client: ConnectParams['client'];
  deviceId: string | undefined;
  authMethod: 'token' | 'password' | 'none';
  connectedAt: number;
}

export class Connection {
  readonly connId = randomUUID();
  readonly controller = new AbortController();
  readonly nonce = randomUUID();
  readonly outbound: Outbound;
  readonly #parentLogger: Logger;
  #logger: Logger | undefined;
  phase: ConnectionPhase = 'challenge';
  grant: Grant | undefined;
  /** Set by `sessions.subscribe`. */
  sessionsSubscribed = false;
  /** Canonical keys subscribed with `sessions.messages.subscribe`. */
  readonly messageKeys = new Set<string>();
  /** Answered the last WebSocket ping. */
  alive = true;
  framesIn = 0;
  /** This connection's request budget after hello-ok; undefined when requests are not limited. */
  requestLimiter: RequestLimiter | undefined;
  #seq = 0;

  constructor(
    readonly ws: WebSocket,
    tcp: Socket | undefined,
    readonly remoteAddress: string | undefined,
    readonly hasOrigin: boolean,
    outboundPolicy: OutboundPolicy,
    logger: Logger,
  ) {
    this.#parentLogger = logger;
    this.outbound = new Outbound(ws, tcp, outboundPolicy, () => this.#slowConsumer());
  }

  /** The connection's logger (`connId` bound), made on first use: most connections never log. */
  get logger(): Logger {
    return (this.#logger ??= this.#parentLogger.child({ connId: this.connId }));
  }

  get open(): boolean {
    return this.phase === 'open';
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  sendResponse(id: string, ok: true, payload: unknown): void;
  sendResponse(id: string, ok: false, payload: unknown, error: WireError): void;
  sendResponse(id: string, ok: boolean, payload: unknown, error?: WireError): void {
    const frame = { type: 'res', id, ok, ...(payload === undefined ? {} : { payload }), ...(error ? { error } : {}) };
    this.outbound.send(JSON.stringify(frame), false);
  }

  /** Sends a successful response whose payload is already JSON. */
  sendResponseJson(id: string, payloadJson: string): void {
    this.outbound.send(`{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${payloadJson}}`, false);
  }

  /**
   * Sends an event whose payload is already JSON (serialized once for all recipients). Every event takes the
   * next `seq`, also when it is dropped as slow, so clients can see the gap.
   */
  sendEvent(event: string, payloadJson: string, options: { droppable?: boolean; stateVersion?: StateVersion } = {}): void {
    this.#seq += 1;
    const version = options.stateVersion === undefined ? '' : `,"stateVersion":${JSON.stringify(options.stateVersion)}`;
    this.outbound.send(`{"type":"event","event":"${event}","payload":${payloadJson},"seq":${this.#seq}${version}}`, options.droppable ?? false);
  }

  /** The `connect.challenge` (no seq: it precedes the connection's event sequence). */
  sendChallenge(payload: object): void {
    this.outbound.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload }), false);
  }

  /** Closes the socket once; later calls do nothing. */
  close(code: number, reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.controller.abort();
    try {
      this.ws.close(code, reason);
    } catch (err) {
      this.logger.debug({ err }, 'close failed; terminating');
      this.ws.terminate();
    }
  }

  #slowConsumer(): void {
    if (this.phase === 'closed') return;
    this.logger.warn({ bufferedBytes: this.outbound.bufferedBytes }, 'slow consumer: closing');
    this.close(CLOSES.SLOW_CONSUMER.code, CLOSES.SLOW_CONSUMER.reason);
    setTimeout(() => this.ws.terminate(), SLOW_CONSUMER_TERMINATE_MS).unref();
  }

  /** Marks the connection closed after the socket went away by itself. */
  markClosed(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.controller.abort();
  }
}
