/** A stored session as a `sessions.list` row (protocol-openclaw.md §3). */
import type { SessionRow } from '../protocol/methods/sessions.js';
import { GLOBAL_SESSION_KEY } from '../protocol/session-key.js';
import type { SessionRecord } from '../memory/types.js';

function kindOf(key: string): string {
  if (key === GLOBAL_SESSION_KEY) return 'global';
  return /:(group|channel):/.test(key) ? 'group' : 'direct';
}

export function sessionRow(session: SessionRecord, openRunIds: readonly string[]): SessionRow {
  const { settings } = session;
  const total = session.inputTokens + session.outputTokens;
  return {
    key: session.key,
    kind: kindOf(session.key),
    sessionId: session.sessionId,
    agentId: session.agentId,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    ...(settings.label === undefined ? {} : { label: settings.label, displayName: settings.label }),
    ...(session.lastPreview === undefined ? {} : { lastMessagePreview: session.lastPreview }),
    ...(settings.model === undefined ? {} : { model: settings.model }),
    ...(settings.thinkingLevel === undefined ? {} : { thinkingLevel: settings.thinkingLevel }),
    ...(settings.fastMode === undefined ? {} : { fastMode: settings.fastMode }),
    ...(settings.verboseLevel === undefined ? {} : { verboseLevel: settings.verboseLevel }),
    ...(settings.reasoningLevel === undefined ? {} : { reasoningLevel: settings.reasoningLevel }),
    ...(settings.pinned === undefined ? {} : { pinned: settings.pinned }),
    ...(settings.archived === undefined ? {} : { archived: settings.archived }),
    inputTokens: session.inputTokens,
    outputTokens: session.outputTokens,
    totalTokens: total,
    messageCount: session.messageCount,
    hasActiveRun: openRunIds.length > 0,
    ...(openRunIds.length === 0 ? {} : { activeRunIds: [...openRunIds] }),
  };
}
