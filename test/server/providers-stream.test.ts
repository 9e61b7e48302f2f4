/**
 * Model providers through the wire: a client sends chat.send to a gateway whose models point at the mock
 * OpenAI-compatible and Anthropic servers; each case checks what the client receives and what is stored.
 * This file: answers that arrive, however oddly they are cut or decorated. Failures: providers-failures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { captureLogs } from '../helpers/log-capture.js';
import { modelOn, startModelGateway, startVendorMock } from '../helpers/model-gateway.js';
import { TEST_KEY, VENDORS } from '../helpers/provider-vendors.js';
import { resultOf } from '../helpers/raw-client.js';
import { chatTurn, expectConsistent, wireRun } from '../helpers/run-outcome.js';
import { jpegBytes, PNG_1PX } from '../helpers/images.js';

const turn = (idempotencyKey: string, message = 'hello') => ({ sessionKey: 'main', message, idempotencyKey });

describe.each(VENDORS)('$name provider over the wire', (vendor) => {
  it('streams chunks split mid-line and mid-UTF-8 character into deltas that add up to the stored answer', async () => {
    const mock = await startVendorMock(vendor);
    const texts = ['Grüße, ', '世界 ', '🚀 — done.'];
    mock.enqueue(vendor.stream(texts, { splitBytes: 3 }));
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const { wire, stored } = await chatTurn(client, gw, turn('split'));
    expect(wire.terminal).toMatchObject({ state: 'final', stopReason: 'stop' });
    expect(wire.text).toBe(texts.join(''));
    expect(wire.text).not.toContain('\uFFFD');
    expectConsistent(wire, stored);
  });

  it('puts the usage in the final event and stores it with the turn, the run and the session counters', async () => {
    const mock = await startVendorMock(vendor);
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const first = await chatTurn(client, gw, turn('u1', 'one two three'));
    const second = await chatTurn(client, gw, turn('u2', 'four'));
    for (const { wire, stored } of [first, second]) {
      expect(wire.terminal.state).toBe('final');
      if (wire.terminal.state !== 'final') continue;
      const usage = wire.terminal.usage;
      expect(usage?.input).toBeGreaterThan(0);
      expect(usage?.output).toBeGreaterThan(0);
      expect(usage?.totalTokens).toBe((usage?.input ?? 0) + (usage?.output ?? 0));
      expectConsistent(wire, stored);
    }
    const usages = [first, second].map(({ wire }) => (wire.terminal.state === 'final' ? wire.terminal.usage : undefined));
    const input = usages.reduce((n, u) => n + (u?.input ?? 0), 0);
    const output = usages.reduce((n, u) => n + (u?.output ?? 0), 0);
    const list = resultOf(await client.request('sessions.list', {}), 'sessions.list');
    expect(list.sessions.find((s) => s.key === 'agent:main:main')).toMatchObject({ inputTokens: input, outputTokens: output, totalTokens: input + output });
  });

  it('sends the turn’s image attachments in the vendor’s format, with the text, and not again on the next turn', async () => {
    const mock = await startVendorMock(vendor);
    const { client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const attachments = [{ content: PNG_1PX }, { content: `data:image/jpeg;base64,${jpegBytes()}` }];
    await client.request('chat.send', { sessionKey: 'main', message: 'compare these', idempotencyKey: 'img', attachments });
    expect((await wireRun(client, 'img')).terminal.state).toBe('final');
    const user = (mock.requests[0]?.body?.messages as { role: string; content: unknown }[]).at(-1);
    const expected =
      vendor.name === 'openai'
        ? [
            { type: 'text', text: 'compare these' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpegBytes()}` } },
          ]
        : [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_1PX } },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: jpegBytes() } },
            { type: 'text', text: 'compare these' },
          ];
    expect(user).toEqual({ role: 'user', content: expected });
    await client.request('chat.send', { sessionKey: 'main', message: 'and now?', idempotencyKey: 'after' });
    await wireRun(client, 'after');
    const next = mock.requests[1]?.body?.messages as { role: string; content: unknown }[];
    expect(next.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['compare these', 'and now?']);
  });

  it('records which model and provider answered on the stored assistant message', async () => {
    const mock = await startVendorMock(vendor);
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const { wire, stored } = await chatTurn(client, gw, turn('who'));
    expect(wire.text).toBe('mock reply to: hello');
    expect(mock.requests[0]?.body?.model).toBe('primary-model');
    expect(stored.message).toMatchObject({ model: 'primary-model', provider: vendor.name });
    expect(wire.terminal.message).toMatchObject({ model: 'primary-model', provider: vendor.name });
  });

  it('reads past keep-alive comments and pings between chunks', async () => {
    const mock = await startVendorMock(vendor);
    mock.enqueue(vendor.stream(['kept ', 'alive'], { keepAlive: true, chunkDelayMs: 20 }));
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const { wire, stored } = await chatTurn(client, gw, turn('keepalive'));
    expect(wire.terminal.state).toBe('final');
    expect(wire.text).toBe('kept alive');
    expectConsistent(wire, stored);
  });

  it('ignores an unknown event type', async () => {
    const mock = await startVendorMock(vendor);
    mock.enqueue(vendor.stream(['before ', 'after'], { inject: vendor.unknownEvent }));
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const { wire, stored } = await chatTurn(client, gw, turn('unknown-event'));
    expect(wire.terminal.state).toBe('final');
    expect(wire.text).toBe('before after');
    expectConsistent(wire, stored);
  });

  it('skips a malformed chunk with a logged warning and finishes the answer', async () => {
    const mock = await startVendorMock(vendor);
    mock.enqueue(vendor.stream(['good ', 'answer'], { inject: vendor.malformedEvent }));
    const logs = captureLogs('warn');
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')], { logger: logs.logger });
    const { wire, stored } = await chatTurn(client, gw, turn('malformed'));
    expect(wire.terminal.state).toBe('final');
    expect(wire.text).toBe('good answer');
    expect(wire.text).not.toContain('LOST');
    expectConsistent(wire, stored);
    expect(logs.entries('model stream warning')).toEqual([expect.objectContaining({ providerId: 'primary', runId: 'malformed', code: 'malformed_event' })]);
    expect(logs.lines.join('')).not.toContain(TEST_KEY);
  });

  it('waits for a slow first token that is within the limit', async () => {
    const mock = await startVendorMock(vendor);
    mock.enqueue(vendor.stream(['late ', 'but fine'], { firstDelayMs: 400 }));
    const { gw, client } = await startModelGateway([modelOn(vendor, mock, 'primary')]);
    const { wire, stored } = await chatTurn(client, gw, turn('slow-ok'));
    expect(wire.terminal.state).toBe('final');
    expect(wire.text).toBe('late but fine');
    expectConsistent(wire, stored);
  });
});

describe('models.list', () => {
  it('lists every configured model, with available telling whether its key is present', async () => {
    const vendor = VENDORS[0]!;
    const mock = await startVendorMock(vendor);
    const { client } = await startModelGateway([
      { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', contextWindow: 128_000 },
      { id: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5' },
      { id: 'self-hosted', provider: 'openai', model: 'llama3.2', baseUrl: mock.url },
      // A hosted API behind a non-vendor URL (here: the mock), marked as needing a key; no turn is sent here.
      { id: 'hosted', provider: 'openai', model: 'hosted-model', baseUrl: mock.url, requiresApiKey: true, apiKey: TEST_KEY },
      { id: 'offline', provider: 'local', model: 'local-echo' },
    ]);
    const { models } = resultOf(await client.request('models.list', {}), 'models.list');
    expect(models).toEqual([
      { id: 'gpt', name: 'gpt-4o-mini', provider: 'openai', contextWindow: 128_000, available: false },
      { id: 'claude', name: 'claude-sonnet-4-5', provider: 'anthropic', available: false },
      { id: 'self-hosted', name: 'llama3.2', provider: 'openai', available: true },
      { id: 'hosted', name: 'hosted-model', provider: 'openai', available: true },
      { id: 'offline', name: 'local-echo', provider: 'local', available: true },
    ]);
    expect(JSON.stringify(models)).not.toContain(TEST_KEY);
  });

  it('leaves a model without its key out of the chain: the next one answers, and is the default shown', async () => {
    const vendor = VENDORS[0]!;
    const mock = await startVendorMock(vendor);
    const logs = captureLogs('info');
    const { gw, client } = await startModelGateway(
      [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' }, modelOn(vendor, mock, 'fallback')],
      { logger: logs.logger },
    );
    const { wire, stored } = await chatTurn(client, gw, turn('keyless'));
    expect(wire.statuses).toEqual([]);
    expect(mock.requests.map((r) => r.body?.model)).toEqual(['fallback-model']);
    expect(stored.message).toMatchObject({ model: 'fallback-model', provider: 'openai' });
    const agents = resultOf(await client.request('agents.list', {}), 'agents.list');
    // OpenClaw's shape: model ids as models.list names them; the keyless primary is not in the chain.
    expect(agents.agents[0]?.model).toEqual({ primary: 'fallback', fallbacks: [] });
    expect(logs.entries('model left out: it needs an API key and none is configured')).toEqual([expect.objectContaining({ model: 'gpt', provider: 'openai' })]);
  });
});
