/** The responses a finished run leaves behind for repeats of its request (protocol-openclaw.md §3, §7). */
import type { MethodResult } from '../protocol/registry.js';
import type { RunEnded } from './run-events.js';

type AgentFinal = Extract<MethodResult<'agent'>, { summary: string }>;
type ChatAck = MethodResult<'chat.send'>;

export function chatReplay(runId: string, ended: RunEnded): ChatAck {
  if (ended.status === 'ok') return { runId, status: 'ok' };
  return { runId, status: 'error', summary: ended.status === 'error' ? (ended.error ?? 'failed') : ended.status };
}

export function agentFinal(runId: string, ended: RunEnded): AgentFinal {
  const status = ended.status === 'ok' ? 'ok' : ended.status === 'timeout' ? 'timeout' : 'error';
  const summary = ended.status === 'ok' ? 'completed' : ended.status === 'aborted' ? 'aborted' : 'failed';
  const durationMs = ended.startedAt === undefined ? 0 : ended.endedAt - ended.startedAt;
  return {
    runId,
    status,
    summary,
    stopReason: ended.stopReason,
    result: { payloads: ended.text === '' ? [] : [{ text: ended.text }], meta: { durationMs } },
  };
}
