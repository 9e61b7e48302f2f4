/**
 * A WebSocket client at the byte level, for fuzzing: a plain TCP socket, a hand-written upgrade request, and
 * frames built byte by byte (any opcode, RSV bits, fragmentation, masking or not), written in chunks split
 * wherever the test says. Server frames are decoded just enough to record responses and the close.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { timeoutAfterIo } from '../../server/io-timer.js';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload: Buffer;
  /** Final fragment of a message (default true). */
  fin?: boolean;
  /** RSV1-3 bits, 0..7 (default 0; anything else is a protocol error without an extension). */
  rsv?: number;
  /** Clients must mask (default true). */
  mask?: boolean;
}

/** Encodes one client frame. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const { payload } = spec;
  const mask = spec.mask ?? true;
  const length = payload.length;
  const header: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) header.push(maskBit | length);
  else if (length < 65_536) header.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    header.push(maskBit | 127, 0, 0, 0, 0);
    header.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(header), payload]);
  const key = randomBytes(4);
  const masked = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (key[i & 3] as number);
  return Buffer.concat([Buffer.from(header), key, masked]);
}

/** A data message as frames: split into fragments at `cuts` (offsets into the payload), pings in between if asked. */
export function messageFrames(payload: Buffer, options: { binary?: boolean; cuts?: number[]; pingBetween?: boolean } = {}): Buffer {
  const cuts = [...new Set((options.cuts ?? []).filter((c) => c > 0 && c < payload.length))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, payload.length];
  const frames: Buffer[] = [];
  for (let i = 0; i < bounds.length - 1; i++) {
    const first = i === 0;
    const last = i === bounds.length - 2;
    frames.push(encodeFrame({ opcode: first ? (options.binary ? OPCODE.binary : OPCODE.text) : OPCODE.continuation, payload: payload.subarray(bounds[i], bounds[i + 1]), fin: last }));
    if (!last && options.pingBetween) frames.push(encodeFrame({ opcode: OPCODE.ping, payload: Buffer.from('p') }));
  }
  return Buffer.concat(frames);
}

export interface WireClose {
  /** The close frame's code, or 1006 when the socket ended without one. */
  code: number;
  reason: string;
}

