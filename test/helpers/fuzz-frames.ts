/**
 * fast-check arbitraries for hostile frames: JSON built and serialized by hand (so `__proto__` and duplicate
 * keys reach the wire as written), wrong types, edge-case unicode (NUL, lone surrogates, BOM, bidi, line
 * separators), huge strings, deep nesting, mutated valid requests, text that is not JSON, random bytes, and
 * the ways to put a message on the wire (text or binary, fragmented, pings between fragments, TCP chunks).
 */
import fc from 'fast-check';
import { METHODS, METHOD_NAMES } from '../../protocol/registry.js';
import { PNG_1PX } from './images.js';
import { encodeFrame } from './ws-wire.js';
/** A JSON value whose objects keep their entries as written (duplicates and `__proto__` included). */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export class JsonObject {
  constructor(readonly entries: [string, Json][]) {}
  get(key: string): Json | undefined {
    return this.entries.findLast(([k]) => k === key)?.[1];
  }
  with(key: string, value: Json): JsonObject {
    return new JsonObject([...this.entries.filter(([k]) => k !== key), [key, value]]);
  }
  without(key: string): JsonObject {
    return new JsonObject(this.entries.filter(([k]) => k !== key));
  }
}

/** JSON text of a Json value; non-finite numbers are written as JSON cannot (`NaN`), on purpose. */
export function toJsonText(value: Json): string {
  if (value instanceof JsonObject) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value);
}

const EDGE_CHARS = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ufffd', '\uffff', '\ufeff', '\u2028', '\u2029', '\u202e', '\u200d', '\u0301', '😀', '𝕏', '"', '\\', '\n', '\t', '{', '}', '[', '\u007f', '%s', '${x}'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];
const FRAME_KEYS = ['type', 'id', 'method', 'params', 'event', 'payload', 'ok'];

/** Short strings mixing plain text with edge-case characters. */
export const edgeString: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 6 }) }, { weight: 2, arbitrary: fc.constantFrom(...EDGE_CHARS) }), { maxLength: 12 })
  .map((parts) => parts.join(''));

/** Strings of 10 KB to 1 MB, of one repeated character (cheap to build, still a huge value to parse). */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 10_000, max: 1_000_000 }), fc.constantFrom('x', '\u0000', 'é', '😀', '\ud800', '"'))
  .map(([size, char]) => char.repeat(Math.ceil(size / char.length)));

/**
 * Text shaped to make a parser backtrack (ReDoS): what a pattern looks for at a line's start (a list marker, a
 * heading, a field label, a command, a comment or fence opener), then 10 KB to 100 KB of one repeated piece (a
 * kind of whitespace, an opener, a marker), then a character that makes the match fail at the very end.
 */
export const hostileText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('- x', '1. x', '* then x', '## x', 'Name:', '**Name', '/new', '<!--', '```a\n', 'agent:a:', ''),
    fc.constantFrom(' ', '\t', '\u00a0', '\n', ' \n', '\r\n', '\u2028', '<!--', '- ', '1. ', '#', '**', 'a.'),
    fc.integer({ min: 10_000, max: 100_000 }),
    fc.constantFrom('y', '\u0000', '\r', '\u2028', ':', '-->', '```', ''),
  )
  .map(([head, piece, size, tail]) => `${head}${piece.repeat(Math.ceil(size / piece.length))}${tail}`);

const key: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...PROTO_KEYS, ...FRAME_KEYS), edgeString);

const number: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, 2 ** 53 + 1, -(2 ** 63), 1e308, 5e-324, Number.NaN, Number.POSITIVE_INFINITY),
);

const leaf: fc.Arbitrary<Json> = fc.oneof(fc.constant(null), fc.boolean(), number, edgeString);

/** Any JSON value, small, with edge-case keys and leaves. */
export const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json; array: Json[]; object: JsonObject }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((entries) => new JsonObject(entries)),
})).value;

/** Valid params for some methods, so fuzzed requests also reach handlers, not only validation. */
export const VALID_PARAMS: Record<string, () => JsonObject> = {
  health: () => new JsonObject([]),
  status: () => new JsonObject([]),
  'sessions.list': () => new JsonObject([['limit', 5]]),
  'chat.history': () => new JsonObject([['sessionKey', 'main']]),
  'chat.send': () => new JsonObject([['sessionKey', 'fuzz'], ['message', 'hello'], ['idempotencyKey', 'k']]),
  agent: () => new JsonObject([['message', 'hello'], ['idempotencyKey', 'a']]),
  'agent.wait': () => new JsonObject([['runId', 'k'], ['timeoutMs', 20]]),
  'chat.abort': () => new JsonObject([['sessionKey', 'fuzz']]),
  'sessions.patch': () => new JsonObject([['key', 'fuzz'], ['label', 'x']]),
  'sessions.reset': () => new JsonObject([['key', 'fuzz']]),
  'sessions.delete': () => new JsonObject([['key', 'fuzz']]),
  'sessions.messages.subscribe': () => new JsonObject([['key', 'fuzz']]),
  'sessions.describe': () => new JsonObject([['key', 'fuzz']]),
  'chat.inject': () => new JsonObject([['sessionKey', 'fuzz'], ['message', 'injected']]),
  'memory.query': () => new JsonObject([['limit', 5]]),
  'memory.recall': () => new JsonObject([['topic', 'hello']]),
  'memory.forget': () => new JsonObject([['sessionKey', 'fuzz']]),
  'agent.status': () => new JsonObject([['sessionKey', 'fuzz']]),
  'agent.control': () => new JsonObject([['action', 'pause'], ['sessionKey', 'fuzz']]),
};

