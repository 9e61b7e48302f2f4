/**
 * Event fan-out. Each event is serialized once and written to every connection allowed to see it
 * (OpenClaw's broadcast rules, protocol-openclaw.md §4, §6, and protocol-extensions.md):
 * - an event needing a scope goes only to connections holding it (`admin` and `write` imply `read`);
 * - extension events go only to connections granted their capability;
 * - `chat`/`agent` go to every read-scoped operator, except that `session-scoped-events` clients get only
 *   the sessions they subscribed to with `sessions.messages.subscribe`;
 * - `sessions.changed` only to `sessions.subscribe`-rs, `session.message` only to that session's subscribers.
 */
import { ClientCap } from '../protocol/capabilities.js';
import { EVENTS, type EventName, type EventPayload } from '../protocol/events.js';
import type { StateVersion } from '../protocol/frames.js';
import type { EventDef } from '../protocol/schema.js';
import { scopeSatisfied } from '../protocol/scopes.js';
import type { Connection } from './connection.js';

export interface BroadcastOptions {
  /** Canonical session the event belongs to (chat, agent, session.message). */
  sessionKey?: string;
  /** May be skipped for a slow client (chat deltas). */
  droppable?: boolean;
  stateVersion?: StateVersion;
  /** Further restriction, e.g. only the connection that started a run. */
  only?: (conn: Connection) => boolean;
}

export class Broadcaster {
  readonly #conns = new Set<Connection>();

  add(conn: Connection): void {
    this.#conns.add(conn);
  }

  delete(conn: Connection): void {
    this.#conns.delete(conn);
  }

  get size(): number {
    return this.#conns.size;
  }

  connections(): IterableIterator<Connection> {
    return this.#conns.values();
  }

  /** Sends the event to its audience; returns the number of connections it was written to. */
  broadcast<N extends EventName>(event: N, payload: EventPayload<N>, options: BroadcastOptions = {}): number {
    let json: string | undefined;
    let sent = 0;
    for (const conn of this.#conns) {
      if (!mayReceive(conn, event, options)) continue;
      json ??= JSON.stringify(payload);
      conn.sendEvent(event, json, options);
      sent += 1;
    }
    return sent;
  }

  /** Sends an event to one connection, applying the same audience rules. */
  sendTo<N extends EventName>(conn: Connection, event: N, payload: EventPayload<N>, options: BroadcastOptions = {}): boolean {
    if (!mayReceive(conn, event, options)) return false;
    conn.sendEvent(event, JSON.stringify(payload), options);
    return true;
  }
}

const SESSION_STREAM_EVENTS: ReadonlySet<string> = new Set(['chat', 'agent']);

export function mayReceive(conn: Connection, event: EventName, options: BroadcastOptions): boolean {
  const grant = conn.grant;
  if (grant === undefined || !conn.open) return false;
  const def: EventDef = EVENTS[event];
  if (!scopeSatisfied(def.scope, grant.scopes)) return false;
  if (def.extension !== undefined && !grant.extensions.has(def.extension)) return false;
  if (options.only !== undefined && !options.only(conn)) return false;
  const key = options.sessionKey;
  if (SESSION_STREAM_EVENTS.has(event) && grant.caps.has(ClientCap.SESSION_SCOPED_EVENTS)) {
    return key !== undefined && conn.messageKeys.has(key);
  }
  if (event === 'sessions.changed') return conn.sessionsSubscribed;
  if (event === 'session.message') return key !== undefined && conn.messageKeys.has(key);
  return true;
}
