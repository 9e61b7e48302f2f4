/**
 * chat.history / chat.startup: the newest `limit` messages of the live transcript, oldest first, trimmed to
 * the byte and character budgets (oldest left out first), with a delta cursor `<sessionId>:<lastSeq>`.
 */
import type { MethodParams, MethodResult } from '../../protocol/registry.js';
import type { SessionRecord, StoredMessage } from '../../memory/types.js';
import { messageText } from '../../memory/transcript-store.js';
import { wireMessage } from '../message-view.js';
import type { GatewayServices } from '../services.js';

/** Messages returned when the request has no `limit`. */
export const HISTORY_DEFAULT_LIMIT = 200;

type HistoryParams = MethodParams<'chat.history'>;
type HistoryResult = MethodResult<'chat.history'>;

export function chatHistory(services: GatewayServices, session: SessionRecord, params: HistoryParams): HistoryResult {
  const sessionInfo = {
    key: session.key,
    sessionId: session.sessionId,
    agentId: session.agentId,
    updatedAt: session.updatedAt,
    ...(session.settings.label === undefined ? {} : { label: session.settings.label }),
  };
  const limit = params.limit ?? HISTORY_DEFAULT_LIMIT;
  const budget = { bytes: Math.min(params.maxBytes ?? Infinity, services.config.historyMaxBytes), chars: params.maxChars ?? Infinity };
  if (params.cursor !== undefined) {
    const cursor = parseCursor(params.cursor);
    if (cursor === undefined || cursor.sessionId !== session.sessionId) return { kind: 'reset' };
    const after = services.store.transcript.after(session.key, session.sessionId, cursor.seq, limit);
    const kept = withinBudget(after, budget, true);
    return { kind: 'delta', messages: kept.map(wireMessage), deltaCursor: cursorOf(session, kept.at(-1)?.seq ?? cursor.seq), sessionInfo };
  }
  const offset = params.offset ?? 0;
  const page = services.store.transcript.page(session.key, session.sessionId, limit, offset);
  const kept = withinBudget(page.messages, budget, false);
  const newestSeq = offset === 0 ? page.messages.at(-1)?.seq : undefined;
  // Messages left out for the budget are older than the kept ones: the next page starts right after what was returned.
  const nextOffset = offset + kept.length;
  const hasMore = kept.length < page.messages.length || page.more;
  const inFlight = services.turns.inFlight(session.key);
  const { settings } = session;
  return {
    sessionKey: session.key,
    sessionId: session.sessionId,
    messages: kept.map(wireMessage),
    defaults: { model: services.model, modelProvider: services.modelProvider, agentId: session.agentId },
    sessionInfo,
    ...(settings.thinkingLevel === undefined ? {} : { thinkingLevel: settings.thinkingLevel }),
    ...(settings.fastMode === undefined ? {} : { fastMode: settings.fastMode }),
    ...(settings.verboseLevel === undefined ? {} : { verboseLevel: settings.verboseLevel }),
    hasMore,
    ...(hasMore ? { nextOffset } : {}),
    deltaCursor: cursorOf(session, newestSeq ?? lastSeqBefore(services, session)),
    ...(inFlight === undefined ? {} : { inFlightRun: inFlight }),
  };
}

function cursorOf(session: SessionRecord, seq: number): string {
  return `${session.sessionId}:${seq}`;
}

function parseCursor(cursor: string): { sessionId: string; seq: number } | undefined {
  const at = cursor.lastIndexOf(':');
  const seq = Number(cursor.slice(at + 1));
  return at <= 0 || !Number.isInteger(seq) || seq < 0 ? undefined : { sessionId: cursor.slice(0, at), seq };
}

function lastSeqBefore(services: GatewayServices, session: SessionRecord): number {
  return services.store.transcript.page(session.key, session.sessionId, 1, 0).messages[0]?.seq ?? 0;
}

/** Keeps messages within the budgets: the newest ones for a page, the oldest ones for a delta. */
function withinBudget(messages: StoredMessage[], budget: { bytes: number; chars: number }, keepOldest: boolean): StoredMessage[] {
  let bytes = 0;
  let chars = 0;
  const ordered = keepOldest ? messages : [...messages].reverse();
  const kept: StoredMessage[] = [];
  for (const message of ordered) {
    bytes += Buffer.byteLength(JSON.stringify(message.message));
    chars += messageText(message.message).length;
    if ((bytes > budget.bytes || chars > budget.chars) && kept.length > 0) break;
    kept.push(message);
  }
  return keepOldest ? kept : kept.reverse();
}
