/**
 * The pre-auth half of a connection (protocol-openclaw.md §2): the first frame must be a `connect` request
 * with valid params, a protocol version both sides speak, the operator role, the shared secret and, when
 * present, a valid device signature. Any failure answers (when there is a request id to answer) and closes.
 */
import { utf8PrefixEnd } from '../memory/stretches.js';
import { EXTENSION_CAPS, type ExtensionCap } from '../protocol/capabilities.js';
import { CLOSES, GatewayError } from '../protocol/errors.js';
import type { RequestFrame } from '../protocol/frames.js';
import type { ConnectParams } from '../protocol/methods/connect.js';
import { isRole, satisfiedScopes } from '../protocol/scopes.js';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../protocol/version.js';
import { formatValidationErrors, validateConnectParams, validateRequestFrame } from '../protocol/validators.js';
import { authenticate } from './auth.js';
import type { Connection, Grant } from './connection.js';
import { verifyDevice } from './device-proof.js';

export interface HandshakeContext {
  preauthMaxPayloadBytes: number;
  /** The shared secret; undefined when auth is off. */
  token: string | undefined;
  /** Extension capabilities the gateway offers, in its own order. */
  extensions: readonly ExtensionCap[];
  now: () => number;
  /** The hello-ok payload, serialized. */
  hello: (conn: Connection, grant: Grant) => string;
  /** Called once the hello-ok went out. */
  opened: (conn: Connection) => void;
  /** Ms until this connection's address may try to authenticate again (0: now); checked before the secret. */
  authRetryAfter?: (conn: Connection) => number;
  /** A connect was refused for its credentials or device proof (`secret`: the shared secret was wrong or missing). */
  authFailed?: (conn: Connection, error: GatewayError, secret: boolean) => void;
}

/** WebSocket close reasons are limited to 123 bytes. */
export function closeReason(text: string): string {
  return Buffer.byteLength(text, 'utf8') <= 123 ? text : `${text.slice(0, utf8PrefixEnd(text, 120))}...`;
}

function reject(conn: Connection, id: string, error: GatewayError): void {
  conn.sendResponse(id, false, undefined, error.toWire());
  const code = error.spec.closeCode ?? 1008;
  conn.close(code, closeReason(error.message));
}

export function handleHandshakeFrame(conn: Connection, data: Buffer, ctx: HandshakeContext): void {
  if (data.length > ctx.preauthMaxPayloadBytes) {
    conn.close(CLOSES.PREAUTH_TOO_LARGE.code, CLOSES.PREAUTH_TOO_LARGE.reason);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    conn.close(CLOSES.UNPARSABLE_PREAUTH.code, CLOSES.UNPARSABLE_PREAUTH.reason);
    return;
  }
  if (!validateRequestFrame(parsed)) {
    conn.close(CLOSES.INVALID_FRAME_PREAUTH.code, CLOSES.INVALID_FRAME_PREAUTH.reason);
    return;
  }
  const frame: RequestFrame = parsed;
  if (frame.method !== 'connect') return reject(conn, frame.id, new GatewayError('HANDSHAKE_NOT_CONNECT'));
  if (!validateConnectParams(frame.params)) {
    const detail = formatValidationErrors(validateConnectParams.errors);
    return reject(conn, frame.id, new GatewayError('INVALID_CONNECT_PARAMS', { params: { detail } }));
  }
  const outcome = admit(conn, frame.params, ctx);
  if (outcome instanceof GatewayError) return reject(conn, frame.id, outcome);
  conn.grant = outcome;
  conn.phase = 'open';
  conn.sendResponseJson(frame.id, ctx.hello(conn, outcome));
  ctx.opened(conn);
}

/** The highest protocol version both sides speak, or undefined. */
export function negotiateProtocol(min: number, max: number): number | undefined {
  const best = Math.min(max, PROTOCOL_VERSION);
  return best >= Math.max(min, MIN_PROTOCOL_VERSION) ? best : undefined;
}

function admit(conn: Connection, params: ConnectParams, ctx: HandshakeContext): Grant | GatewayError {
  const protocol = negotiateProtocol(params.minProtocol, params.maxProtocol);
  if (protocol === undefined) {
    return new GatewayError('PROTOCOL_MISMATCH', {
      details: {
        clientMinProtocol: params.minProtocol,
        clientMaxProtocol: params.maxProtocol,
        expectedProtocol: PROTOCOL_VERSION,
        minimumProbeProtocol: MIN_PROTOCOL_VERSION,
      },
    });
  }
  const role = params.role ?? 'operator';
  // brainstem serves operators; the node role (device hosts) is not implemented.
  if (!isRole(role) || role !== 'operator') return new GatewayError('INVALID_ROLE');
  if (ctx.token !== undefined) {
    const retryAfterMs = ctx.authRetryAfter?.(conn) ?? 0;
    if (retryAfterMs > 0) return authRefused(conn, ctx, rateLimited(retryAfterMs), false);
  }
  const auth = authenticate(params.auth, ctx.token);
  if (!auth.ok) return authRefused(conn, ctx, new GatewayError(auth.error, { details: auth.details }), true);
  const device = verifyDevice(params, role, conn.nonce, ctx.now());
  if (!device.ok) return authRefused(conn, ctx, new GatewayError(device.error, { details: { reason: device.reason } }), false);
  const asked = params.caps ?? [];
  const scopes = [...new Set(params.scopes ?? [])];
  return {
    role,
    scopes,
    satisfies: satisfiedScopes(scopes),
    caps: new Set(asked),
    extensions: new Set(grantedExtensions(asked, ctx.extensions)),
    protocol,
    client: params.client,
    deviceId: params.device?.id,
    authMethod: auth.method,
    connectedAt: ctx.now(),
  };
}

function authRefused(conn: Connection, ctx: HandshakeContext, error: GatewayError, secret: boolean): GatewayError {
  ctx.authFailed?.(conn, error, secret);
  return error;
}

/** OpenClaw's AUTH_RATE_LIMITED refusal: retryable, with the wait in `retryAfterMs` (and in details). */
function rateLimited(retryAfterMs: number): GatewayError {
  return new GatewayError('AUTH_RATE_LIMITED', {
    details: { authReason: 'rate_limited', canRetryWithDeviceToken: false, recommendedNextStep: 'wait_then_retry', retryAfterMs },
    retryAfterMs,
  });
}

/** Extension capabilities a client asked for that the gateway grants, in the order asked. */
export function grantedExtensions(asked: readonly string[], offered: readonly ExtensionCap[]): ExtensionCap[] {
  const known = (cap: string): cap is ExtensionCap => (EXTENSION_CAPS as readonly string[]).includes(cap);
  return [...new Set(asked)].filter((cap): cap is ExtensionCap => known(cap) && offered.includes(cap));
}
