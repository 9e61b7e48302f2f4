/**
 * The scripted HTTP server behind the mock model servers (mock-openai.ts, mock-anthropic.ts). It listens on
 * 127.0.0.1, port 0; records every request (parsed JSON body, headers, the client's port) and whether the
 * client closed the connection before the response was finished; and answers each request by running a
 * script: status + headers, then steps (write bytes, wait, hang until the client leaves, drop the socket).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type MockStep =
  /** Write these bytes (one HTTP chunk). */
  | { write: string | Uint8Array }
  /** Wait before the next step, in ms. */
  | { delayMs: number }
  /** Send nothing more and keep the connection open until the client closes it (a stalled stream). */
  | { hang: true }
  /** Destroy the socket mid-response (a dropped connection). */
  | { destroy: true };

export interface MockScript {
  /** Default 200. */
  status?: number;
  /** Default `content-type: text/event-stream`. */
  headers?: Record<string, string>;
  /** Wait before sending the status line, in ms. */
  headerDelayMs?: number;
  /** False: send no status line, the steps run on a bare connection (e.g. drop it unanswered). Default true. */
  sendHeaders?: boolean;
  steps: MockStep[];
}

export interface MockRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body; undefined when the body was not JSON. */
  body: Record<string, unknown> | undefined;
  rawBody: string;
  /** The client's TCP port: equal ports on two requests mean a reused keep-alive connection. */
  remotePort: number;
  receivedAt: number;
  /** True once the client closed the connection before the response was finished. */
  clientClosed: boolean;
  /** Resolves (with `performance.now()`) when the client closes the connection before the response finished. */
  closed: Promise<number>;
  /** Resolves when the script has run to its end (or stopped because the connection went away). */
  done: Promise<void>;
}

/** Picks the script for one request; may look at the recorded body. */
export type ScriptSource = (request: MockRequest) => MockScript | Promise<MockScript>;

export interface MockHttpServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  requests: MockRequest[];
  /** Scripts for the next requests, in order; when the queue is empty the default answers. */
  enqueue(...scripts: (MockScript | ScriptSource)[]): void;
  /** TCP connections accepted so far / open now. */
  readonly connections: number;
  readonly openConnections: number;
  /** Stops listening and destroys every connection; safe to call twice. */
  close(): Promise<void>;
}

export interface MockHttpOptions {
  /** Answers requests to paths the vendor mock does not serve, or undefined to let the script run. */
  route?: (request: MockRequest) => MockScript | undefined;
  respond: ScriptSource;
}

/** Starts a scripted server on 127.0.0.1, port 0. */
export async function startMockHttpServer(options: MockHttpOptions): Promise<MockHttpServer> {
  const requests: MockRequest[] = [];
  const queue: (MockScript | ScriptSource)[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let closing = false;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record = await recordRequest(req, res, () => closing);
    requests.push(record);
    const routed = options.route?.(record);
    const script = routed ?? (await resolveScript(queue.shift() ?? options.respond, record));
    await runScript(script, record, res);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...scripts) => queue.push(...scripts),
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    close() {
      closing = true;
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function resolveScript(source: MockScript | ScriptSource, request: MockRequest): Promise<MockScript> {
  return typeof source === 'function' ? source(request) : source;
}

async function recordRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  closing: () => boolean,
): Promise<MockRequest> {
  const pieces: Buffer[] = [];
  for await (const chunk of req) pieces.push(chunk as Buffer);
  const rawBody = Buffer.concat(pieces).toString('utf8');
  let resolveClosed: (at: number) => void = () => {};
  const record: MockRequest = {
    method: req.method ?? '',
    path: req.url ?? '',
    headers: req.headers,
    body: parseBody(rawBody),
    rawBody,
    remotePort: req.socket.remotePort ?? 0,
    receivedAt: performance.now(),
    clientClosed: false,
    closed: new Promise<number>((resolve) => (resolveClosed = resolve)),
    done: Promise.resolve(),
  };
  res.on('close', () => {
    // A close we caused (dropped socket, server shutdown) or after the end is not the client leaving.
    if (res.writableFinished || serverDropped.has(res) || closing()) return;
    record.clientClosed = true;
    resolveClosed(performance.now());
  });
  return record;
}

const serverDropped = new WeakSet<http.ServerResponse>();

function runScript(script: MockScript, record: MockRequest, res: http.ServerResponse): Promise<void> {
  record.done = (async () => {
    if (script.headerDelayMs) await delay(script.headerDelayMs);
    if (res.destroyed) return;
    if (script.sendHeaders !== false) {
      res.writeHead(
        script.status ?? 200,
        script.headers ?? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      );
      res.flushHeaders();
    }
    for (const step of script.steps) {
      if (res.destroyed) return;
      if ('write' in step) res.write(step.write);
      else if ('delayMs' in step) await delay(step.delayMs);
      else if ('hang' in step) {
        await Promise.race([record.closed, new Promise((resolve) => res.once('close', resolve))]);
        return;
      } else {
        serverDropped.add(res);
        res.socket?.destroy();
        return;
      }
    }
    res.end();
  })();
  return record.done;
}

function parseBody(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Splits `text` (as UTF-8 bytes) into writes of `size` bytes, `gapMs` apart, so pieces arrive separately. */
export function splitWrites(text: string, size: number, gapMs = 2): MockStep[] {
  const bytes = Buffer.from(text, 'utf8');
  const steps: MockStep[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    if (i > 0) steps.push({ delayMs: gapMs });
    steps.push({ write: bytes.subarray(i, i + size) });
  }
  return steps;
}

/** How a streamed answer is delivered; shared by the vendor mocks' `stream()` builders. */
export interface StreamScriptOptions {
  /** Wait before the first chunk, in ms (after the headers). */
  firstDelayMs?: number;
  /** Wait between chunks, in ms. */
  chunkDelayMs?: number;
  /** Keep-alive comment lines (or the vendor's ping events) between chunks. */
  keepAlive?: boolean;
  /** Re-cut the whole body into writes of this many bytes (splits lines and UTF-8 characters). */
  splitBytes?: number;
  /** After the text chunks: finish normally (default), stall (`hang`) or destroy the socket (`drop`). */
  then?: 'finish' | 'hang' | 'drop';
  /** Raw SSE text inserted after the first text chunk (an unknown event, a malformed chunk...). */
  inject?: string;
}

/** Steps for `pieces` (SSE text, one write each) then `tail` (sent only when `then` is `finish`). */
export function composeScript(pieces: string[], tail: string[], options: StreamScriptOptions): MockScript {
  const then = options.then ?? 'finish';
  const all = then === 'finish' ? [...pieces, ...tail] : pieces;
  const steps: MockStep[] = [];
  if (options.firstDelayMs) steps.push({ delayMs: options.firstDelayMs });
  if (options.splitBytes) {
    steps.push(...splitWrites(all.join(''), options.splitBytes));
  } else {
    all.forEach((piece, i) => {
      if (i > 0 && options.chunkDelayMs) steps.push({ delayMs: options.chunkDelayMs });
      steps.push({ write: piece });
    });
  }
  if (then === 'hang') steps.push({ hang: true });
  if (then === 'drop') steps.push({ delayMs: 5 }, { destroy: true });
  return { steps };
}
