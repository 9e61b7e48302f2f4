/**
 * Shared schema building blocks. Objects are open (`additionalProperties` allowed): OpenClaw's own server
 * uses closed objects, a compatible server must be more lenient (protocol-openclaw.md §8).
 */
import { Type, type TSchema, type Static } from '@sinclair/typebox';
import type { ExtensionCap } from './capabilities.js';
import type { MethodScope } from './scopes.js';

export const NonEmptyString = Type.String({ minLength: 1 });
export const SessionKey = Type.String({ minLength: 1, maxLength: 512 });
/** Longest idempotency key, in characters (OpenClaw sets none; clients send UUIDs). */
export const IDEMPOTENCY_KEY_MAX_CHARS = 1_024;
/**
 * An idempotency key, which is also the run's id in every event frame of its run and in every table that keys
 * by it: unbounded, one request could put a megabyte into each of them (a fuzzed 1 MB key did).
 */
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_CHARS });
export const EpochMs = Type.Integer({ minimum: 0 });
export const AnyRecord = Type.Record(Type.String(), Type.Unknown());

/** A content block of a transcript message (protocol-openclaw.md §3, chat.history). */
export const ContentBlock = Type.Union([
  Type.Object({ type: Type.Literal('text'), text: Type.String() }),
  Type.Object({ type: Type.Literal('thinking'), thinking: Type.String() }),
  // A user's image attachment, as OpenClaw's transcripts keep it: base64 `data` and its `mimeType`.
  Type.Object({ type: Type.Literal('image'), data: Type.Optional(Type.String()), mimeType: Type.Optional(Type.String()) }),
  Type.Object({ type: Type.Literal('toolCall'), id: Type.String(), name: Type.String(), arguments: Type.Unknown() }),
]);

export const Usage = Type.Object({
  input: Type.Optional(Type.Integer({ minimum: 0 })),
  output: Type.Optional(Type.Integer({ minimum: 0 })),
  totalTokens: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Usage = Static<typeof Usage>;

/** A transcript message as OpenClaw clients render it. `__openclaw.id` carries the MemoryID. */
export const ChatMessage = Type.Object({
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('toolResult'), Type.Literal('system')]),
  content: Type.Union([Type.String(), Type.Array(ContentBlock)]),
  timestamp: EpochMs,
  model: Type.Optional(Type.String()),
  provider: Type.Optional(Type.String()),
  usage: Type.Optional(Usage),
  stopReason: Type.Optional(Type.String()),
  errorMessage: Type.Optional(Type.String()),
  __openclaw: Type.Optional(
    Type.Object({ id: Type.String(), seq: Type.Optional(Type.Integer()), runId: Type.Optional(Type.String()) }),
  ),
});
export type ChatMessage = Static<typeof ChatMessage>;

/** An assistant message as it streams: the cumulative text so far. */
export const AssistantSnapshot = Type.Object({
  role: Type.Literal('assistant'),
  content: Type.Array(Type.Object({ type: Type.Literal('text'), text: Type.String() })),
  timestamp: EpochMs,
});

export const ErrorShape = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(AnyRecord),
  retryable: Type.Optional(Type.Boolean()),
  retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** What a method needs to be checked and answered. Params decide the scope for a few methods (§6). */
export interface MethodDef<P extends TSchema = TSchema, R extends TSchema = TSchema> {
  readonly params: P;
  readonly result: R;
  readonly scope: MethodScope | ((params: unknown) => MethodScope);
  readonly summary: string;
  /** Extension methods are listed under the capability that introduced them. */
  readonly extension?: ExtensionCap;
}

export function defineMethod<P extends TSchema, R extends TSchema>(def: MethodDef<P, R>): MethodDef<P, R> {
  return def;
}

export interface EventDef<P extends TSchema = TSchema> {
  readonly payload: P;
  /** Scope a connection needs to receive the event (`none`: everyone after hello). */
  readonly scope: MethodScope;
  readonly summary: string;
  /** Extension events go only to connections granted this capability. */
  readonly extension?: ExtensionCap;
}

export function defineEvent<P extends TSchema>(def: EventDef<P>): EventDef<P> {
  return def;
}
