/**
 * The one error catalog. Every error brainstem puts on the wire is an entry here: its OpenClaw error code,
 * its message template, the `details.code` it carries, whether it is retryable and, for handshake failures,
 * the WebSocket close code that follows the response. Code branches on the entry name or `code`, never on
 * message text. The README's error table is checked against this file by a test, both ways.
 */

/** OpenClaw `ErrorCodes` (protocol-openclaw.md §5). */
export const WireErrorCode = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  FORBIDDEN: 'FORBIDDEN',
  UNAVAILABLE: 'UNAVAILABLE',
  NOT_PAIRED: 'NOT_PAIRED',
  APPROVAL_NOT_FOUND: 'APPROVAL_NOT_FOUND',
} as const;
export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

export interface ErrorSpec {
  readonly code: WireErrorCode;
  /** Message template; `{name}` placeholders are filled from the error's params. */
  readonly message: string;
  /** Value of `details.code`, when the error carries one. */
  readonly detailCode?: string;
  readonly retryable: boolean;
  /** WebSocket close code sent right after the response (handshake errors). */
  readonly closeCode?: number;
  /** HTTP status when the error answers an HTTP request (the JSON body is `{error: <wire error>}`). */
  readonly httpStatus?: number;
}

const TOKEN_HINT = 'provide gateway auth token';
const PASSWORD_HINT = 'provide gateway auth password';

