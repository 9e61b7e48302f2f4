/** The handshake: `connect` params and the `hello-ok` payload (protocol-openclaw.md §2). */
import { Type, type Static } from '@sinclair/typebox';
import { AnyRecord, EpochMs, NonEmptyString } from '../schema.js';
import { StateVersion } from '../frames.js';

export const ConnectClient = Type.Object({
  id: NonEmptyString,
  version: Type.String(),
  platform: Type.String(),
  mode: NonEmptyString,
  displayName: Type.Optional(Type.String()),
  buildId: Type.Optional(Type.String({ maxLength: 96 })),
  deviceFamily: Type.Optional(Type.String()),
  modelIdentifier: Type.Optional(Type.String()),
  timeZone: Type.Optional(Type.String()),
  instanceId: Type.Optional(Type.String()),
});

export const ConnectAuth = Type.Object({
  token: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  deviceToken: Type.Optional(Type.String()),
  bootstrapToken: Type.Optional(Type.String()),
});

export const ConnectDevice = Type.Object({
  id: NonEmptyString,
  publicKey: NonEmptyString,
  signature: NonEmptyString,
  signedAt: Type.Number(),
  nonce: Type.String(),
});
export type ConnectDevice = Static<typeof ConnectDevice>;

export const ConnectParams = Type.Object({
  minProtocol: Type.Integer({ minimum: 1 }),
  maxProtocol: Type.Integer({ minimum: 1 }),
  client: ConnectClient,
  role: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.String())),
  caps: Type.Optional(Type.Array(Type.String())),
  commands: Type.Optional(Type.Array(Type.String())),
  permissions: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
  locale: Type.Optional(Type.String()),
  userAgent: Type.Optional(Type.String()),
  auth: Type.Optional(ConnectAuth),
  device: Type.Optional(ConnectDevice),
});
export type ConnectParams = Static<typeof ConnectParams>;

export const PresenceEntry = Type.Object({
  ts: EpochMs,
  host: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  ip: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
  mode: Type.Optional(Type.String()),
  instanceId: Type.Optional(Type.String()),
  deviceId: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
  scopes: Type.Optional(Type.Array(Type.String())),
  reason: Type.Optional(Type.String()),
  text: Type.Optional(Type.String()),
});
export type PresenceEntry = Static<typeof PresenceEntry>;

export const SessionDefaults = Type.Object({
  defaultAgentId: Type.String(),
  mainKey: Type.String(),
  mainSessionKey: Type.String(),
  scope: Type.Optional(Type.String()),
});
export type SessionDefaults = Static<typeof SessionDefaults>;

export const HealthSnapshot = Type.Object({
  ok: Type.Optional(Type.Boolean()),
  ts: Type.Optional(EpochMs),
  durationMs: Type.Optional(Type.Number()),
  channels: Type.Optional(AnyRecord),
  heartbeatSeconds: Type.Optional(Type.Number()),
  defaultAgentId: Type.Optional(Type.String()),
  agents: Type.Optional(Type.Array(AnyRecord)),
  sessions: Type.Optional(
    Type.Object({ path: Type.String(), count: Type.Integer(), recent: Type.Array(AnyRecord) }),
  ),
});
export type HealthSnapshot = Static<typeof HealthSnapshot>;

export const HelloOk = Type.Object({
  type: Type.Literal('hello-ok'),
  protocol: Type.Integer(),
  server: Type.Object({ version: Type.String(), connId: Type.String(), bootId: Type.Optional(Type.String()) }),
  features: Type.Object({
    methods: Type.Array(Type.String()),
    events: Type.Array(Type.String()),
    capabilities: Type.Optional(Type.Array(Type.String())),
  }),
  snapshot: Type.Object({
    presence: Type.Array(PresenceEntry),
    health: HealthSnapshot,
    stateVersion: StateVersion,
    uptimeMs: Type.Integer({ minimum: 0 }),
    sessionDefaults: Type.Optional(SessionDefaults),
    authMode: Type.Optional(Type.String()),
    stateDir: Type.Optional(Type.String()),
  }),
  auth: Type.Object({
    role: Type.String(),
    scopes: Type.Array(Type.String()),
    method: Type.Optional(Type.String()),
  }),
  policy: Type.Object({
    maxPayload: Type.Integer(),
    maxBufferedBytes: Type.Integer(),
    tickIntervalMs: Type.Integer(),
    /** Largest attachment, decoded, in bytes; brainstem takes images only, so both are the same. */
    attachments: Type.Optional(Type.Object({ maxBytes: Type.Integer(), maxImageBytes: Type.Integer() })),
  }),
});
export type HelloOk = Static<typeof HelloOk>;
