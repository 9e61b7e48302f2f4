/**
 * A light raw-`ws` client for wire tests: sends exactly what the test says, records every frame, and waits
 * for frames, responses, events and the close with timeouts (a hung wait fails the test instead of hanging).
 */
import { WebSocket } from 'ws';
import { onTestFinished } from 'vitest';
import { WireErrorCode } from '../../protocol/errors.js';
import type { EventName, EventPayload } from '../../protocol/events.js';
import type { MethodName, MethodResult } from '../../protocol/registry.js';
import { timeoutAfterIo, type IoTimer } from '../../server/io-timer.js';

export interface Frame {
  type: string;
  id?: string;
  ok?: boolean;
  payload?: unknown;
  error?: { code: string; message: string; details?: Record<string, unknown>; retryable?: boolean; retryAfterMs?: number };
  event?: string;
  seq?: number;
  stateVersion?: { presence: number; health: number };
}

export interface ConnectOptions {
  token?: string;
  password?: string;
  scopes?: string[];
  caps?: string[];
  minProtocol?: number;
  maxProtocol?: number;
  role?: string;
  client?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

const WAIT_MS = 5_000;

/** A successful response's payload, typed by its method (fails the test on an error response). */
export function resultOf<N extends MethodName>(frame: Frame, method: N): MethodResult<N> {
  if (frame.ok !== true) throw new Error(`${method} failed: ${JSON.stringify(frame.error)}`);
  return frame.payload as MethodResult<N>;
}

const WIRE_CODES: readonly string[] = Object.values(WireErrorCode);

/**
 * What is wrong with a response, if anything: a refusal must carry a code of the wire catalog and never be
 * INTERNAL (a handler tripping over input that validation let through). Undefined for a well-formed answer.
 */
export function answerFault(res: { ok?: unknown; error?: unknown }): string | undefined {
  if (res.ok === true) return undefined;
  const error = res.error as Frame['error'];
  if (error === undefined || !WIRE_CODES.includes(error.code)) return `not a catalog error: ${JSON.stringify(error)}`;
  if (error.details?.code === 'INTERNAL') return `INTERNAL: ${JSON.stringify(error)}`;
  return undefined;
}

/** An event's payload, typed by its name. */
export function payloadOf<N extends EventName>(frame: Frame, event: N): EventPayload<N> {
  if (frame.event !== event) throw new Error(`expected a ${event} event, got ${JSON.stringify(frame)}`);
  return frame.payload as EventPayload<N>;
}
let nextId = 0;

export function connectParams(options: ConnectOptions = {}): Record<string, unknown> {
  const auth = { ...(options.token === undefined ? {} : { token: options.token }), ...(options.password === undefined ? {} : { password: options.password }) };
  return {
    minProtocol: options.minProtocol ?? 3,
    maxProtocol: options.maxProtocol ?? 4,
    client: { id: 'test', version: '1.0.0', platform: 'linux', mode: 'test', ...options.client },
    ...(options.role === undefined ? {} : { role: options.role }),
    scopes: options.scopes ?? ['operator.read', 'operator.write'],
    ...(options.caps === undefined ? {} : { caps: options.caps }),
    ...(Object.keys(auth).length === 0 ? {} : { auth }),
    ...options.extra,
  };
}

export class RawClient {
  readonly frames: Frame[] = [];
  readonly #waiters = new Set<() => void>();
  readonly closed: Promise<{ code: number; reason: string }>;
  challenge: Frame | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Frame;
      if (frame.event === 'connect.challenge') this.challenge = frame;
      this.frames.push(frame);
      for (const wake of [...this.#waiters]) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  /** Opens a socket and waits for `connect.challenge` (with `challenge: false`, only for the socket to open). */
  static async open(url: string, options: { headers?: Record<string, string>; challenge?: boolean } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { headers: options.headers, maxPayload: 64 * 1024 * 1024 });
    const client = new RawClient(ws);
    onTestFinished(() => client.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (options.challenge !== false) await client.next((f) => f.event === 'connect.challenge');
    return client;
  }

  /** Opens, connects and waits for hello-ok (throws when the gateway refuses). */
  static async connect(url: string, options: ConnectOptions = {}): Promise<RawClient> {
    const client = await RawClient.open(url);
    const res = await client.request('connect', connectParams(options));
    if (!res.ok) throw new Error(`connect refused: ${JSON.stringify(res.error)}`);
    return client;
  }

  send(data: unknown): void {
    this.ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data));
  }

  /** Sends a request and waits for its (first) response. */
  async request(method: string, params?: unknown, id = `t-${++nextId}`): Promise<Frame> {
    this.send({ type: 'req', id, method, ...(params === undefined ? {} : { params }) });
    return this.next((f) => f.type === 'res' && f.id === id);
  }

  /** The first frame (already received or arriving) matching `predicate`, searching from `from`. */
  next(predicate: (frame: Frame) => boolean, options: { timeoutMs?: number; from?: number } = {}): Promise<Frame> {
    const timeoutMs = options.timeoutMs ?? WAIT_MS;
    return new Promise((resolve, reject) => {
      let index = options.from ?? 0;
      const check = (): boolean => {
        for (; index < this.frames.length; index++) {
          const frame = this.frames[index] as Frame;
          if (predicate(frame)) {
            index += 1;
            resolve(frame);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const wake = (): void => {
        if (check()) done();
      };
      const timer = timeoutAfterIo(timeoutMs, () => {
        done();
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      });
      const done = (): void => {
        timer.clear();
        this.#waiters.delete(wake);
      };
      this.#waiters.add(wake);
    });
  }

  event(name: string, predicate: (frame: Frame) => boolean = () => true, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.type === 'event' && f.event === name && predicate(f), { timeoutMs });
  }

  events(name?: string): Frame[] {
    return this.frames.filter((f) => f.type === 'event' && (name === undefined || f.event === name));
  }

  /** Waits for the socket to close; fails after the timeout. */
  async waitClose(timeoutMs = WAIT_MS): Promise<{ code: number; reason: string }> {
    let timer: IoTimer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = timeoutAfterIo(timeoutMs, () => reject(new Error(`socket still open after ${timeoutMs} ms`)));
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      timer?.clear();
    }
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}