/** Attachments as clients send them and as they should not: images, data URLs, cut or broken base64, odd and huge values. */
const attachment: fc.Arbitrary<Json> = fc.oneof(
  fc
    .constantFrom(PNG_1PX, `data:image/png;base64,${PNG_1PX}`, 'R0lGODlhAQABAAAAACw=', PNG_1PX.slice(0, 40), `${PNG_1PX.slice(0, 20)}\u0000${PNG_1PX.slice(21)}`)
    .map((content) => new JsonObject([['type', 'image'], ['mimeType', 'image/png'], ['content', content]])),
  fc.tuple(edgeString, json).map(([content, mimeType]) => new JsonObject([['content', content], ['mimeType', mimeType]])),
  hugeString.map((content) => new JsonObject([['content', content]])),
  json,
);

const method: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...METHOD_NAMES, 'connect') }, { weight: 1, arbitrary: edgeString });

const mutation: fc.Arbitrary<(o: JsonObject) => JsonObject> = fc.oneof(
  fc.tuple(key, json).map(([k, v]) => (o: JsonObject) => o.with(k, v)),
  fc.constantFrom(...FRAME_KEYS, 'sessionKey', 'message', 'idempotencyKey', 'key').map((k) => (o: JsonObject) => o.without(k)),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), json).map(([k, v]) => (o: JsonObject) => new JsonObject([...o.entries, [k, v]])),
  fc.tuple(fc.constantFrom('message', 'sessionKey', 'key', 'idempotencyKey'), hugeString).map(([k, v]) => (o: JsonObject) => o.with(k, v)),
  fc.tuple(fc.constantFrom('message', 'label', 'topic', 'text'), hostileText).map(([k, v]) => (o: JsonObject) => o.with(k, v)),
  fc.array(attachment, { maxLength: 3 }).map((list) => (o: JsonObject) => o.with('attachments', list)),
);

/** Property names of a method's params, from its schema (every branch of a union), for edge values the schema may accept. */
export function paramKeys(name: string): string[] {
  const keys = new Set<string>();
  const visit = (schema: unknown): void => {
    if (typeof schema !== 'object' || schema === null) return;
    const node = schema as { properties?: object; anyOf?: unknown[]; allOf?: unknown[]; oneOf?: unknown[] };
    for (const k of Object.keys(node.properties ?? {})) keys.add(k);
    for (const branch of [...(node.anyOf ?? []), ...(node.allOf ?? []), ...(node.oneOf ?? [])]) visit(branch);
  };
  visit((METHODS as Record<string, { params?: unknown } | undefined>)[name]?.params);
  return [...keys];
}

/** Values at the edges of what a schema's integers, strings and lists allow, and past them. */
const edgeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(0, 1, -1, 0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 48, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1e21, ''),
  fc.constant<Json>([]),
  edgeString,
  json,
);

/** Stands for the request id in generated text; `withIds` gives each message of a batch its own. */
export const ID_PLACEHOLDER = '@@id@@';

/** A request-shaped object: valid for its method or random params, then a few mutations of the frame or its params, and edge values of its parameters. */
export const requestObject: fc.Arbitrary<JsonObject> = fc
  .tuple(method, fc.boolean(), json, fc.array(mutation, { maxLength: 3 }), fc.array(mutation, { maxLength: 2 }), fc.array(fc.tuple(fc.nat(), edgeValue), { maxLength: 3 }))
  .map(([name, valid, randomParams, paramMutations, frameMutations, edges]) => {
    const make = VALID_PARAMS[name];
    let params: Json = valid && make !== undefined ? make() : randomParams;
    if (params instanceof JsonObject) params = paramMutations.reduce((p, m) => m(p), params);
    // Edge values under the method's own parameter names, so they reach its handler when the schema allows them.
    const keys = paramKeys(name);
    if (params instanceof JsonObject && keys.length > 0) params = edges.reduce((p, [n, value]) => p.with(keys[n % keys.length] as string, value), params);
    let frame = new JsonObject([['type', 'req'], ['id', ID_PLACEHOLDER], ['method', name], ['params', params]]);
    frame = frameMutations.reduce((f, m) => m(f), frame);
    return tame(frame);
  });

/** `agent.wait` waits as long as it is told; keep fuzzed waits short so every request is answered quickly. */
function tame(frame: JsonObject): JsonObject {
  const params = frame.get('params');
  if (frame.get('method') !== 'agent.wait' || !(params instanceof JsonObject)) return frame;
  return frame.with('params', params.with('timeoutMs', 20));
}

