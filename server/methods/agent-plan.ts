/** agent.status and agent.control (the `agent.plan.v1` extension). */
import { GatewayError } from '../../protocol/errors.js';
import { agentControl, agentStatus } from '../../workers/agent/agent-api.js';
import { actorOf } from '../audit-log.js';
import type { GatewayServices } from '../services.js';
import { resolveSession } from './session-keys.js';
import type { HandlerGroup } from './types.js';

export function agentPlanHandlers(services: GatewayServices): HandlerGroup<'agent.status' | 'agent.control'> {
  const runtime = () => {
    // The router answers these methods only while the extension is offered, and then the runtime exists.
    if (services.agent === undefined) throw new GatewayError('INTERNAL');
    return services.agent.runtime;
  };
  const canonical = (key: string | undefined) => (key === undefined ? undefined : resolveSession(services.identity, key, undefined).key);
  return {
    'agent.status': (params) =>
      agentStatus(
        runtime(),
        { concurrency: services.config.maxConcurrentRuns, maxQueue: services.config.maxQueuedRuns },
        { sessionKey: canonical(params.sessionKey), runId: params.runId },
      ),
    'agent.control': (params, ctx) => {
      const affected = agentControl(runtime(), { ...params, sessionKey: canonical(params.sessionKey) });
      // On record before the client hears it happened (the audit log writes synchronously).
      services.audit.agentControl(actorOf(ctx.conn), { ...params, affected });
      return { ok: true as const, affected };
    },
  };
}
