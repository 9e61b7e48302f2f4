/** chat.send, chat.history, chat.startup, chat.abort, chat.inject. */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MethodParams, MethodResult } from '../../protocol/registry.js';
import type { SubmitOutcome } from '../../workers/turn-service.js';
import { wireMessage } from '../message-view.js';
import type { GatewayServices } from '../services.js';
import { chatCommand } from './commands.js';
import { chatHistory } from './history.js';
import { resolveSession } from './session-keys.js';
import type { HandlerGroup } from './types.js';

type ChatMethods = 'chat.send' | 'chat.history' | 'chat.startup' | 'chat.abort' | 'chat.inject';

/** steer and collect are served as followup: brainstem has no mid-run steering. */
export function queueModeOf(mode: string | undefined): 'followup' | 'interrupt' {
  return mode === 'interrupt' ? 'interrupt' : 'followup';
}

/** The chat.send ack for each submit outcome. */
export function chatAck(outcome: SubmitOutcome): MethodResult<'chat.send'> {
  switch (outcome.kind) {
    case 'started':
      return { runId: outcome.runId, status: 'started', messageSeq: outcome.messageSeq };
    case 'in_flight':
      return { runId: outcome.runId, status: 'in_flight' };
    case 'finished':
      return outcome.response as MethodResult<'chat.send'>;
  }
}

export interface ChatSendInput {
  sessionKey: string;
  agentId?: string | undefined;
  message: string;
  idempotencyKey?: string | undefined;
  attachments?: readonly unknown[] | undefined;
  timeoutMs?: number | undefined;
  queueMode?: string | undefined;
  /** Makes the request's logger (connId, reqId), through which the turn logs; called on first use only. */
  logger?: (() => Logger) | undefined;
}

/** Shared by chat.send and sessions.send: a missing idempotency key is generated (openclaw-node omits it). */
export async function sendChat(services: GatewayServices, input: ChatSendInput): Promise<MethodResult<'chat.send'>> {
  const { key, agentId } = resolveSession(services.identity, input.sessionKey, input.agentId);
  return chatAck(
    await services.turns.submit({
      kind: 'chat',
      idempotencyKey: input.idempotencyKey ?? randomUUID(),
      sessionKey: key,
      agentId,
      message: input.message,
      attachments: input.attachments,
      queueMode: queueModeOf(input.queueMode),
      timeoutMs: input.timeoutMs === 0 ? undefined : input.timeoutMs,
      command: chatCommand(services, input.message, key, agentId),
      logger: input.logger,
    }),
  );
}

export function chatHandlers(services: GatewayServices): HandlerGroup<ChatMethods> {
  const history = (params: MethodParams<'chat.history'>): MethodResult<'chat.history'> => {
    const { key, agentId } = resolveSession(services.identity, params.sessionKey, params.agentId);
    return chatHistory(services, services.sessions.ensure(key, agentId), params);
  };
  return {
    'chat.send': (params, ctx) => sendChat(services, { ...params, logger: () => ctx.logger }),
    'chat.history': history,
    'chat.startup': (params) => history(params),
    'chat.abort': (params) => {
      const { key } = resolveSession(services.identity, params.sessionKey, params.agentId);
      const runIds = services.turns.abort(key, { runId: params.runId, clearQueued: true });
      return { ok: true as const, aborted: runIds.length > 0, runIds };
    },
    'chat.inject': (params) => {
      const { key, agentId } = resolveSession(services.identity, params.sessionKey, params.agentId);
      const stored = services.sessions.inject(key, agentId, params.message);
      services.broadcaster.broadcast(
        'chat',
        { runId: `inject-${stored.id}`, sessionKey: key, agentId, seq: 0, state: 'final', message: wireMessage(stored) },
        { sessionKey: key },
      );
      return { ok: true as const, messageId: stored.id };
    },
  };
}
