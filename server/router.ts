/**
 * Requests after hello-ok: the connection's rate limit, frame check, method lookup, scope check
 * (protocol-openclaw.md §6), params validation, then the handler. A request over the rate limit, or over the
 * connection's requests waiting for an answer, is answered `RATE_LIMITED` with `retryAfterMs` (never dropped).
 * Whatever a handler throws that is not a GatewayError becomes `INTERNAL` — the client never sees a stack
 * trace; the log keeps the original as the cause.
 */
import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../protocol/errors.js';
import { METHODS, isMethodName, type MethodName } from '../protocol/registry.js';
import { scopeSatisfied, type MethodScope } from '../protocol/scopes.js';
import { formatValidationErrors, paramValidator, resultValidator, validateRequestFrame } from '../protocol/validators.js';
import type { ExtensionCap } from '../protocol/capabilities.js';
import type { Connection } from './connection.js';
import { methodEnabled } from './extensions.js';
import type { Handler, Handlers, RequestContext } from './methods/types.js';
import { isSqliteError } from '../memory/db.js';

/** retryAfterMs of a request refused for the connection's requests waiting for their answers. */
export const PENDING_RETRY_AFTER_MS = 1_000;

export interface RouterOptions {
  /** Check every result against its schema and log mismatches (tests turn this on). */
  validateResults: boolean;
  /** Extensions offered: methods of other extensions are unknown. */
  offered: readonly ExtensionCap[];
  /** Called for every answered request, with the time it took in ms. */
  observe?: (method: string, ok: boolean, ms: number) => void;
  /** Called once per request when its first response goes out (the ack of a turn), with ms since it arrived. */
  acked?: (method: string, ms: number) => void;
  /** A handler failed on a database error (better-sqlite3's SqliteError). */
  databaseError?: (err: unknown) => void;
}

export class Router {
  constructor(
    private readonly handlers: Handlers,
    private readonly logger: Logger,
    private readonly options: RouterOptions,
  ) {}

  /** Handles one inbound frame of an open connection. Never throws. */
  async dispatch(conn: Connection, data: Buffer): Promise<void> {
    const retryAfterMs = conn.requestLimiter?.take() ?? 0;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      return this.#fail(conn, 'invalid', new GatewayError('INVALID_REQUEST_FRAME', { params: { detail: 'not valid JSON' } }));
    }
    if (retryAfterMs > 0) {
      return this.#fail(conn, idOf(parsed), new GatewayError('RATE_LIMITED', { details: { limit: 'requests', retryAfterMs }, retryAfterMs }), 'rate_limited');
    }
    if (!validateRequestFrame(parsed)) {
      const detail = formatValidationErrors(validateRequestFrame.errors);
      return this.#fail(conn, idOf(parsed), new GatewayError('INVALID_REQUEST_FRAME', { params: { detail } }));
    }
    const { id, method } = parsed;
    if (method === 'connect') return this.#fail(conn, id, new GatewayError('CONNECT_REPEATED'));
    if (!isMethodName(method) || !methodEnabled(method, this.options.offered)) {
      return this.#fail(conn, id, new GatewayError('UNKNOWN_METHOD', { params: { method } }));
    }
    const params = parsed.params ?? {};
    const scope = requiredScope(method, params);
    if (!scopeSatisfied(scope, conn.grant?.scopes ?? [])) {
      return this.#fail(conn, id, new GatewayError('MISSING_SCOPE', { params: { scope }, details: { missingScope: scope, requiredScopes: [scope] } }), method);
    }
    const validate = paramValidator(method);
    if (!validate(params)) {
      const detail = formatValidationErrors(validate.errors);
      return this.#fail(conn, id, new GatewayError('INVALID_PARAMS', { params: { method, detail } }), method);
    }
    const limiter = conn.requestLimiter;
    if (limiter?.begin() === false) {
      // No estimate is possible (a waiting agent.wait holds its place up to its timeout): a hint, not a promise.
      const wait = PENDING_RETRY_AFTER_MS;
      return this.#fail(conn, id, new GatewayError('RATE_LIMITED', { details: { limit: 'pending', retryAfterMs: wait }, retryAfterMs: wait }), 'rate_limited');
    }
    try {
      await this.#invoke(conn, id, method, params);
    } finally {
      limiter?.end();
    }
  }

  async #invoke(conn: Connection, id: string, method: MethodName, params: unknown): Promise<void> {
    const started = performance.now();
    let acked = false;
    const ack = (): void => {
      if (acked) return;
      acked = true;
      this.options.acked?.(method, performance.now() - started);
    };
    let logger: Logger | undefined;
    const ctx: RequestContext = {
      conn,
      requestId: id,
      method,
      // A child logger per request costs on every request; made only when a handler logs.
      get logger(): Logger {
        return (logger ??= conn.logger.child({ reqId: id, method }));
      },
      signal: conn.signal,
      respond: (payload) => {
        conn.sendResponse(id, true, payload);
        ack();
      },
    };
    const handler = this.handlers[method] as Handler<MethodName>;
    try {
      const result = await handler(params as never, ctx);
      if (this.options.validateResults) this.#checkResult(method, result, ctx.logger);
      conn.sendResponse(id, true, result);
      ack();
      this.options.observe?.(method, true, performance.now() - started);
    } catch (err) {
      if (!isGatewayError(err)) ctx.logger.error({ err }, 'handler failed');
      if (isSqliteError(err)) this.options.databaseError?.(err);
      const error = isGatewayError(err) ? err : new GatewayError('INTERNAL', { cause: err });
      if (error.kind !== 'INTERNAL' && this.logger.isLevelEnabled('debug')) ctx.logger.debug({ code: error.code, kind: error.kind }, 'request failed');
      conn.sendResponse(id, false, error.payload, error.toWire());
      ack();
      this.options.observe?.(method, false, performance.now() - started);
    }
  }

  /** Answers a request refused before its handler; `label` stands in for the method in metrics. */
  #fail(conn: Connection, id: string, error: GatewayError, label = 'invalid'): void {
    if (this.logger.isLevelEnabled('debug')) conn.logger.debug({ reqId: id, kind: error.kind }, 'request rejected');
    conn.sendResponse(id, false, undefined, error.toWire());
    this.options.observe?.(label, false, 0);
  }

  #checkResult(method: MethodName, result: unknown, logger: Logger): void {
    const validate = resultValidator(method);
    if (!validate(result)) {
      logger.error({ errors: validate.errors, result }, `result of ${method} does not match its schema`);
      throw new Error(`result of ${method} does not match its schema: ${formatValidationErrors(validate.errors)}`);
    }
  }
}

/** The `id` of a frame to answer: its own when it has a string one, else "invalid" (protocol-openclaw.md §5). */
function idOf(parsed: unknown): string {
  const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : 'invalid';
}

function requiredScope(method: MethodName, params: unknown): MethodScope {
  const scope = METHODS[method].scope;
  return typeof scope === 'function' ? scope(params) : scope;
}
