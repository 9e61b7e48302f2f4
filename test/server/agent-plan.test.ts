import { describe, expect, it, onTestFinished } from 'vitest';
import type { AgentPlanPayload } from '../../protocol/methods/agent-plan.js';
import type { HelloOk } from '../../protocol/methods/connect.js';
import type { EventName } from '../../protocol/events.js';
import { eventValidator } from '../../protocol/validators.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { OpenAIProvider } from '../../workers/providers/openai.js';
import { PLANNER_INSTRUCTIONS } from '../../workers/brain/model-planner.js';
import { SYNTHESIS_INSTRUCTIONS } from '../../workers/brain/synthesis.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { openaiScript, startMockOpenAI, defaultOpenAIReply, type MockRequest } from '../helpers/mock-openai.js';
import { RawClient, connectParams, payloadOf, resultOf } from '../helpers/raw-client.js';
import { isChat, roundTrip } from '../helpers/turns.js';
import { isEvent, maxRunningAtOnce, planClient, progressOf, sendGoal, workspaceWith } from '../helpers/agent-plan.js';
import { eventually } from '../helpers/jobs.js';

const DOCS = {
  'notes/pricing.md': '# Pricing\n\nThe starter plan costs 12 euros a month. Annual billing gets two months free.',
  'notes/competitors.md': '# Competitors\n\nAcme sells a similar gateway for 30 euros; Globex has no offline mode.',
  'notes/launch.md': '# Launch checklist\n\nPress release, changelog, and a pricing page update before the launch day.',
};

const GOAL = 'Prepare the launch:\n1. Research the pricing notes\n2. Research the competitors\n3. Research the launch checklist';

function finalText(payload: unknown): string {
  const content = (payload as { message?: { content?: { text: string }[] } }).message?.content ?? [];
  return content.map((block) => block.text).join('');
}

/** Chat and agent events as JSON, with clock values and MemoryIDs masked (they differ between two gateways). */
function masked(client: RawClient): string[] {
  return client.frames
    .filter((f) => f.event === 'chat' || f.event === 'agent')
    .map((f) => JSON.stringify({ event: f.event, payload: f.payload }))
    .map((json) => json.replace(/"(ts|timestamp|startedAt|endedAt)":\d+/g, '"$1":0').replace(/[0-9A-HJKMNP-TV-Z]{26}/g, '<id>'));
}

