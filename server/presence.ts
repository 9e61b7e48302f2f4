/**
 * Who is connected (`system-presence`, `presence` events, hello-ok snapshot) and the state versions clients
 * use to tell fresh presence/health snapshots from stale ones.
 */
import { hostname } from 'node:os';
import type { PresenceEntry } from '../protocol/methods/connect.js';
import type { StateVersion } from '../protocol/frames.js';
import type { Broadcaster } from './broadcaster.js';
import type { Connection } from './connection.js';

export class Presence {
  readonly #version: StateVersion = { presence: 0, health: 0 };
  readonly #host = hostname();

  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly serverVersion: string,
    private readonly startedAt: number,
  ) {}

  get stateVersion(): StateVersion {
    return { ...this.#version };
  }

  entries(): PresenceEntry[] {
    const self: PresenceEntry = { ts: this.startedAt, host: this.#host, version: this.serverVersion, mode: 'gateway', reason: 'self' };
    const clients: PresenceEntry[] = [];
    for (const conn of this.broadcaster.connections()) {
      const entry = entryOf(conn, this.#host);
      if (entry !== undefined) clients.push(entry);
    }
    return [self, ...clients];
  }

  /** A client connected or left: bump the version and tell everyone who may see presence. */
  changed(): void {
    this.#version.presence += 1;
    this.broadcaster.broadcast('presence', { presence: this.entries() }, { stateVersion: this.stateVersion });
  }

  /** A new health snapshot is out. */
  healthChanged(): StateVersion {
    this.#version.health += 1;
    return this.stateVersion;
  }
}

function entryOf(conn: Connection, host: string): PresenceEntry | undefined {
  const grant = conn.grant;
  if (grant === undefined || !conn.open) return undefined;
  const client = grant.client;
  return {
    ts: grant.connectedAt,
    host,
    clientId: client.id,
    ...(conn.remoteAddress === undefined ? {} : { ip: conn.remoteAddress }),
    version: client.version,
    platform: client.platform,
    mode: client.mode,
    ...(client.instanceId === undefined ? {} : { instanceId: client.instanceId }),
    ...(grant.deviceId === undefined ? {} : { deviceId: grant.deviceId }),
    roles: [grant.role],
    scopes: [...grant.scopes],
    reason: 'connect',
  };
}