export const ERRORS = {
  // --- handshake (the response is followed by a close) ---
  HANDSHAKE_NOT_CONNECT: {
    code: 'INVALID_REQUEST',
    message: 'invalid handshake: first request must be connect',
    retryable: false,
    closeCode: 1008,
  },
  INVALID_CONNECT_PARAMS: {
    code: 'INVALID_REQUEST',
    message: 'invalid connect params: {detail}',
    retryable: false,
    closeCode: 1008,
  },
  PROTOCOL_MISMATCH: {
    code: 'INVALID_REQUEST',
    message: 'protocol mismatch',
    detailCode: 'PROTOCOL_MISMATCH',
    retryable: false,
    closeCode: 1002,
  },
  INVALID_ROLE: { code: 'INVALID_REQUEST', message: 'invalid role', retryable: false, closeCode: 1008 },
  AUTH_TOKEN_MISSING: {
    code: 'INVALID_REQUEST',
    message: `unauthorized: gateway token missing (${TOKEN_HINT})`,
    detailCode: 'AUTH_TOKEN_MISSING',
    retryable: false,
    closeCode: 1008,
  },
  AUTH_TOKEN_MISMATCH: {
    code: 'INVALID_REQUEST',
    message: `unauthorized: gateway token mismatch (${TOKEN_HINT})`,
    detailCode: 'AUTH_TOKEN_MISMATCH',
    retryable: false,
    closeCode: 1008,
  },
  AUTH_PASSWORD_MISMATCH: {
    code: 'INVALID_REQUEST',
    message: `unauthorized: gateway password mismatch (${PASSWORD_HINT})`,
    detailCode: 'AUTH_PASSWORD_MISMATCH',
    retryable: false,
    closeCode: 1008,
  },
  AUTH_RATE_LIMITED: {
    code: 'INVALID_REQUEST',
    message: 'unauthorized: too many failed authentication attempts (retry later)',
    detailCode: 'AUTH_RATE_LIMITED',
    retryable: true,
    closeCode: 1008,
  },
  DEVICE_AUTH_DEVICE_ID_MISMATCH: {
    code: 'INVALID_REQUEST',
    message: 'device identity mismatch',
    detailCode: 'DEVICE_AUTH_DEVICE_ID_MISMATCH',
    retryable: false,
    closeCode: 1008,
  },
  DEVICE_AUTH_SIGNATURE_EXPIRED: {
    code: 'INVALID_REQUEST',
    message: 'device signature expired',
    detailCode: 'DEVICE_AUTH_SIGNATURE_EXPIRED',
    retryable: false,
    closeCode: 1008,
  },
  DEVICE_AUTH_NONCE_REQUIRED: {
    code: 'INVALID_REQUEST',
    message: 'device nonce required',
    detailCode: 'DEVICE_AUTH_NONCE_REQUIRED',
    retryable: false,
    closeCode: 1008,
  },
  DEVICE_AUTH_NONCE_MISMATCH: {
    code: 'INVALID_REQUEST',
    message: 'device nonce mismatch',
    detailCode: 'DEVICE_AUTH_NONCE_MISMATCH',
    retryable: false,
    closeCode: 1008,
  },
  DEVICE_AUTH_SIGNATURE_INVALID: {
    code: 'INVALID_REQUEST',
    message: 'device signature invalid',
    detailCode: 'DEVICE_AUTH_SIGNATURE_INVALID',
    retryable: false,
    closeCode: 1008,
  },
  DEVICE_AUTH_PUBLIC_KEY_INVALID: {
    code: 'INVALID_REQUEST',
    message: 'device public key invalid',
    detailCode: 'DEVICE_AUTH_PUBLIC_KEY_INVALID',
    retryable: false,
    closeCode: 1008,
  },
  GATEWAY_STARTING: {
    code: 'UNAVAILABLE',
    message: 'gateway starting; retry shortly',
    retryable: true,
    closeCode: 1013,
  },

  // --- requests after hello-ok ---
  CONNECT_REPEATED: {
    code: 'INVALID_REQUEST',
    message: 'connect is only valid as the first request',
    retryable: false,
  },
  INVALID_REQUEST_FRAME: {
    code: 'INVALID_REQUEST',
    message: 'invalid request frame: {detail}',
    retryable: false,
  },
  UNKNOWN_METHOD: { code: 'INVALID_REQUEST', message: 'unknown method: {method}', retryable: false },
  INVALID_PARAMS: { code: 'INVALID_REQUEST', message: 'invalid {method} params: {detail}', retryable: false },
  INVALID_ATTACHMENT: { code: 'INVALID_REQUEST', message: 'attachment {label}: {detail}', retryable: false },
  UNAUTHORIZED_ROLE: { code: 'INVALID_REQUEST', message: 'unauthorized role: {role}', retryable: false },
  MISSING_SCOPE: {
    code: 'FORBIDDEN',
    message: 'missing scope: {scope}',
    detailCode: 'MISSING_SCOPE',
    retryable: false,
  },
  CHAT_REQUEST_CONFLICT: {
    code: 'INVALID_REQUEST',
    message:
      'This message ID was already used for different input. Check the conversation history and use a new message ID to send again.',
    retryable: false,
  },
  UNKNOWN_AGENT_ID: {
    code: 'INVALID_REQUEST',
    message: 'unknown agent id "{agentId}"',
    detailCode: 'UNKNOWN_AGENT_ID',
    retryable: false,
  },
  SESSION_NOT_FOUND: {
    code: 'INVALID_REQUEST',
    message: 'session not found: {key}',
    detailCode: 'SESSION_NOT_FOUND',
    retryable: false,
  },
  SESSION_ID_MISMATCH: {
    code: 'INVALID_REQUEST',
    message: 'session id changed: expected {expected}, found {actual}',
    detailCode: 'SESSION_ID_MISMATCH',
    retryable: false,
  },
  UNKNOWN_RUN: { code: 'INVALID_REQUEST', message: 'unknown run: {runId}', detailCode: 'UNKNOWN_RUN', retryable: false },
  UNKNOWN_TASK: {
    code: 'INVALID_REQUEST',
    message: 'unknown task: {taskId}',
    detailCode: 'UNKNOWN_TASK',
    retryable: false,
  },
  SUBSCRIPTION_LIMIT: {
    code: 'INVALID_REQUEST',
    message: 'too many session subscriptions on this connection (limit {limit}); unsubscribe from one first',
    detailCode: 'SUBSCRIPTION_LIMIT',
    retryable: false,
  },
  QUEUE_FULL: {
    code: 'UNAVAILABLE',
    message: '{queue} queue is full; retry shortly',
    detailCode: 'QUEUE_FULL',
    retryable: true,
  },
  RATE_LIMITED: {
    code: 'UNAVAILABLE',
    message: 'rate limit exceeded; retry shortly',
    detailCode: 'RATE_LIMITED',
    retryable: true,
    httpStatus: 429,
  },
  MEMORY_UNAVAILABLE: {
    code: 'UNAVAILABLE',
    message: 'memory store unavailable: {reason}',
    detailCode: 'MEMORY_UNAVAILABLE',
    retryable: true,
  },
  RUN_FAILED: { code: 'UNAVAILABLE', message: '{reason}', detailCode: 'RUN_FAILED', retryable: false },
  SHUTTING_DOWN: {
    code: 'UNAVAILABLE',
    message: 'gateway shutting down',
    detailCode: 'SHUTTING_DOWN',
    retryable: true,
  },
  INTERNAL: { code: 'UNAVAILABLE', message: 'internal error', detailCode: 'INTERNAL', retryable: true },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERRORS;

/**
 * Close codes and reasons sent without a preceding response (protocol-openclaw.md §5).
 * `closeCode` values of ERRORS entries are the other half of the close table.
 */
export const CLOSES = {
  NORMAL: { code: 1000, reason: 'normal closure' },
  HANDSHAKE_TIMEOUT: { code: 1000, reason: 'handshake timeout' },
  INVALID_FRAME_PREAUTH: { code: 1008, reason: 'invalid request frame' },
  UNPARSABLE_PREAUTH: { code: 1008, reason: 'invalid handshake' },
  PREAUTH_TOO_LARGE: { code: 1009, reason: 'preauth payload too large' },
  SLOW_CONSUMER: { code: 1008, reason: 'slow consumer' },
  PONG_TIMEOUT: { code: 1001, reason: 'ping timeout' },
  SERVICE_RESTART: { code: 1012, reason: 'service restart' },
  TOO_MANY_CONNECTIONS: { code: 1013, reason: 'too many connections' },
  CONNECT_RATE_LIMITED: { code: 1013, reason: 'too many connection attempts' },
  // Sent by the WebSocket layer (ws) on a frame it cannot accept, with an empty reason: broken framing (bad
  // opcode, RSV bits, unmasked, oversized control frame), text that is not UTF-8, a message over maxPayloadBytes.
  WS_PROTOCOL_ERROR: { code: 1002, reason: '' },
  WS_INVALID_PAYLOAD: { code: 1007, reason: '' },
  WS_MESSAGE_TOO_BIG: { code: 1009, reason: '' },
} as const;
export type CloseName = keyof typeof CLOSES;

/** The `error` object of a `res` frame (protocol-openclaw.md §1). */
export interface WireError {
  code: WireErrorCode;
  message: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
}

export interface GatewayErrorOptions {
  /** Values for the `{placeholders}` of the message template. */
  params?: Record<string, string | number>;
  /** Extra `details` fields; `details.code` comes from the catalog. */
  details?: Record<string, unknown>;
  retryAfterMs?: number;
  /** A failed `res` may still carry a payload (e.g. the final `agent` response). */
  payload?: unknown;
  cause?: unknown;
}

/** Fills `{name}` placeholders; unknown placeholders are left as they are. */
export function formatMessage(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/** The one error class every handler throws. The router turns anything else into `INTERNAL`. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly kind: ErrorName;
  readonly spec: ErrorSpec;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterMs: number | undefined;
  readonly payload: unknown;

  constructor(kind: ErrorName, options: GatewayErrorOptions = {}) {
    const spec: ErrorSpec = ERRORS[kind];
    super(formatMessage(spec.message, options.params), options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.spec = spec;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
    this.payload = options.payload;
  }

  get code(): WireErrorCode {
    return this.spec.code;
  }

  toWire(): WireError {
    const details =
      this.spec.detailCode === undefined && this.details === undefined
        ? undefined
        : { ...(this.spec.detailCode === undefined ? {} : { code: this.spec.detailCode }), ...this.details };
    return {
      code: this.spec.code,
      message: this.message,
      ...(details === undefined ? {} : { details }),
      ...(this.spec.retryable ? { retryable: true } : {}),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