describe('agent.plan.v1 over WebSocket', () => {
  it('plans three research tasks, runs them at most two at a time, reports every change, and answers from their results', async () => {
    const workspace = workspaceWith(DOCS);
    const gw = await startTestGateway({ config: { workspace, laneResearchConcurrency: 2 } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    const legacy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await sendGoal(legacy, 'main', 'goal-1', GOAL);
    const final = payloadOf(await legacy.event('chat', isChat('goal-1', 'final')), 'chat');
    const plan = payloadOf(await watcher.event('agent.plan', isEvent('agent.plan', 'goal-1')), 'agent.plan') as AgentPlanPayload;
    expect(plan).toMatchObject({ runId: 'goal-1', sessionKey: 'agent:main:main', goal: 'Prepare the launch' });
    expect(plan.tasks.map((t) => [t.title, t.worker, t.dependsOn])).toEqual([
      ['Research the pricing notes', 'research', []],
      ['Research the competitors', 'research', []],
      ['Research the launch checklist', 'research', []],
    ]);
    await roundTrip(watcher);
    const progress = progressOf(watcher, plan.planId);
    const ids = new Set(plan.tasks.map((t) => t.taskId));
    // Counted from the events, not timed: two ran together, never three.
    expect(maxRunningAtOnce(progress, ids)).toBe(2);
    for (const id of ids) expect(progress.filter((p) => p.taskId === id).map((p) => p.state)).toEqual(['running', 'done']);
    expect(progress.at(-1)).toMatchObject({ state: 'done', progress: 1, message: 'plan done: 3/3 tasks done' });
    const fractions = progress.map((p) => p.progress);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(new Set(fractions)).toEqual(new Set([0, 1 / 3, 2 / 3, 1]));

    const text = finalText(final);
    expect(text.startsWith(`${LOCAL_REPLY_PREFIX}Prepare the launch:`)).toBe(true);
    expect(text).toContain('\n\nPlan: Prepare the launch\n1. Research the pricing notes — done: found');
    expect(text).toMatch(/notes\/pricing\.md \[[0-9A-HJKMNP-TV-Z]{26}\]: "# Pricing The starter plan costs 12 euros/);
    expect(text).toMatch(/3\. Research the launch checklist — done: found 1 passage — notes\/launch\.md/);
    // The legacy client got the whole reply, and none of the extension's events.
    expect(legacy.events().filter((f) => f.event?.startsWith('agent.'))).toEqual([]);
    // Every extension event matches its one definition in protocol/.
    for (const frame of watcher.events().filter((f) => f.event?.startsWith('agent.'))) {
      const validate = eventValidator(frame.event as EventName);
      expect(validate(frame.payload), `${frame.event} ${JSON.stringify(validate.errors)}`).toBe(true);
    }

    const status = resultOf(await watcher.request('agent.status', { runId: 'goal-1' }), 'agent.status');
    expect(status.runs).toHaveLength(1);
    expect(status.runs[0]).toMatchObject({ runId: 'goal-1', state: 'done', plan: { planId: plan.planId } });
    expect(status.runs[0]?.plan?.tasks.map((t) => [t.state, t.progress, t.attempts])).toEqual([['done', 1, 1], ['done', 1, 1], ['done', 1, 1]]);
    const research = status.runs[0]?.plan?.tasks[0]?.result as { kind: string; hits: { id: string; path: string }[] };
    expect(research.kind).toBe('research');
    expect(research.hits.map((hit) => hit.path)).toContain('notes/pricing.md');
    expect(research.hits.every((hit) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(hit.id))).toBe(true);
    // The research hits are memory's document items: memory.query finds them by the same MemoryIDs.
    const pricing = research.hits.find((hit) => hit.path === 'notes/pricing.md');
    const documents = resultOf(await watcher.request('memory.query', { kinds: ['document'], text: 'starter plan' }), 'memory.query');
    expect(documents.items.map((item) => item.id)).toContain(pricing?.id);
    expect(documents.items.find((item) => item.id === pricing?.id)).toMatchObject({ kind: 'document', sessionKey: 'global' });
    expect(status.lanes.map((l) => l.name)).toEqual(['turns', 'interactive', 'research', 'background']);
    expect(status.lanes.find((l) => l.name === 'research')).toMatchObject({ running: 0, concurrency: 2, maxQueue: 256 });
    // The plan's results go into memory as a document by a side-effecting job, recorded once, first time round
    // (its effect commits on the memory store's connection, its record on the job table's).
    const store = gw.gateway.services.agent?.runtime.store;
    await eventually(() => store?.get(`job_memory_${plan.planId}`)?.state === 'done');
    expect(store?.get(`job_memory_${plan.planId}`)).toMatchObject({ state: 'done', attempts: 1, lastError: undefined });
  });

  it('gives a legacy client byte-for-byte the chat stream it gets when no client uses the extension', async () => {
    const run = async (otherCaps: string[]): Promise<string[]> => {
      const gw = await startTestGateway({ config: { workspace: workspaceWith(DOCS), chatDeltaIntervalMs: 0 } });
      const other = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: otherCaps });
      const legacy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
      await sendGoal(other, 'main', 'goal-1', GOAL);
      await legacy.event('chat', isChat('goal-1', 'final'));
      await roundTrip(legacy);
      await gw.close();
      return masked(legacy);
    };
    const alone = await run([]);
    const beside = await run(['agent.plan.v1']);
    expect(alone.length).toBeGreaterThan(6);
    expect(beside).toEqual(alone);
  });

  it('plans for the agent method too: its final result carries the whole reply', async () => {
    const gw = await startTestGateway();
    const watcher = await planClient(gw.url, TEST_TOKEN);
    watcher.send({ type: 'req', id: 'ag', method: 'agent', params: { message: 'Steps:\n- rename the branch', idempotencyKey: 'agent-plan' } });
    const accepted = await watcher.next((f) => f.type === 'res' && f.id === 'ag');
    const final = await watcher.next((f) => f.type === 'res' && f.id === 'ag' && f !== accepted);
    expect(final).toMatchObject({ ok: true, payload: { runId: 'agent-plan', status: 'ok', summary: 'completed' } });
    expect(JSON.stringify(final.payload)).toContain('Plan: Steps\\n1. rename the branch — done: recorded');
    expect(watcher.events('agent.plan')).toHaveLength(1);
  });

  it('makes no plan for a message that needs none: the turn is a plain turn', async () => {
    const gw = await startTestGateway();
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'plain', 'just say hello');
    const final = payloadOf(await watcher.event('chat', isChat('plain', 'final')), 'chat');
    expect(finalText(final)).toBe(`${LOCAL_REPLY_PREFIX}just say hello`);
    await roundTrip(watcher);
    expect(watcher.events().filter((f) => f.event?.startsWith('agent.'))).toEqual([]);
  });

  it('with a real model, asks for the plan as JSON, recovers it from prose, and has the model write the final answer from the results', async () => {
    const plan = { goal: 'Price check', tasks: [{ id: 'a', title: 'Research the pricing notes', worker: 'research' }, { id: 'b', title: 'Record the price', worker: 'execution', dependsOn: ['a'] }] };
    const mock = await startMockOpenAI({
      respond: (request: MockRequest) => {
        const system = (request.body?.messages as { role: string; content: string }[] | undefined)?.[0]?.content ?? '';
        if (system.includes(PLANNER_INSTRUCTIONS.slice(0, 40))) return openaiScript.stream(['Sure, here is my plan:\n```json\n', JSON.stringify(plan), '\n```\nThat should do.']);
        if (system.includes(SYNTHESIS_INSTRUCTIONS)) return openaiScript.stream(['The starter plan is ', '12 euros (notes/pricing.md).']);
        return defaultOpenAIReply(request);
      },
    });
    onTestFinished(() => mock.close());
    const provider = new OpenAIProvider({
      config: { id: 'primary', provider: 'openai', model: 'mock-model', baseUrl: mock.url, apiKey: 'sk-test' },
      timeouts: { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000, runMs: 15_000 },
    });
    const gw = await startTestGateway({ provider, config: { workspace: workspaceWith(DOCS), plannerMode: 'model' } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'model-1', 'How much is the starter plan?');
    const final = payloadOf(await watcher.event('chat', isChat('model-1', 'final')), 'chat');
    expect(finalText(final)).toBe('mock reply to: How much is the starter plan?\n\nThe starter plan is 12 euros (notes/pricing.md).');
    const announced = payloadOf(await watcher.event('agent.plan'), 'agent.plan');
    expect(announced.goal).toBe('Price check');
    expect(announced.tasks.map((t) => t.title)).toEqual(['Research the pricing notes', 'Record the price']);
    expect(announced.tasks[1]?.dependsOn).toEqual([announced.tasks[0]?.taskId]);
    // The synthesis request carried the structured results, research hits with their MemoryIDs included.
    const synthesis = mock.messages(2).find((m) => m.role === 'user')?.content ?? '';
    expect(synthesis).toContain('"kind":"research"');
    expect(synthesis).toMatch(/"path":"notes\/pricing\.md"/);
    expect(mock.requests).toHaveLength(3);
  });

  it('with a real model and plannerMode auto, asks for a plan only when the message lists steps', async () => {
    const mock = await startMockOpenAI({
      respond: (request: MockRequest) => {
        const system = (request.body?.messages as { role: string; content: string }[] | undefined)?.[0]?.content ?? '';
        if (system.includes(PLANNER_INSTRUCTIONS.slice(0, 40))) return openaiScript.stream(['{"tasks": []}']);
        return defaultOpenAIReply(request);
      },
    });
    onTestFinished(() => mock.close());
    const gw = await startTestGateway({ config: { provider: 'openai', model: 'mock-model', openaiBaseUrl: mock.url, openaiApiKey: 'sk-test' } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'plain', 'how are you?');
    await watcher.event('chat', isChat('plain', 'final'));
    expect(mock.requests).toHaveLength(1);
    await sendGoal(watcher, 'main', 'listed', 'Please:\n- look into the logs\n- fix the build');
    const final = payloadOf(await watcher.event('chat', isChat('listed', 'final')), 'chat');
    expect(mock.requests).toHaveLength(3);
    expect(mock.messages(2)[0]?.content).toContain(PLANNER_INSTRUCTIONS.slice(0, 40));
    // The model answered with no tasks: the turn is its reply, no plan.
    expect(finalText(final)).toBe('mock reply to: Please:\n- look into the logs\n- fix the build');
    expect(watcher.events('agent.plan')).toEqual([]);
  });

  it('with a real model whose plan answer is not a valid plan, ends the turn with its reply and no plan', async () => {
    const mock = await startMockOpenAI({
      respond: (request: MockRequest) => {
        const system = (request.body?.messages as { role: string; content: string }[] | undefined)?.[0]?.content ?? '';
        if (system.includes(PLANNER_INSTRUCTIONS.slice(0, 40))) return openaiScript.stream(['{"tasks": [{"title": "loop", "dependsOn": [1]}]}']);
        return defaultOpenAIReply(request);
      },
    });
    onTestFinished(() => mock.close());
    const provider = new OpenAIProvider({
      config: { id: 'primary', provider: 'openai', model: 'mock-model', baseUrl: mock.url, apiKey: 'sk-test' },
      timeouts: { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000, runMs: 15_000 },
    });
    const gw = await startTestGateway({ provider, config: { plannerMode: 'model' } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'model-2', 'hello');
    const final = payloadOf(await watcher.event('chat', isChat('model-2', 'final')), 'chat');
    expect(final).toMatchObject({ state: 'final', stopReason: 'stop' });
    expect(finalText(final)).toBe('mock reply to: hello');
    expect(watcher.events('agent.plan')).toEqual([]);
  });
});

describe('feature flags', () => {
  it('agentRuntimeV1 off: the plain gateway (no extension, no agent.* methods, no plans)', async () => {
    const gw = await startTestGateway({ config: { agentRuntimeV1: false, memoryV1: false } });
    const client = await RawClient.open(gw.url);
    const hello = await client.request('connect', connectParams({ token: TEST_TOKEN, caps: ['agent.plan.v1'] }));
    const features = (hello.payload as HelloOk).features;
    expect(features.capabilities).toEqual([]);
    expect(features.methods).not.toContain('agent.status');
    expect(features.methods).not.toContain('agent.control');
    expect(features.events.filter((e) => e.startsWith('agent.'))).toEqual([]);
    expect((await client.request('agent.status', {})).error).toMatchObject({ code: 'INVALID_REQUEST', message: 'unknown method: agent.status' });
    await sendGoal(client, 'main', 'flat', GOAL);
    const final = payloadOf(await client.event('chat', isChat('flat', 'final')), 'chat');
    expect(finalText(final)).toBe(`${LOCAL_REPLY_PREFIX}${GOAL}`);
    expect(client.events('session.ack')).toEqual([]);
  });

  it('workersV1 off: agent.status and agent.control answer, but turns are not planned and no pool runs', async () => {
    const gw = await startTestGateway({ config: { workersV1: false } });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    await sendGoal(watcher, 'main', 'unplanned', GOAL);
    const final = payloadOf(await watcher.event('chat', isChat('unplanned', 'final')), 'chat');
    expect(finalText(final)).toBe(`${LOCAL_REPLY_PREFIX}${GOAL}`);
    const status = resultOf(await watcher.request('agent.status', {}), 'agent.status');
    expect(status.lanes.map((l) => l.name)).toEqual(['turns']);
    expect(status.runs).toEqual([]);
    expect(watcher.events('agent.plan')).toEqual([]);
  });
});
