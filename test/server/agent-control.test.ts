import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AgentBlockedPayload, AgentPlanPayload } from '../../protocol/methods/agent-plan.js';
import type { JobHandler } from '../../workers/jobs/job-runner.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf } from '../helpers/raw-client.js';
import { isChat, roundTrip } from '../helpers/turns.js';
import { isEvent, planClient, progressOf, sendGoal } from '../helpers/agent-plan.js';
import { untilAborted } from '../helpers/jobs.js';
import { sampleValue, scrape } from '../helpers/metrics-text.js';
import { AUDIT_LOG_FILE } from '../../server/hardening.js';
import { DATABASE_FILE } from '../../memory/store.js';

function runtimeOf(gw: TestGateway) {
  const agent = gw.gateway.services.agent;
  if (agent === undefined) throw new Error('no agent runtime');
  return agent.runtime;
}

async function planOf(client: RawClient, runId: string): Promise<AgentPlanPayload> {
  return payloadOf(await client.event('agent.plan', isEvent('agent.plan', runId)), 'agent.plan');
}

describe('agent.control', () => {
  it('stop during a run, with the background lane full, is answered at once and takes effect at once', async () => {
    const research = untilAborted();
    const background = untilAborted();
    const gw = await startTestGateway({
      config: { laneBackgroundConcurrency: 1, laneBackgroundMaxQueue: 4 },
      agentHandlers: new Map([['research', research.handler], ['sleep', background.handler]]),
    });
    const runtime = runtimeOf(gw);
    for (let i = 0; i < 5; i++) runtime.enqueue({ id: `bg-${i}`, kind: 'sleep', lane: 'background', maxAttempts: 1 });
    expect(runtime.runner.refusal(new Map([['background', 1]]))).toMatchObject({ lane: 'background', limit: 4 });

    const watcher = await planClient(gw.url, TEST_TOKEN);
    const legacy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await sendGoal(legacy, 'main', 'long', 'Look around:\n- research the logs\n- research the metrics');
    const plan = await planOf(watcher, 'long');
    await watcher.event('agent.progress', () => progressOf(watcher, plan.planId).filter((p) => p.state === 'running').length === 2);
    expect(background.started).toEqual(['bg-0']);

    const asked = performance.now();
    const stop = await watcher.request('agent.control', { action: 'stop', runId: 'long' });
    const answeredMs = performance.now() - asked;
    const taskIds = plan.tasks.map((t) => t.taskId);
    expect(resultOf(stop, 'agent.control')).toEqual({ ok: true, affected: ['long', ...taskIds] });
    expect(answeredMs).toBeLessThan(500); // generous on a shared machine; the benchmark measures the p99
    // The events of the cancellation went out before the answer did.
    const cancelled = progressOf(watcher, plan.planId).filter((p) => p.state === 'cancelled').map((p) => p.taskId);
    expect(cancelled.sort()).toEqual([...taskIds].sort());
    // agent.status right after the answer already shows the stopped run and its cancelled tasks.
    const status = resultOf(await watcher.request('agent.status', { runId: 'long' }), 'agent.status');
    expect(status.runs[0]).toMatchObject({ state: 'aborted' });
    expect(status.runs[0]?.plan?.tasks.map((t) => t.state)).toEqual(['cancelled', 'cancelled']);
    // The worker jobs were aborted and the run ended aborted for every client.
    expect(research.aborted.sort()).toEqual([...taskIds].sort());
    const aborted = payloadOf(await legacy.event('chat', isChat('long', 'aborted')), 'chat');
    expect(aborted).toMatchObject({ state: 'aborted', stopReason: 'aborted' });
    // Background work went on untouched.
    expect(background.aborted).toEqual([]);
    const lanes = resultOf(await watcher.request('agent.status', {}), 'agent.status').lanes;
    expect(lanes.find((l) => l.name === 'background')).toMatchObject({ running: 1, queued: 4, maxQueue: 4 });
    expect(lanes.find((l) => l.name === 'research')).toMatchObject({ running: 0, queued: 0 });
  });

  it('a task that needs approval blocks the plan; resume approves it and the plan finishes', async () => {
    const gw = await startTestGateway();
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'ship', 'Ship it:\n1. Update the changelog\n2. Approve the release');
    const plan = await planOf(watcher, 'ship');
    const blocked = payloadOf(await watcher.event('agent.blocked'), 'agent.blocked') as AgentBlockedPayload;
    expect(blocked).toMatchObject({ runId: 'ship', planId: plan.planId, taskId: plan.tasks[1]?.taskId, needs: 'approval' });
    expect(blocked.reason).toContain('waits for approval');
    const final = payloadOf(await watcher.event('chat', isChat('ship', 'final')), 'chat');
    expect(JSON.stringify(final)).toContain('2. Approve the release — blocked: \\"Approve the release\\" waits for approval');
    let status = resultOf(await watcher.request('agent.status', { runId: 'ship' }), 'agent.status');
    expect(status.runs[0]).toMatchObject({ state: 'blocked' });
    expect(status.runs[0]?.plan?.tasks.map((t) => [t.state, t.hold])).toEqual([['done', undefined], ['blocked', 'approval']]);

    const resumed = resultOf(await watcher.request('agent.control', { action: 'resume', taskId: blocked.taskId }), 'agent.control');
    expect(resumed.affected).toEqual([blocked.taskId]);
    await watcher.event('agent.progress', (f) => (f.payload as { taskId?: string; state: string }).taskId === blocked.taskId && (f.payload as { state: string }).state === 'done');
    status = resultOf(await watcher.request('agent.status', { runId: 'ship' }), 'agent.status');
    expect(status.runs[0]).toMatchObject({ state: 'done' });
    expect(status.runs[0]?.plan?.tasks[1]?.result).toMatchObject({ kind: 'execution', outcome: 'approved' });
  });

  it('a task that fails every attempt becomes a dead letter, is reported blocked, and retry runs it again', async () => {
    let failing = true;
    const gw = await startTestGateway({
      config: { jobMaxAttempts: 2, jobBackoffBaseMs: 10, jobBackoffMaxMs: 20 },
      agentHandlers: new Map<string, JobHandler>([
        ['research', async () => {
          if (failing) throw new Error('the index is unreachable');
          return { result: { kind: 'research', query: 'x', documents: 0, hits: [] } };
        }],
      ]),
    });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'flaky', 'Dig:\n- research the outage');
    const plan = await planOf(watcher, 'flaky');
    const taskId = plan.tasks[0]?.taskId as string;
    const blocked = payloadOf(await watcher.event('agent.blocked'), 'agent.blocked');
    expect(blocked).toMatchObject({ taskId, needs: 'retry', reason: 'the index is unreachable' });
    await watcher.event('chat', isChat('flaky', 'final'));
    const states = progressOf(watcher, plan.planId).filter((p) => p.taskId === taskId).map((p) => p.state);
    expect(states).toEqual(['running', 'pending', 'running', 'failed']);
    let status = resultOf(await watcher.request('agent.status', {}), 'agent.status');
    expect(status.deadLetters).toEqual([expect.objectContaining({ jobId: taskId, taskId, runId: 'flaky', kind: 'research', lane: 'research', attempts: 2, lastError: 'the index is unreachable' })]);
    expect(status.runs.find((r) => r.runId === 'flaky')).toMatchObject({ state: 'blocked', plan: { tasks: [{ state: 'failed', deadLetter: true, attempts: 2 }] } });

    failing = false;
    expect(resultOf(await watcher.request('agent.control', { action: 'retry', runId: 'flaky' }), 'agent.control').affected).toEqual([taskId]);
    await watcher.event('agent.progress', (f) => (f.payload as { taskId?: string }).taskId === taskId && (f.payload as { state: string }).state === 'done');
    status = resultOf(await watcher.request('agent.status', {}), 'agent.status');
    expect(status.deadLetters).toEqual([]);
    expect(status.runs.find((r) => r.runId === 'flaky')).toMatchObject({ state: 'done' });
  });

  it('pause holds a task and resume lets it run', async () => {
    const research = untilAborted();
    const gw = await startTestGateway({ agentHandlers: new Map([['research', research.handler]]) });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'slow', 'Slow:\n- research everything\n- then write the summary');
    const plan = await planOf(watcher, 'slow');
    const [first, second] = plan.tasks.map((t) => t.taskId) as [string, string];
    await watcher.event('agent.progress', (f) => (f.payload as { taskId?: string; state: string }).taskId === first && (f.payload as { state: string }).state === 'running');
    expect(resultOf(await watcher.request('agent.control', { action: 'pause', runId: 'slow' }), 'agent.control').affected.sort()).toEqual([first, second].sort());
    expect(research.aborted).toEqual([first]);
    // Nothing of the plan can run by itself now, so the turn ends and says so.
    const final = payloadOf(await watcher.event('chat', isChat('slow', 'final')), 'chat');
    expect(JSON.stringify(final)).toContain('research everything — waiting (paused)');
    const paused = resultOf(await watcher.request('agent.status', { runId: 'slow' }), 'agent.status').runs[0];
    expect(paused?.plan?.tasks.map((t) => [t.state, t.hold, t.attempts])).toEqual([['pending', 'paused', 0], ['pending', 'paused', 0]]);
    expect(paused?.state).toBe('blocked');

    expect(resultOf(await watcher.request('agent.control', { action: 'resume', taskId: first }), 'agent.control').affected).toEqual([first]);
    await watcher.event('agent.progress', () => research.started.length === 2);
    expect(research.started).toEqual([first, first]);
    const cancelled = resultOf(await watcher.request('agent.control', { action: 'cancel', taskId: first }), 'agent.control').affected;
    expect(cancelled.sort()).toEqual([first, second].sort());
  });

  it('chat.abort of a planned run cancels its unfinished tasks', async () => {
    const research = untilAborted();
    const gw = await startTestGateway({ agentHandlers: new Map([['research', research.handler]]) });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'abort-me', 'Dig:\n- research the archive');
    const plan = await planOf(watcher, 'abort-me');
    await watcher.event('agent.progress', (f) => (f.payload as { state: string }).state === 'running');
    expect(resultOf(await watcher.request('chat.abort', { sessionKey: 'main' }), 'chat.abort').runIds).toEqual(['abort-me']);
    await watcher.event('chat', isChat('abort-me', 'aborted'));
    await watcher.event('agent.progress', (f) => (f.payload as { state: string }).state === 'cancelled');
    expect(research.aborted).toEqual([plan.tasks[0]?.taskId]);
    expect(resultOf(await watcher.request('agent.status', { runId: 'abort-me' }), 'agent.status').runs[0]?.state).toBe('aborted');
  });

  it('stop on a session aborts the active run and drops its queued turns', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'first', 'a slow reply streaming for a while');
    await sendGoal(watcher, 'main', 'second', 'queued behind it');
    await watcher.event('agent', (f) => (f.payload as { stream: string }).stream === 'assistant');
    const stop = resultOf(await watcher.request('agent.control', { action: 'stop', sessionKey: 'main' }), 'agent.control');
    expect(stop.affected).toEqual(['first', 'second']);
    await watcher.event('chat', isChat('first', 'aborted'));
    await watcher.event('chat', isChat('second', 'aborted'));
  });

  it('a session deleted with its transcript takes its plans and tasks along, the running one aborted', async () => {
    const research = untilAborted();
    // The other session's run waits for its task to the end: closing the gateway need not wait for it.
    const gw = await startTestGateway({ config: { shutdownGraceMs: 50 }, agentHandlers: new Map([['research', research.handler]]) });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    const admin = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'] });
    await sendGoal(watcher, 'kept', 'kept-goal', 'Other work:\n- research the garden');
    const kept = await planOf(watcher, 'kept-goal');
    await sendGoal(watcher, 'doomed', 'doomed-goal', 'Secret plan:\n- research the vault\n- research the keys');
    const doomed = await planOf(watcher, 'doomed-goal');
    await watcher.event('agent.progress', (f) => (f.payload as { planId: string; state: string }).planId === doomed.planId && (f.payload as { state: string }).state === 'running');

    expect(resultOf(await admin.request('sessions.delete', { key: 'doomed' }), 'sessions.delete').deleted).toBe(true);
    expect(research.aborted.filter((id) => doomed.tasks.some((task) => task.taskId === id))).toHaveLength(1);
    const db = new BetterSqlite3(join(gw.dataDir, DATABASE_FILE), { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    const count = (sql: string, ...args: string[]) => (db.prepare(sql).get(...args) as { n: number }).n;
    expect(count("SELECT count(*) AS n FROM plans WHERE session_key = 'agent:main:doomed'")).toBe(0);
    expect(count("SELECT count(*) AS n FROM jobs WHERE session_key = 'agent:main:doomed' OR plan_id = ?", doomed.planId)).toBe(0);
    expect(JSON.stringify(db.prepare('SELECT * FROM plans').all())).not.toContain('Secret plan');
    // Another session's plan goes on.
    expect(count('SELECT count(*) AS n FROM jobs WHERE plan_id = ?', kept.planId)).toBe(1);
    expect(resultOf(await watcher.request('agent.status', { runId: 'kept-goal' }), 'agent.status').runs).toHaveLength(1);
  });

  it('writes every agent.control to the audit log, and /metrics counts the jobs by state', async () => {
    const gw = await startTestGateway();
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'audited', 'Ship:\n1. Approve the release');
    const plan = await planOf(watcher, 'audited');
    await watcher.event('chat', isChat('audited', 'final'));
    const taskId = plan.tasks[0]?.taskId as string;
    resultOf(await watcher.request('agent.control', { action: 'cancel', taskId }), 'agent.control');
    const lines = readFileSync(join(gw.dataDir, AUDIT_LOG_FILE), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.event === 'agent.control')).toEqual([
      expect.objectContaining({ event: 'agent.control', action: 'cancel', taskId, affected: [taskId], actor: expect.objectContaining({ clientId: 'test' }) }),
    ]);
    const { text } = await scrape(gw.url);
    expect(sampleValue(text, 'brainstem_jobs', { state: 'failed' })).toBe(1);
    expect(sampleValue(text, 'brainstem_jobs', { state: 'dead' })).toBe(0);
  });

  it('answers an unknown run, an unknown task and a missing target with structured errors', async () => {
    const gw = await startTestGateway();
    const watcher = await planClient(gw.url, TEST_TOKEN);
    expect((await watcher.request('agent.control', { action: 'cancel', runId: 'nope' })).error).toMatchObject({ code: 'INVALID_REQUEST', details: { code: 'UNKNOWN_RUN' } });
    expect((await watcher.request('agent.control', { action: 'retry', taskId: 'nope' })).error).toMatchObject({ code: 'INVALID_REQUEST', details: { code: 'UNKNOWN_TASK' } });
    expect((await watcher.request('agent.status', { runId: 'nope' })).error).toMatchObject({ details: { code: 'UNKNOWN_RUN' } });
    expect((await watcher.request('agent.control', { action: 'cancel' })).error).toMatchObject({ code: 'INVALID_REQUEST', message: 'invalid agent.control params: taskId, runId or sessionKey is required' });
    expect((await watcher.request('agent.control', { action: 'explode', runId: 'x' })).error).toMatchObject({ code: 'INVALID_REQUEST' });
    const reader = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.read'], caps: ['agent.plan.v1'] });
    expect((await reader.request('agent.control', { action: 'stop', sessionKey: 'main' })).error).toMatchObject({ code: 'FORBIDDEN' });
    expect((await reader.request('agent.status', {})).ok).toBe(true);
    await roundTrip(reader);
  });
});
