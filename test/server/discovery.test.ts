import { describe, expect, it } from 'vitest';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, resultOf } from '../helpers/raw-client.js';

describe('discovery methods', () => {
  it('agents.list gives the default agent with its identity and its model as {primary, fallbacks} (the Control UI reads model.primary)', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const agents = resultOf(await client.request('agents.list', {}), 'agents.list');
    expect(agents).toMatchObject({ defaultId: 'main', mainKey: 'main', scope: 'per-sender' });
    expect(agents.agents).toEqual([{ id: 'main', name: 'brainstem', identity: { name: 'brainstem', emoji: '🧠' }, model: { primary: 'local-echo', fallbacks: [] } }]);
  });

  it('models.list shows the local model as available', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const { models } = resultOf(await client.request('models.list', {}), 'models.list');
    expect(models).toEqual([expect.objectContaining({ id: 'local-echo', provider: 'local', available: true })]);
  });

  it('agent.identity.get names the built-in identity as the default source', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const identity = resultOf(await client.request('agent.identity.get', {}), 'agent.identity.get');
    expect(identity).toEqual({ agentId: 'main', name: 'brainstem', nameSource: 'default', emoji: '🧠' });
    const unknown = await client.request('agent.identity.get', { agentId: 'nobody' });
    expect(unknown.error).toMatchObject({ code: 'INVALID_REQUEST', message: 'unknown agent id "nobody"', details: { code: 'UNKNOWN_AGENT_ID' } });
  });

  it('answers the TUI and Control UI startup lists: commands, questions (none), plugin approvals (none), last heartbeat (none)', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'] });
    const { commands } = resultOf(await client.request('commands.list', {}), 'commands.list');
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['new', 'reset']));
    expect(resultOf(await client.request('question.list', {}), 'question.list')).toEqual({ questions: [] });
    expect(resultOf(await client.request('plugin.approval.list', {}), 'plugin.approval.list')).toEqual([]);
    expect(resultOf(await client.request('last-heartbeat', {}), 'last-heartbeat')).toBeNull();
  });

  it('keeps question.list behind operator.questions and plugin.approval.list behind operator.approvals', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.read', 'operator.write'] });
    expect((await client.request('question.list', {})).error).toMatchObject({ code: 'FORBIDDEN', message: 'missing scope: operator.questions' });
    expect((await client.request('plugin.approval.list', {})).error).toMatchObject({ code: 'FORBIDDEN', message: 'missing scope: operator.approvals' });
  });
});
