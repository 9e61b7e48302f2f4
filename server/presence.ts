/**
 * Who is connected (`system-presence`, `presence` events, hello-ok snapshot) and the state versions clients
 * use to tell fresh presence/health snapshots from stale ones. With many clients, presence must not cost
 * O(clients²): changes are coalesced (`presenceDebounceMs`) into one event, and snapshots and events list at
 * most `presenceMaxEntries` clients (the gateway itself first); `system-presence` lists everyone.
 */
import { hostname } from 'node:os';
import type { PresenceEntry } from '../protocol/methods/connect.js';
import type { StateVersion } from '../protocol/frames.js';
import type { Broadcaster } from './broadcaster.js';
import type { Connection } from './connection.js';

export interface PresenceOptions {
  serverVersion: string;
  startedAt: number;
  debounceMs: number;
  maxEntries: number;
}

export class Presence {
  readonly #version: StateVersion = { presence: 0, health: 0 };
  readonly #host = hostname();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly options: PresenceOptions,
  ) {}

  get stateVersion(): StateVersion {
    return { ...this.#version };
  }

  /** The gateway itself, then connected clients, at most `limit` entries in all. */
  entries(limit = Number.POSITIVE_INFINITY): PresenceEntry[] {
    const out: PresenceEntry[] = [{ ts: this.options.startedAt, host: this.#host, version: this.options.serverVersion, mode: 'gateway', reason: 'self' }];
    for (const conn of this.broadcaster.connections()) {
      if (out.length >= limit) break;
      const entry = entryOf(conn, this.#host);
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }

  /** The capped list for snapshots and events. */
  snapshot(): PresenceEntry[] {
    return this.entries(this.options.maxEntries);
  }

  /** A client connected or left: bump the version and, once the debounce window closes, tell everyone. */
  changed(): void {
    this.#version.presence += 1;
    if (this.options.debounceMs === 0) return this.#send();
    this.#timer ??= setTimeout(() => this.#send(), this.options.debounceMs);
  }

  /** A new health snapshot is out. */
  healthChanged(): StateVersion {
    this.#version.health += 1;
    return this.stateVersion;
  }

  /** Cancels a pending presence event; safe to call twice. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #send(): void {
    this.#timer = undefined;
    this.broadcaster.broadcast('presence', { presence: this.snapshot() }, { stateVersion: this.stateVersion });
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