export class WireClient {
  /** Text messages from the server, parsed. */
  readonly messages: Record<string, unknown>[] = [];
  readonly closed: Promise<WireClose>;
  #buffer: Buffer = Buffer.alloc(0);
  #close: WireClose | undefined;
  readonly #waiters = new Set<() => void>();
  /** True while `write` is between two chunks of its bytes: a frame may be half written. */
  #midWrite = false;
  /** Pongs owed to server pings that arrived mid-write; sent when the write is complete. */
  #owedPongs: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    let settle: (close: WireClose) => void = () => undefined;
    this.closed = new Promise((resolve) => (settle = resolve));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      settle(this.#close ?? { code: 1006, reason: '' });
      this.#wake();
    });
  }

  /** Opens a TCP connection, upgrades it by hand and returns once the 101 response is read. */
  static async open(url: string, timeoutMs = 5_000): Promise<WireClient> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setNoDelay(true);
    const started = performance.now();
    let connectedAfter: number | undefined;
    socket.once('connect', () => (connectedAfter = Math.round(performance.now() - started)));
    const head = await new Promise<Buffer>((resolve, reject) => {
      let received = Buffer.alloc(0);
      // Where it stopped: the TCP connect (the server's accept queue) or the HTTP answer.
      const state = (): string => `${connectedAfter === undefined ? 'TCP not connected' : `TCP connected after ${connectedAfter} ms`}, ${received.length} bytes received`;
      const timer = timeoutAfterIo(timeoutMs, () => reject(new Error(`no upgrade response within ${timeoutMs} ms (${state()})`)));
      const onClose = (): void => {
        timer.clear();
        reject(new Error(`connection closed before the upgrade response (${state()})`));
      };
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        timer.clear();
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.pause();
        const status = received.subarray(0, end).toString('latin1');
        if (!status.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${status.split('\r\n')[0]}`));
        else resolve(received.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', reject);
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const client = new WireClient(socket);
    if (head.length > 0) client.#onData(head);
    socket.resume();
    return client;
  }

  /** Writes `bytes` as separate TCP writes cut at `cuts`, letting the event loop turn between them. */
  async write(bytes: Buffer, cuts: number[] = []): Promise<void> {
    const bounds = [0, ...[...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b), bytes.length];
    this.#midWrite = true;
    try {
      for (let i = 0; i < bounds.length - 1; i++) {
        if (this.socket.destroyed) return;
        this.socket.write(bytes.subarray(bounds[i], bounds[i + 1]));
        if (i < bounds.length - 2) await nextTurn();
      }
    } finally {
      // A pong written between two chunks would land inside a frame and corrupt the stream (the server closes
      // 1002): pings that came meanwhile (the gateway's liveness check) are answered now.
      this.#midWrite = false;
      for (const pong of this.#owedPongs.splice(0)) if (!this.socket.destroyed) this.socket.write(pong);
    }
  }

  /** Sends a text message in one frame. */
  sendText(text: string): void {
    this.socket.write(encodeFrame({ opcode: OPCODE.text, payload: Buffer.from(text, 'utf8') }));
  }

  /** The first message (received or to come) matching `predicate`. */
  next(predicate: (message: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    return this.#until(() => this.messages.find(predicate), timeoutMs, 'message');
  }

  /** Waits until `count` responses with this id arrived (rejects on timeout or close). */
  responses(id: string, count = 1, timeoutMs = 5_000): Promise<Record<string, unknown>[]> {
    return this.#until(() => {
      const found = this.messages.filter((m) => m.type === 'res' && m.id === id);
      return found.length >= count ? found : undefined;
    }, timeoutMs, `${count} response(s) to ${JSON.stringify(id)}`);
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Closes from our side with a proper close frame, then ends the socket. */
  async close(): Promise<void> {
    if (!this.socket.destroyed) {
      const payload = Buffer.from([0x03, 0xe8]);
      this.socket.write(encodeFrame({ opcode: OPCODE.close, payload }));
      this.socket.end();
    }
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 2_000))]);
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = find();
        if (found !== undefined) {
          done();
          resolve(found);
          return true;
        }
        if (this.socket.destroyed) {
          done();
          reject(new Error(`socket closed (${JSON.stringify(this.#close)}) before ${what}; last: ${JSON.stringify(this.messages.slice(-3)).slice(0, 500)}`));
          return true;
        }
        return false;
      };
      const timer = timeoutAfterIo(timeoutMs, () => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(this.messages.slice(-3)).slice(0, 500)}`));
      });
      const done = (): void => {
        timer.clear();
        this.#waiters.delete(check);
      };
      if (check()) return;
      this.#waiters.add(check);
    });
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const frame = decodeServerFrame(this.#buffer);
      if (frame === undefined) break;
      this.#buffer = this.#buffer.subarray(frame.size);
      if (frame.opcode === OPCODE.text) this.messages.push(JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>);
      else if (frame.opcode === OPCODE.close) {
        this.#close = { code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005, reason: frame.payload.subarray(2).toString('utf8') };
        // Complete the closing handshake as a client does, so the server ends the TCP connection.
        if (!this.socket.destroyed) this.socket.end(encodeFrame({ opcode: OPCODE.close, payload: frame.payload.subarray(0, 2) }));
      } else if (frame.opcode === OPCODE.ping && !this.socket.destroyed) {
        const pong = encodeFrame({ opcode: OPCODE.pong, payload: frame.payload });
        if (this.#midWrite) this.#owedPongs.push(pong);
        else this.socket.write(pong);
      }
    }
    this.#wake();
  }
}

/** One unmasked, unfragmented server frame from the start of `buffer`, or undefined if incomplete. */
function decodeServerFrame(buffer: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = (buffer[0] as number) & 0xf;
  let length = (buffer[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { opcode, payload: buffer.subarray(offset, offset + length), size: offset + length };
}
