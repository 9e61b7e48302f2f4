/** sessions.* methods: list, subscriptions, describe, send, abort, patch, reset, delete, compact. */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewayError } from '../../protocol/errors.js';
import { actorOf } from '../audit-log.js';
import type { MethodParams, MethodResult } from '../../protocol/registry.js';
import type { SettingsPatch } from '../../memory/sessions-store.js';
import type { SessionRecord } from '../../memory/types.js';
import type { GatewayServices } from '../services.js';
import { sessionRow } from '../session-view.js';
import { sendChat } from './chat.js';
import { resolveSession } from './session-keys.js';
import type { HandlerGroup } from './types.js';

/** Rows `sessions.list` returns when the request has no `limit`. */
export const SESSIONS_DEFAULT_LIMIT = 100;
/** Most rows one `sessions.list` returns. */
export const SESSIONS_MAX_LIMIT = 1_000;

type SessionMethods =
  | 'sessions.list'
  | 'sessions.subscribe'
  | 'sessions.unsubscribe'
  | 'sessions.messages.subscribe'
  | 'sessions.messages.unsubscribe'
  | 'sessions.describe'
  | 'sessions.create'
  | 'sessions.send'
  | 'session.send'
  | 'sessions.steer'
  | 'sessions.abort'
  | 'sessions.patch'
  | 'sessions.reset'
  | 'sessions.delete'
  | 'sessions.compact';

export function sessionsHandlers(services: GatewayServices): HandlerGroup<SessionMethods> {
  const row = (session: SessionRecord) => sessionRow(session, services.turns.openRunIds(session.key));
  const resolve = (key: string, agentId: string | undefined) => resolveSession(services.identity, key, agentId);
  const entry = (session: SessionRecord) => ({
    ok: true as const,
    key: session.key,
    entry: row(session),
    resolved: { key: session.key, agentId: session.agentId, sessionId: session.sessionId },
  });
  const list = (params: MethodParams<'sessions.list'>): MethodResult<'sessions.list'> => listSessions(services, params, row);
  const send = (params: MethodParams<'sessions.send'>, queueMode: string, logger: () => Logger) =>
    sendChat(services, { sessionKey: params.key, agentId: params.agentId, message: params.message, idempotencyKey: params.idempotencyKey, attachments: params.attachments, timeoutMs: params.timeoutMs, queueMode, logger });
  return {
    'sessions.list': list,
    'sessions.subscribe': (params, ctx) => {
      services.broadcaster.subscribeSessions(ctx.conn, true);
      return Object.keys(params).length === 0 ? { subscribed: true as const } : { subscribed: true as const, list: list(params) };
    },
    'sessions.unsubscribe': (_params, ctx) => {
      services.broadcaster.subscribeSessions(ctx.conn, false);
      return { subscribed: false as const };
    },
    'sessions.messages.subscribe': (params, ctx) => {
      const { key } = resolve(params.key, params.agentId);
      // Each subscription is held in RAM for the connection's life: bounded like everything a client can grow.
      const limit = services.config.maxSubscriptionsPerConnection;
      if (!ctx.conn.messageKeys.has(key) && ctx.conn.messageKeys.size >= limit) throw new GatewayError('SUBSCRIPTION_LIMIT', { params: { limit }, details: { limit } });
      services.broadcaster.subscribeMessages(ctx.conn, key);
      return { subscribed: true as const, key };
    },
    'sessions.messages.unsubscribe': (params, ctx) => {
      const { key } = resolve(params.key, params.agentId);
      services.broadcaster.unsubscribeMessages(ctx.conn, key);
      return { subscribed: false as const, key };
    },
    'sessions.describe': (params) => {
      const { key, agentId } = resolve(params.key, params.agentId);
      return { session: row(services.sessions.ensure(key, agentId)) };
    },
    'sessions.create': async (params, ctx) => {
      const { key, agentId } = resolve(params.key ?? `session-${randomUUID()}`, params.agentId);
      const settings = pickSettings({ key, ...(params.label === undefined ? {} : { label: params.label }), ...(params.model === undefined ? {} : { model: params.model }), ...(params.thinkingLevel === undefined ? {} : { thinkingLevel: params.thinkingLevel }) });
      let session = services.sessions.ensure(key, agentId);
      if (Object.keys(settings).length > 0) session = services.sessions.patch(key, agentId, settings);
      const ack = params.message === undefined || params.message === '' ? undefined : await sendChat(services, { sessionKey: key, agentId, message: params.message, idempotencyKey: params.idempotencyKey, timeoutMs: params.timeoutMs, logger: () => ctx.logger });
      return {
        ok: true as const,
        key,
        sessionId: session.sessionId,
        entry: row(services.sessions.get(key) ?? session),
        runStarted: ack?.status === 'started',
        ...(ack === undefined ? {} : { runId: ack.runId }),
        ...(ack?.messageSeq === undefined ? {} : { messageSeq: ack.messageSeq }),
      };
    },
    'sessions.send': (params, ctx) => send(params, 'followup', () => ctx.logger),
    'session.send': (params, ctx) => send(params, 'followup', () => ctx.logger),
    'sessions.steer': (params, ctx) => send(params, 'interrupt', () => ctx.logger),
    'sessions.abort': (params) => {
      if (params.runId !== undefined && params.key === undefined) {
        const aborted = services.turns.abortRun(params.runId);
        return { ok: true as const, aborted, runIds: aborted ? [params.runId] : [] };
      }
      if (params.key === undefined) throw new GatewayError('INVALID_PARAMS', { params: { method: 'sessions.abort', detail: 'key or runId is required' } });
      const { key } = resolve(params.key, params.agentId);
      const runIds = services.turns.abort(key, { runId: params.runId, clearQueued: params.clearQueued ?? false });
      return { ok: true as const, aborted: runIds.length > 0, runIds };
    },
    'sessions.patch': (params) => {
      const { key, agentId } = resolve(params.key, params.agentId);
      return entry(services.sessions.patch(key, agentId, pickSettings(params), params.expectedSessionId));
    },
    'sessions.reset': (params, ctx) => {
      const { key, agentId } = resolve(params.key, params.agentId);
      const reason = params.reason ?? 'reset';
      const session = services.sessions.reset(key, agentId, reason, params.expectedSessionId);
      services.audit.sessionsReset(actorOf(ctx.conn), { key, reason, sessionId: session.sessionId });
      return entry(session);
    },
    'sessions.delete': (params, ctx) => {
      const { key } = resolve(params.key, params.agentId);
      const deleteTranscript = params.deleteTranscript ?? true;
      const deleted = services.sessions.delete(key, { deleteTranscript, archivedOnly: params.archivedOnly ?? false });
      services.audit.sessionsDelete(actorOf(ctx.conn), { key, deleted, deleteTranscript });
      return { ok: true as const, key, deleted, archived: [] };
    },
    'sessions.compact': async (params) => {
      const { key } = resolve(params.key, params.agentId);
      const { kept, removed } = await services.sessions.compact(key, params.maxLines);
      return { ok: true as const, key, compacted: removed > 0, kept, removed };
    },
  };
}

