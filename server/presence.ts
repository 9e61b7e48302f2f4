/**
 * Who is connected (`system-presence`, `presence` events, hello-ok snapshot) and the state versions clients
 * use to tell fresh presence/health snapshots from stale ones. With many clients, presence must not cost
 * O(clients²): changes are coalesced (`presenceDebounceMs`) into one event, and snapshots and events list at
 * most `presenceMaxEntries` clients (the gateway itself first); `system-presence` lists everyone.
 *
 * The capped list is the bulk of a hello-ok (200 clients: ~50 KB of JSON, two thirds of a handshake's CPU),
 * so it is serialized once and reused by every hello and event until it changes: when a client on it leaves,
 * or a client joins while it has room. Once it is full, newcomers do not change it, so a reconnect storm
 * serializes it a few times, not once per client.
 *
 * Each `presence` event goes to every read-scoped client, so its cost is the list's size times their number:
 * 2,000 dashboards and ten short-lived CLI connections a second took 44 % of a core and 132 MB/s of sends at a
 * 250 ms debounce. Events are therefore spaced so that together they send at most `presenceMaxBytesPerSec`:
 * after an event of N bytes to R clients the next waits at least N × R / presenceMaxBytesPerSec. Clients see
 * presence later at that scale, never a wrong list (each event is the whole list, with its stateVersion).
 */
import { hostname } from 'node:os';
import type { PresenceEntry } from '../protocol/methods/connect.js';
import type { StateVersion } from '../protocol/frames.js';
import { PayloadJson, type Broadcaster } from './broadcaster.js';
import type { Connection } from './connection.js';

export interface PresenceOptions {
  serverVersion: string;
  startedAt: number;
  debounceMs: number;
  maxEntries: number;
  /** Bytes of `presence` events per second, all recipients together. */
  maxBytesPerSec: number;
}

export class Presence {
  readonly #version: StateVersion = { presence: 0, health: 0 };
  readonly #host = hostname();
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() before which the next event may not go (the last one's bytes at maxBytesPerSec). */
  #nextAt = 0;
  #closed = false;
  /** The capped list as JSON and the connections on it; undefined until asked for after a change to it. */
  #listed: { json: string; conns: ReadonlySet<Connection> } | undefined;

  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly options: PresenceOptions,
  ) {}

  get stateVersion(): StateVersion {
    return { ...this.#version };
  }

  /** The gateway itself, then connected clients, at most `limit` entries in all; `listed` collects the clients. */
  entries(limit = Number.POSITIVE_INFINITY, listed?: Set<Connection>): PresenceEntry[] {
    const out: PresenceEntry[] = [{ ts: this.options.startedAt, host: this.#host, version: this.options.serverVersion, mode: 'gateway', reason: 'self' }];
    for (const conn of this.broadcaster.connections()) {
      if (out.length >= limit) break;
      const entry = entryOf(conn, this.#host);
      if (entry === undefined) continue;
      out.push(entry);
      listed?.add(conn);
    }
    return out;
  }

  /** The capped list for snapshots and events, as JSON (a `PresenceEntry[]`). */
  snapshotJson(): string {
    if (this.#listed === undefined) {
      const conns = new Set<Connection>();
      const entries = this.entries(this.options.maxEntries, conns);
      this.#listed = { json: JSON.stringify(entries), conns };
    }
    return this.#listed.json;
  }

  /** A client finished its handshake. */
  joined(): void {
    // The gateway's own entry takes a place.
    if (this.#listed !== undefined && this.#listed.conns.size + 1 < this.options.maxEntries) this.#listed = undefined;
    this.#changed();
  }

  /** A client that had finished its handshake left. */
  left(conn: Connection): void {
    if (this.#listed?.conns.has(conn) === true) this.#listed = undefined;
    this.#changed();
  }

  /** A new health snapshot is out. */
  healthChanged(): StateVersion {
    this.#version.health += 1;
    return this.stateVersion;
  }

  /** Cancels a pending presence event, and sends none after (clients leaving a closing gateway); safe to call twice. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Bumps the version and, once the debounce window closes and the byte budget allows, tells everyone. */
  #changed(): void {
    this.#version.presence += 1;
    if (this.#timer !== undefined || this.#closed) return;
    const wait = Math.max(this.options.debounceMs, this.#nextAt - performance.now());
    if (wait <= 0) return this.#send();
    this.#timer = setTimeout(() => this.#send(), wait);
  }

  #send(): void {
    this.#timer = undefined;
    const json = `{"presence":${this.snapshotJson()}}`;
    const sent = this.broadcaster.broadcast('presence', new PayloadJson(json), { stateVersion: this.stateVersion });
    this.#nextAt = performance.now() + (1000 * json.length * sent) / this.options.maxBytesPerSec;
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
