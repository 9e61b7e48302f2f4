/** Frame envelopes (protocol-openclaw.md §1): one JSON object per text frame, discriminated by `type`. */
import { Type, type Static } from '@sinclair/typebox';
import { ErrorShape, NonEmptyString } from './schema.js';

export const RequestFrame = Type.Object({
  type: Type.Literal('req'),
  id: NonEmptyString,
  method: NonEmptyString,
  params: Type.Optional(Type.Unknown()),
  traceparent: Type.Optional(Type.String()),
});
export type RequestFrame = Static<typeof RequestFrame>;

export const ResponseFrame = Type.Object({
  type: Type.Literal('res'),
  id: Type.String(),
  ok: Type.Boolean(),
  payload: Type.Optional(Type.Unknown()),
  error: Type.Optional(ErrorShape),
});
export type ResponseFrame = Static<typeof ResponseFrame>;

export const StateVersion = Type.Object({ presence: Type.Integer(), health: Type.Integer() });
export type StateVersion = Static<typeof StateVersion>;

export const EventFrame = Type.Object({
  type: Type.Literal('event'),
  event: NonEmptyString,
  payload: Type.Optional(Type.Unknown()),
  seq: Type.Optional(Type.Integer({ minimum: 1 })),
  stateVersion: Type.Optional(StateVersion),
});
export type EventFrame = Static<typeof EventFrame>;
