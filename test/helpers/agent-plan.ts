/** Helpers for tests of the agent runtime (issue 5): a workspace with documents, plan clients, event views. */
import type { AgentProgressPayload } from '../../protocol/methods/agent-plan.js';
import { RawClient, resultOf, type Frame } from './raw-client.js';

export { workspaceWith } from './workspace-files.js';

export const PLAN_CAP = 'agent.plan.v1';

/** A client granted agent.plan.v1 (it waits for session.ack). */
export async function planClient(url: string, token: string | undefined): Promise<RawClient> {
  const client = await RawClient.connect(url, { ...(token === undefined ? {} : { token }), caps: [PLAN_CAP] });
  await client.event('session.ack');
  return client;
}

export function progressOf(client: RawClient, planId?: string): AgentProgressPayload[] {
  return client
    .events('agent.progress')
    .map((f) => f.payload as AgentProgressPayload)
    .filter((p) => planId === undefined || p.planId === planId);
}

/**
 * The most tasks seen `running` at the same time, replaying a client's agent.progress events in order:
 * a count, not a timing.
 */
export function maxRunningAtOnce(progress: readonly AgentProgressPayload[], taskIds?: ReadonlySet<string>): number {
  const running = new Set<string>();
  let max = 0;
  for (const event of progress) {
    if (event.taskId === undefined || (taskIds !== undefined && !taskIds.has(event.taskId))) continue;
    if (event.state === 'running') running.add(event.taskId);
    else running.delete(event.taskId);
    max = Math.max(max, running.size);
  }
  return max;
}

/** Sends a chat turn (throws when refused) and returns its runId. */
export async function sendGoal(client: RawClient, sessionKey: string, runId: string, message: string): Promise<string> {
  return resultOf(await client.request('chat.send', { sessionKey, message, idempotencyKey: runId }), 'chat.send').runId;
}

export const isEvent = (name: string, runId?: string) => (f: Frame): boolean =>
  f.event === name && (runId === undefined || (f.payload as { runId?: string }).runId === runId);