const SETTINGS_FIELDS = ['label', 'thinkingLevel', 'fastMode', 'verboseLevel', 'reasoningLevel', 'model', 'pinned', 'archived'] as const;

/** Only the settings fields of a (schema-validated) patch; unknown extra fields are accepted and ignored. */
function pickSettings(params: MethodParams<'sessions.patch'>): SettingsPatch {
  const out: Record<string, unknown> = {};
  for (const field of SETTINGS_FIELDS) if (field in params) out[field] = params[field];
  return out as SettingsPatch;
}

function listSessions(
  services: GatewayServices,
  params: MethodParams<'sessions.list'>,
  row: (session: SessionRecord) => MethodResult<'sessions.list'>['sessions'][number],
): MethodResult<'sessions.list'> {
  const limit = Math.min(params.limit ?? SESSIONS_DEFAULT_LIMIT, SESSIONS_MAX_LIMIT);
  const offset = params.offset ?? 0;
  const now = services.now();
  const { rows, total } = services.store.sessions.list({
    limit,
    offset,
    ...(params.agentId === undefined ? {} : { agentId: params.agentId }),
    ...(params.label === undefined ? {} : { label: params.label }),
    ...(params.search === undefined ? {} : { search: params.search }),
    ...(params.archived === undefined ? {} : { archived: params.archived }),
    ...(params.activeMinutes === undefined ? {} : { updatedSince: now - params.activeMinutes * 60_000 }),
    // Filtered in the query, not after it, so limit/offset/totalCount count active sessions only.
    ...(params.activeOnly === true ? { keys: services.turns.openSessionKeys() } : {}),
  });
  const sessions = rows.map(row);
  const hasMore = offset + rows.length < total;
  return {
    ts: now,
    path: services.store.path,
    count: sessions.length,
    totalCount: total,
    limitApplied: limit,
    ...(hasMore ? { nextOffset: offset + rows.length } : {}),
    hasMore,
    defaults: { model: services.model, modelProvider: services.modelProvider },
    sessions,
  };
}
