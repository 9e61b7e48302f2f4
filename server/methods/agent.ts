/**
 * The `agent` method answers twice on one id: `accepted` at once, then the final result when the run ends
 * (an error final is `ok:false` with the same payload). Slash commands (`/new`, `/status`, ...) are answered by
 * brainstem (workers/chat-commands.ts).
 */
import { GatewayError } from '../../protocol/errors.js';
import type { MethodResult } from '../../protocol/registry.js';
import type { GatewayServices } from '../services.js';
import { resolveSession } from './session-keys.js';
import { chatCommand } from './commands.js';
import type { HandlerGroup } from './types.js';

type AgentFinal = Extract<MethodResult<'agent'>, { summary: string }>;

/** Margin on top of the run timeout that the `agent` method waits for the run's end, in ms. */
const FINAL_WAIT_MARGIN_MS = 5_000;

export function agentHandlers(services: GatewayServices): HandlerGroup<'agent' | 'agent.wait'> {
  return {
    agent: async (params, ctx) => {
      const { key, agentId } = resolveSession(services.identity, params.sessionKey, params.agentId);
      const timeoutMs = params.timeout === undefined || params.timeout === 0 ? undefined : Math.round(params.timeout * 1000);
      const outcome = await services.turns.submit({
        kind: 'agent',
        idempotencyKey: params.idempotencyKey,
        sessionKey: key,
        agentId,
        message: params.message,
        attachments: params.attachments,
        queueMode: 'followup',
        command: chatCommand(services, params.message, key, agentId),
        timeoutMs,
        extraSystemPrompt: params.extraSystemPrompt,
        model: params.model,
        logger: () => ctx.logger,
      });
      if (outcome.kind === 'in_flight') return { runId: outcome.runId, status: 'in_flight' as const };
      if (outcome.kind === 'finished') return finalOrThrow(services, outcome.response as AgentFinal, outcome.ok);
      ctx.respond({ runId: outcome.runId, sessionKey: key, agentId, status: 'accepted', acceptedAt: outcome.acceptedAt });
      const waitMs = (timeoutMs ?? services.config.runTimeoutMs) + FINAL_WAIT_MARGIN_MS;
      await services.turns.wait(outcome.runId, waitMs, ctx.signal);
      const record = services.store.idempotency.get(params.idempotencyKey, services.now());
      if (record === undefined || record.status === 'in_flight') {
        throw new GatewayError('RUN_FAILED', { params: { reason: 'the run did not end in time' } });
      }
      return finalOrThrow(services, record.response as AgentFinal, record.status === 'ok');
    },
    'agent.wait': (params, ctx) => services.turns.wait(params.runId, params.timeoutMs ?? services.config.agentWaitDefaultMs, ctx.signal),
  };
}

function finalOrThrow(services: GatewayServices, final: AgentFinal, ok: boolean): AgentFinal {
  if (ok) return final;
  const reason = services.store.runs.get(final.runId)?.error ?? `run ${final.summary}`;
  throw new GatewayError('RUN_FAILED', { params: { reason }, payload: final });
}

