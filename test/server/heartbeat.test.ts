import { describe, expect, it } from 'vitest';
import type { AgentProgressPayload } from '../../protocol/methods/agent-plan.js';
import type { EventPayload } from '../../protocol/events.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, resultOf } from '../helpers/raw-client.js';
import { isChat } from '../helpers/turns.js';
import { planClient, sendGoal, workspaceWith } from '../helpers/agent-plan.js';
import { eventually } from '../helpers/jobs.js';

type Beat = EventPayload<'heartbeat'>;

const beats = (client: RawClient): Beat[] => client.events('heartbeat').map((f) => f.payload as Beat);

describe('heartbeat worker', () => {
  it('keeps beating while a user sends, is skipped while the session is busy, and never delays the user turn', async () => {
    const gw = await startTestGateway({ config: { heartbeatIntervalMs: 15, localChunkDelayMs: 15 } });
    const user = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await eventually(() => beats(user).length >= 2);
    const latencies: number[] = [];
    for (let i = 0; i < 6; i++) {
      const sent = performance.now();
      await sendGoal(user, 'main', `turn-${i}`, `message number ${i}`);
      await user.event('chat', isChat(`turn-${i}`, 'final'));
      latencies.push(performance.now() - sent);
    }
    const during = beats(user);
    expect(during.filter((b) => b.status === 'skipped' && b.reason === 'session busy').length).toBeGreaterThan(0);
    expect(during.filter((b) => b.status === 'ok-empty').length).toBeGreaterThan(0);
    // Four chunks 15 ms apart make a turn; the bound is generous for a loaded 2-core machine, far below what
    // a turn queued behind heartbeat work would take.
    for (const ms of latencies) expect(ms).toBeLessThan(1_000);
    // The heartbeat never takes the session's turn lane: no run but the user's was ever open there.
    const runs = resultOf(await user.request('sessions.list', {}), 'sessions.list').sessions.find((s) => s.key === 'agent:main:main');
    expect(runs?.messageCount).toBe(12);
    const last = resultOf(await user.request('last-heartbeat', {}), 'last-heartbeat');
    expect(last).toMatchObject({ status: expect.any(String), ts: expect.any(Number) });
  });

  it('nudges about a blocked plan with next actions, reads HEARTBEAT.md, and queues one speculative research task with its rationale', async () => {
    const workspace = workspaceWith({
      'HEARTBEAT.md': '# Standing checks\n\n- check the release notes\n- look at open approvals\n',
      'notes/release.md': 'The release needs a sign-off from finance.',
    });
    const gw = await startTestGateway({ config: { workspace, heartbeatIntervalMs: 0 } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'work', 'blocked', 'Release:\n1. Approve the release');
    await watcher.event('chat', isChat('blocked', 'final'));
    const runtime = gw.gateway.services.agent?.runtime;
    if (runtime === undefined) throw new Error('no agent runtime');

    expect(runtime.heartbeat.tick()).toBe(true);
    const beat = (await watcher.event('heartbeat')).payload as Beat;
    expect(beat.status).toBe('sent');
    const nudge = (await watcher.event('agent.progress', (f) => (f.payload as AgentProgressPayload).state === 'heartbeat')).payload as AgentProgressPayload;
    expect(nudge).toMatchObject({ runId: 'blocked', sessionKey: 'agent:main:work' });
    expect(nudge.message).toContain('next: approve "Approve the release" with agent.control resume');
    expect(nudge.message).toContain('queued "Research more for "Approve the release"" — "Approve the release" is blocked (approval); more research is read-only and low-risk');
    expect(beat.preview).toBe(nudge.message.slice(0, 199) + '…');
    const speculative = (await watcher.event('agent.progress', (f) => (f.payload as AgentProgressPayload).message.startsWith('queued speculative task'))).payload as AgentProgressPayload;
    await watcher.event('agent.progress', (f) => (f.payload as AgentProgressPayload).taskId === speculative.taskId && (f.payload as AgentProgressPayload).state === 'done');
    const task = runtime.store.get(speculative.taskId as string);
    expect(task).toMatchObject({ lane: 'background', kind: 'research', title: 'Research more for "Approve the release"' });
    expect(JSON.stringify(task?.result)).toContain('notes/release.md');

    // The next beat suggests the same action but queues no second speculative task for the same blocked task.
    await eventually(() => runtime.heartbeat.tick());
    await eventually(() => watcher.events('heartbeat').length === 2);
    expect(runtime.store.tasksOf(nudge.planId).length).toBe(2);

    // With nothing left open, the heartbeat reports HEARTBEAT.md's checks.
    resultOf(await watcher.request('agent.control', { action: 'resume', runId: 'blocked' }), 'agent.control');
    await eventually(() => runtime.board.settled(nudge.planId) && runtime.store.tasksOf(nudge.planId).every((t) => t.state === 'done'));
    await eventually(() => runtime.heartbeat.tick());
    await eventually(() => watcher.events('heartbeat').length === 3);
    expect(beats(watcher)[2]).toMatchObject({ status: 'ok-token', preview: 'HEARTBEAT.md: check the release notes; look at open approvals' });
  });
});