/** Text that is not quite JSON: truncated, with trailing garbage, deeply nested, or just characters. */
export const brokenText: fc.Arbitrary<string> = fc.oneof(
  edgeString,
  fc.tuple(requestObject, fc.nat()).map(([o, cut]) => {
    const text = toJsonText(o);
    return text.slice(0, cut % Math.max(1, text.length));
  }),
  fc.tuple(requestObject, edgeString).map(([o, tail]) => `${toJsonText(o)}${tail}`),
  fc.tuple(fc.integer({ min: 100, max: 30_000 }), fc.constantFrom('[', '{"a":', '{"params":')).map(([depth, open]) => {
    const close = open === '[' ? ']' : '}';
    return `${open.repeat(depth)}1${close.repeat(depth)}`;
  }),
);

/** A message payload and how to send it. */
export interface WireMessage {
  payload: Buffer;
  binary: boolean;
  /** Offsets at which the message is split into fragments. */
  fragmentCuts: number[];
  pingBetween: boolean;
  /** Offsets at which the encoded bytes are split into separate TCP writes. */
  tcpCuts: number[];
}

const payloadText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: requestObject.map(toJsonText) },
  { weight: 2, arbitrary: json.map(toJsonText) },
  { weight: 2, arbitrary: brokenText },
);

const payload: fc.Arbitrary<{ payload: Buffer; binary: boolean }> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(payloadText, fc.nat(3)).map(([text, one]) => ({ payload: Buffer.from(text, 'utf8'), binary: one === 0 })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ payload: Buffer.from(bytes), binary: true })) },
);

/** A well-formed WebSocket message (any content), sent in fragments and TCP chunks cut at odd places. */
export const wireMessage: fc.Arbitrary<WireMessage> = fc
  .tuple(payload, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }))
  .map(([{ payload: bytes, binary }, fragments, pingBetween, tcp]) => ({
    payload: bytes,
    binary,
    fragmentCuts: fragments.map((n) => n % Math.max(1, bytes.length)),
    pingBetween,
    tcpCuts: tcp.map((n) => n % Math.max(1, bytes.length + 16)),
    // How fast-check prints a counterexample: the text, not a byte list.
    [fc.toStringMethod](this: WireMessage) {
      const text = this.payload.toString('utf8');
      const shown = text.length > 300 ? `${text.slice(0, 300)}... (${this.payload.length} bytes)` : text;
      return `WireMessage(${JSON.stringify(shown)}, ${JSON.stringify({ binary, fragmentCuts: this.fragmentCuts, pingBetween, tcpCuts: this.tcpCuts })})`;
    },
  }));

/** Bytes that break the WebSocket framing itself (the ws layer answers these with a close). */
export const brokenFraming: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.integer({ min: 3, max: 7 }), fc.uint8Array({ maxLength: 20 })).map(([op, b]) => frameBytes(op, Buffer.from(b))),
  fc.tuple(fc.integer({ min: 11, max: 15 }), fc.uint8Array({ maxLength: 20 })).map(([op, b]) => frameBytes(op, Buffer.from(b))),
  fc.tuple(fc.integer({ min: 1, max: 7 }), edgeString).map(([rsv, s]) => frameBytes(1, Buffer.from(s), { rsv })),
  edgeString.map((s) => frameBytes(1, Buffer.from(s), { mask: false })),
  fc.uint8Array({ minLength: 126, maxLength: 200 }).map((b) => frameBytes(9, Buffer.from(b))),
  edgeString.map((s) => frameBytes(9, Buffer.from(s), { fin: false })),
  edgeString.map((s) => frameBytes(0, Buffer.from(s))),
  fc.constantFrom(Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff]), Buffer.from('{"a":"\xff"}', 'latin1')).map((b) => frameBytes(1, b)),
  // Close frames with a code a client may not send (valid ones are echoed back, which is not an error).
  fc.oneof(fc.integer({ min: 0, max: 999 }), fc.constantFrom(1004, 1005, 1006), fc.integer({ min: 1015, max: 2999 }), fc.integer({ min: 5000, max: 0xffff }))
    .map((code) => frameBytes(8, Buffer.from([code >> 8, code & 0xff, 0x41]))),
);

function frameBytes(opcode: number, payload: Buffer, options: { rsv?: number; mask?: boolean; fin?: boolean } = {}): Buffer {
  return encodeFrame({ opcode, payload, ...options });
}

/** The id a gateway answers a frame with after hello-ok: its own string `id`, else "invalid". */
export function expectedResponseId(payload: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'invalid';
  }
  const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : 'invalid';
}

/** Replaces the id placeholder of a message's text with `id` (a message without one is left as it is). */
export function withId(message: WireMessage, id: string): WireMessage {
  const text = message.payload.toString('utf8');
  const placeholder = JSON.stringify(ID_PLACEHOLDER);
  if (!text.includes(placeholder)) return message;
  return { ...message, payload: Buffer.from(text.split(placeholder).join(JSON.stringify(id)), 'utf8') };
}
