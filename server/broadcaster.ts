/**
 * Event fan-out. Each event is serialized once and written to every connection allowed to see it
 * (OpenClaw's broadcast rules, protocol-openclaw.md §4, §6, and protocol-extensions.md):
 * - an event needing a scope goes only to connections holding it (`admin` and `write` imply `read`);
 * - extension events go only to connections granted their capability;
 * - `chat`/`agent` go to every read-scoped operator, except that `session-scoped-events` clients get only
 *   the sessions they subscribed to with `sessions.messages.subscribe`;
 * - `sessions.changed` only to `sessions.subscribe`-rs, `session.message` only to that session's subscribers;
 * - a session's extension events (`memory.event`, `agent.plan`/`progress`/`blocked`) follow the chat rule:
 *   a `session-scoped-events` client gets them only for the sessions it subscribed to; gateway-wide ones
 *   (no session) go to every granted client.
 * Recipients are kept indexed (all readers, subscribers per session), so an event costs in proportion to its
 * audience, not to the number of connections.
 */
import { ClientCap } from '../protocol/capabilities.js';
import { EVENTS, type EventName, type EventPayload } from '../protocol/events.js';
import type { StateVersion } from '../protocol/frames.js';
import type { EventDef } from '../protocol/schema.js';
import { Scope } from '../protocol/scopes.js';
import type { Connection } from './connection.js';

export interface BroadcastOptions {
  /** Canonical session the event belongs to (chat, agent, session.message, a session's extension events). */
  sessionKey?: string;
  /** May be skipped for a slow client (chat deltas). */
  droppable?: boolean;
  stateVersion?: StateVersion;
  /** Further restriction, e.g. only the connection that started a run. */
  only?: (conn: Connection) => boolean;
}

const SESSION_STREAM_EVENTS: ReadonlySet<string> = new Set(['chat', 'agent']);
/** Extension events that belong to one session when sent with a `sessionKey`. */
const SESSION_EXTENSION_EVENTS: ReadonlySet<string> = new Set(['memory.event', 'agent.plan', 'agent.progress', 'agent.blocked']);

/** A payload serialized ahead, for one sent again and again unchanged (the presence list). */
export class PayloadJson<T> {
  /** Type only: ties the JSON to the payload type it stands for. */
  declare readonly payload: T;
  constructor(readonly json: string) {}
}

/** Broadcast options for an event of `sessionKey`; `*` and `` (gateway-wide, no session) give none. */
export function sessionOf(sessionKey: string): BroadcastOptions {
  return sessionKey === '*' || sessionKey === '' ? {} : { sessionKey };
}

function isSessionScoped(conn: Connection): boolean {
  return conn.grant?.caps.has(ClientCap.SESSION_SCOPED_EVENTS) ?? false;
}

export class Broadcaster {
  readonly #conns = new Set<Connection>();
  /** Open read-scoped connections that see every session's chat/agent stream. */
  readonly #firehose = new Set<Connection>();
  /** Connections subscribed to a session with `sessions.messages.subscribe`. */
  readonly #bySession = new Map<string, Set<Connection>>();
  readonly #sessionsSubscribers = new Set<Connection>();

  /** A socket was accepted (it receives nothing until it is open). */
  add(conn: Connection): void {
    this.#conns.add(conn);
  }

  /** The connection finished its handshake: index it by what it may receive. */
  opened(conn: Connection): void {
    if (conn.grant?.satisfies.has(Scope.READ) && !isSessionScoped(conn)) this.#firehose.add(conn);
  }

  delete(conn: Connection): void {
    this.#conns.delete(conn);
    this.#firehose.delete(conn);
    this.#sessionsSubscribers.delete(conn);
    for (const key of conn.messageKeys) this.unsubscribeMessages(conn, key);
  }

  subscribeMessages(conn: Connection, sessionKey: string): void {
    conn.messageKeys.add(sessionKey);
    let set = this.#bySession.get(sessionKey);
    if (set === undefined) this.#bySession.set(sessionKey, (set = new Set()));
    set.add(conn);
  }

  unsubscribeMessages(conn: Connection, sessionKey: string): void {
    conn.messageKeys.delete(sessionKey);
    const set = this.#bySession.get(sessionKey);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size === 0) this.#bySession.delete(sessionKey);
  }

  subscribeSessions(conn: Connection, subscribed: boolean): void {
    conn.sessionsSubscribed = subscribed;
    if (subscribed) this.#sessionsSubscribers.add(conn);
    else this.#sessionsSubscribers.delete(conn);
  }

  /** Connections that asked for `sessions.changed`. */
  get sessionsSubscriberCount(): number {
    return this.#sessionsSubscribers.size;
  }

  get size(): number {
    return this.#conns.size;
  }

  connections(): IterableIterator<Connection> {
    return this.#conns.values();
  }

  /** Sends the event to its audience; returns the number of connections it was written to. */
  broadcast<N extends EventName>(event: N, payload: EventPayload<N> | PayloadJson<EventPayload<N>>, options: BroadcastOptions = {}): number {
    let json: string | undefined;
    let sent = 0;
    const deliver = (conn: Connection): void => {
      if (!mayReceive(conn, event, options)) return;
      json ??= payload instanceof PayloadJson ? payload.json : JSON.stringify(payload);
      conn.sendEvent(event, json, options);
      sent += 1;
    };
    const key = options.sessionKey;
    if (SESSION_STREAM_EVENTS.has(event)) {
      this.#firehose.forEach(deliver);
      if (key !== undefined) this.#bySession.get(key)?.forEach((conn) => isSessionScoped(conn) && deliver(conn));
    } else if (event === 'session.message') {
      if (key !== undefined) this.#bySession.get(key)?.forEach(deliver);
    } else if (event === 'sessions.changed') {
      this.#sessionsSubscribers.forEach(deliver);
    } else {
      this.#conns.forEach(deliver);
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

/** The audience rules, one connection at a time (the indexes above only narrow who is asked). */
export function mayReceive(conn: Connection, event: EventName, options: BroadcastOptions): boolean {
  const grant = conn.grant;
  if (grant === undefined || !conn.open) return false;
  const def: EventDef = EVENTS[event];
  if (!grant.satisfies.has(def.scope)) return false;
  if (def.extension !== undefined && !grant.extensions.has(def.extension)) return false;
  if (options.only !== undefined && !options.only(conn)) return false;
  const key = options.sessionKey;
  if (SESSION_STREAM_EVENTS.has(event) && isSessionScoped(conn)) return key !== undefined && conn.messageKeys.has(key);
  if (SESSION_EXTENSION_EVENTS.has(event) && key !== undefined && isSessionScoped(conn)) return conn.messageKeys.has(key);
  if (event === 'sessions.changed') return conn.sessionsSubscribed;
  if (event === 'session.message') return key !== undefined && conn.messageKeys.has(key);
  return true;
}
