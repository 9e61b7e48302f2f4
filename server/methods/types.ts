/** The shape of a method handler: typed params in, typed result out, errors as GatewayError. */
import type { Logger } from 'pino';
import type { MethodName, MethodParams, MethodResult } from '../../protocol/registry.js';
import type { Connection } from '../connection.js';

export interface RequestContext {
  readonly conn: Connection;
  readonly requestId: string;
  readonly method: MethodName;
  readonly logger: Logger;
  /** Aborts when the connection closes. */
  readonly signal: AbortSignal;
  /** Sends an interim `res` on the same id before the handler's final result (the `agent` method's ack). */
  respond(payload: unknown): void;
}

export type Handler<N extends MethodName> = (
  params: MethodParams<N>,
  ctx: RequestContext,
) => MethodResult<N> | Promise<MethodResult<N>>;

export type Handlers = { [N in MethodName]: Handler<N> };
export type HandlerGroup<N extends MethodName> = { [K in N]: Handler<K> };
