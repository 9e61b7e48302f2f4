/**
 * memory.query, memory.recall, memory.forget (memory.v1). While the database is unusable (RAM-only mode)
 * they answer UNAVAILABLE with details.code MEMORY_UNAVAILABLE: what is in RAM is not the long-term memory.
 */
import { GatewayError } from '../../protocol/errors.js';
import { MEMORY_QUERY_DEFAULT_LIMIT, MEMORY_RECALL_DEFAULT_LIMIT } from '../../protocol/methods/memory.js';
import { decodeCursor } from '../../memory/memory-api.js';
import { actorOf } from '../audit-log.js';
import type { GatewayServices } from '../services.js';
import { resolveSession } from './session-keys.js';
import type { HandlerGroup } from './types.js';

type MemoryMethods = 'memory.query' | 'memory.recall' | 'memory.forget';

function invalid(method: string, detail: string): GatewayError {
  return new GatewayError('INVALID_PARAMS', { params: { method, detail } });
}

export function memoryHandlers(services: GatewayServices): HandlerGroup<MemoryMethods> {
  const available = (): void => {
    const health = services.store.health();
    if (health.state !== 'ok') {
      throw new GatewayError('MEMORY_UNAVAILABLE', { params: { reason: `database ${health.reason ?? 'unavailable'}; serving from RAM` }, details: { since: health.since } });
    }
  };
  const sessionKey = (key: string | undefined): string | undefined => (key === undefined ? undefined : resolveSession(services.identity, key, undefined).key);
  return {
    'memory.query': (params) => {
      available();
      const cursor = params.cursor === undefined ? undefined : decodeCursor(params.cursor);
      if (params.cursor !== undefined && cursor === undefined) throw invalid('memory.query', 'unknown cursor');
      return services.memory.api.query(
        { sessionKey: sessionKey(params.sessionKey), text: params.text, ids: params.ids, kinds: params.kinds, since: params.since, until: params.until, limit: params.limit ?? MEMORY_QUERY_DEFAULT_LIMIT },
        cursor,
      );
    },
    'memory.recall': (params) => {
      if (params.topic === undefined && params.id === undefined) throw invalid('memory.recall', 'topic or id is required');
      available();
      return services.memory.api.recall({
        sessionKey: sessionKey(params.sessionKey),
        topic: params.topic,
        id: params.id,
        detail: params.detail ?? false,
        limit: params.limit ?? MEMORY_RECALL_DEFAULT_LIMIT,
      });
    },
    'memory.forget': async (params, ctx) => {
      if (params.ids === undefined && params.sessionKey === undefined && params.before === undefined) {
        throw invalid('memory.forget', 'ids, sessionKey or before is required');
      }
      available();
      const selection = { ids: params.ids, sessionKey: sessionKey(params.sessionKey), before: params.before };
      const forgotten = await services.memory.api.forget(selection, { connId: ctx.conn.connId, clientId: ctx.conn.grant?.client.id ?? 'unknown' });
      services.audit.memoryForget(actorOf(ctx.conn), { memoryIds: forgotten, requested: Object.fromEntries(Object.entries(selection).filter(([, v]) => v !== undefined)) });
      return { forgotten };
    },
  };
}
