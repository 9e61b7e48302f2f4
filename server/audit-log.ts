/**
 * The audit log: one JSON line per security-relevant act, apart from the operational log, so it can be kept,
 * shipped and read on its own. Recorded: failed authentication (incl. rate-limited attempts and device-proof
 * failures), `sessions.delete`, `sessions.reset`, and — for the runtime and memory issues to call —
 * `agent.control` and `memory.forget`. Lines are written synchronously: an act is on record before the
 * client hears it happened.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { REDACT_PATHS } from './logger.js';

/** Who did it: enough to find the connection in the operational log and the client on the network. */
export interface AuditActor {
  connId: string;
  ip: string | undefined;
  clientId?: string | undefined;
  deviceId?: string | undefined;
  scopes?: readonly string[] | undefined;
}

/** The acts the audit log records (the `event` field of each line). */
export type AuditEvent = 'auth.failure' | 'agent.control' | 'sessions.delete' | 'sessions.reset' | 'memory.forget';

export interface AuditLog {
  /** A connect refused for its credentials, its device proof, or too many failed attempts. */
  authFailure(actor: AuditActor, fields: { detailCode: string; authReason?: string | undefined; retryAfterMs?: number | undefined }): void;
  sessionsDelete(actor: AuditActor, fields: { key: string; deleted: boolean; deleteTranscript: boolean }): void;
  sessionsReset(actor: AuditActor, fields: { key: string; reason: string; sessionId: string }): void;
  /** `agent.control` (issue 5): what was asked of which run or task. */
  agentControl(actor: AuditActor, fields: { action: string; runId?: string; taskId?: string; [field: string]: unknown }): void;
  /** `memory.forget`: what was asked (ids, session, before) and which memories were forgotten. */
  memoryForget(actor: AuditActor, fields: { memoryIds: readonly string[]; requested: Record<string, unknown>; [field: string]: unknown }): void;
  /** Flushes and closes the destination; safe to call twice. */
  close(): void;
}

/** The minimal view of a connection the audit log needs (avoids importing Connection). */
export interface AuditedConnection {
  readonly connId: string;
  readonly remoteAddress: string | undefined;
  readonly grant?: { client: { id: string }; deviceId: string | undefined; scopes: readonly string[] } | undefined;
}

export function actorOf(conn: AuditedConnection): AuditActor {
  const grant = conn.grant;
  return {
    connId: conn.connId,
    ip: conn.remoteAddress,
    ...(grant === undefined ? {} : { clientId: grant.client.id, deviceId: grant.deviceId, scopes: grant.scopes }),
  };
}

/** An audit log writing JSON lines to `destination`; `onClose` releases it. */
export function createAuditLog(destination: DestinationStream, onClose: () => void = () => undefined): AuditLog {
  const logger: Logger = pino(
    { base: null, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination,
  );
  const write = (event: AuditEvent, actor: AuditActor, fields: object): void => {
    logger.info({ event, actor, ...fields }, event);
  };
  let closed = false;
  return {
    authFailure: (actor, fields) => write('auth.failure', actor, fields),
    sessionsDelete: (actor, fields) => write('sessions.delete', actor, fields),
    sessionsReset: (actor, fields) => write('sessions.reset', actor, fields),
    agentControl: (actor, fields) => write('agent.control', actor, fields),
    memoryForget: (actor, fields) => write('memory.forget', actor, fields),
    close: () => {
      if (closed) return;
      closed = true;
      onClose();
    },
  };
}

/** An audit log appending to `path` (folders created, file mode 0600). */
export function openAuditLog(path: string): AuditLog {
  const destination = pino.destination({ dest: path, sync: true, mkdir: true, mode: 0o600, append: true });
  return createAuditLog(destination, () => destination.end());
}

/** An audit log that records nothing (`auditLog: false`). */
export function disabledAuditLog(): AuditLog {
  const nothing = (): void => undefined;
  return { authFailure: nothing, sessionsDelete: nothing, sessionsReset: nothing, agentControl: nothing, memoryForget: nothing, close: nothing };
}
