/**
 * What a client is told when its handshake succeeds: the `hello-ok` payload (features, snapshot, auth, policy)
 * and, right after it, the extension grant (`session.ack`), presence and the memory snapshot.
 */
import { EXTENSION_CAPS, ExtensionCap } from '../protocol/capabilities.js';
import { EVENTS } from '../protocol/events.js';
import type { HelloOk } from '../protocol/methods/connect.js';
import type { EventDef } from '../protocol/schema.js';
import { mainSessionKey, DEFAULT_AGENT_ID, MAIN_KEY } from '../protocol/session-key.js';
import type { Connection, Grant } from './connection.js';
import { enabledMethods } from './extensions.js';
import { grantedExtensions } from './handshake.js';
import type { GatewayServices } from './services.js';
import { healthSnapshot } from './snapshots.js';

/** Event names brainstem may send, for hello-ok's `features.events`: core events and the offered extensions'. */
function enabledEvents(offered: readonly ExtensionCap[]): string[] {
  return (Object.entries(EVENTS) as [string, EventDef][])
    .filter(([name, def]) => name !== 'connect.challenge' && (def.extension === undefined || offered.includes(def.extension)))
    .map(([name]) => name);
}

/**
 * The hello-ok payload as JSON. Its snapshot's presence list, the bulk of it, is written in as the JSON that
 * presence.ts keeps for every hello until the list changes.
 */
export function helloOkJson(services: GatewayServices, conn: Connection, grant: Grant): string {
  const { snapshot, ...head } = helloOk(services, conn, grant);
  return `${JSON.stringify(head).slice(0, -1)},"snapshot":{"presence":${services.presence.snapshotJson()},${JSON.stringify(snapshot).slice(1)}}`;
}

/** hello-ok without its snapshot's presence list. */
function helloOk(services: GatewayServices, conn: Connection, grant: Grant): Omit<HelloOk, 'snapshot'> & { snapshot: Omit<HelloOk['snapshot'], 'presence'> } {
  const { config } = services;
  return {
    type: 'hello-ok' as const,
    protocol: grant.protocol,
    server: { version: services.version, connId: conn.connId, bootId: services.bootId },
    features: { methods: enabledMethods(services.extensions), events: enabledEvents(services.extensions), capabilities: [...services.extensions] },
    snapshot: {
      health: healthSnapshot(services),
      stateVersion: services.presence.stateVersion,
      uptimeMs: services.now() - services.startedAt,
      sessionDefaults: { defaultAgentId: DEFAULT_AGENT_ID, mainKey: MAIN_KEY, mainSessionKey: mainSessionKey(), scope: 'per-sender' },
      authMode: config.authMode,
    },
    auth: { role: grant.role, scopes: [...grant.scopes], method: grant.authMethod },
    policy: {
      maxPayload: config.maxPayloadBytes,
      maxBufferedBytes: config.maxBufferedBytes,
      tickIntervalMs: config.tickIntervalMs,
      attachments: { maxBytes: config.attachmentMaxBytes, maxImageBytes: config.attachmentMaxBytes },
    },
  };
}

/** After hello-ok: the extension grant, the connection joins the broadcast, presence changes. */
export function opened(services: GatewayServices, conn: Connection): void {
  const grant = conn.grant;
  if (grant === undefined) return;
  // A client that asked for a known extension learns what it got; a plain gateway (none offered) stays plain.
  const askedKnown = [...grant.caps].some((cap) => (EXTENSION_CAPS as readonly string[]).includes(cap));
  if (askedKnown && services.extensions.length > 0) {
    const capabilities = grantedExtensions([...grant.caps], services.extensions);
    services.broadcaster.sendTo(conn, 'session.ack', { capabilities, server: { name: 'brainstem', version: services.version } });
  }
  services.broadcaster.opened(conn);
  if (grant.extensions.has(ExtensionCap.MEMORY_V1)) services.memory.opened(services.broadcaster, conn);
  conn.logger.info({ client: grant.client.id, mode: grant.client.mode, protocol: grant.protocol, scopes: grant.scopes }, 'client connected');
  services.presence.joined();
}
