import { describe, expect, it } from 'vitest';
import type { JobHandler } from '../../workers/jobs/job-runner.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { payloadOf, resultOf } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { isEvent, planClient, progressOf, sendGoal } from '../helpers/agent-plan.js';
import { eventually } from '../helpers/jobs.js';

/** Side effects done by the `notify` jobs, across both gateway lives (the same test process). */
let notifications = 0;

/** A side-effecting job: records its effect once per idempotency key, then waits until told to finish. */
function notify(finish: boolean): JobHandler {
  return (ctx) => {
    ctx.once(ctx.job.idempotencyKey as string, () => ++notifications);
    if (finish) return Promise.resolve({ result: { notified: true } });
    return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
  };
}

const hangingResearch: JobHandler = (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));

describe('restart with jobs pending and running', () => {
  it('runs them to the end after the restart, the side-effecting one exactly once', async () => {
    const dataDir = tempDir('brainstem-agent-restart-');
    const config = { laneResearchConcurrency: 1, shutdownGraceMs: 0 };
    const first = await startTestGateway({ dataDir, config, agentHandlers: new Map([['research', hangingResearch], ['notify', notify(false)]]) });
    const before = await planClient(first.url, TEST_TOKEN);
    await sendGoal(before, 'main', 'durable', 'Collect:\n- research the first folder\n- research the second folder\n- then file the report');
    const plan = payloadOf(await before.event('agent.plan', isEvent('agent.plan', 'durable')), 'agent.plan');
    const [one, two, three] = plan.tasks.map((t) => t.taskId) as [string, string, string];
    await before.event('agent.progress', () => progressOf(before, plan.planId).some((p) => p.taskId === one && p.state === 'running'));
    const runtime = first.gateway.services.agent?.runtime;
    runtime?.enqueue({ id: 'notify-1', kind: 'notify', lane: 'background', maxAttempts: 3, idempotencyKey: 'notify:durable' });
    await eventually(() => notifications === 1 && runtime?.store.get('notify-1')?.state === 'running');
    const states = (id: string) => runtime?.store.get(id)?.state;
    expect([states(one), states(two), states(three), states('notify-1')]).toEqual(['running', 'pending', 'pending', 'running']);
    await first.close();

    const second = await startTestGateway({ dataDir, config, agentHandlers: new Map([['notify', notify(true)]]) });
    const after = await planClient(second.url, TEST_TOKEN);
    const again = second.gateway.services.agent?.runtime;
    await eventually(() => [one, two, three, 'notify-1'].every((id) => again?.store.get(id)?.state === 'done'));
    expect(notifications).toBe(1);
    expect(again?.store.get('notify-1')?.result).toEqual({ notified: true });
    const status = resultOf(await after.request('agent.status', { runId: 'durable' }), 'agent.status');
    // The turn itself was cut off (interrupted); its plan went on, so the run reads as its plan does.
    expect(status.runs[0]).toMatchObject({ runId: 'durable', state: 'done' });
    expect(status.runs[0]?.plan?.tasks.map((t) => [t.state, t.attempts])).toEqual([['done', 1], ['done', 1], ['done', 1]]);
    const history = resultOf(await after.request('chat.history', { sessionKey: 'main' }), 'chat.history');
    expect('messages' in history && history.messages.at(-1)?.stopReason).toBe('interrupted');
  });
});
