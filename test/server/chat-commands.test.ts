import { describe, expect, it } from 'vitest';
import { parseChatCommand } from '../../workers/chat-commands.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf } from '../helpers/raw-client.js';
import { isChat } from '../helpers/turns.js';

async function finalText(client: RawClient, runId: string): Promise<string> {
  const final = payloadOf(await client.event('chat', isChat(runId, 'final')), 'chat');
  if (final.state !== 'final' || final.message === undefined) throw new Error(`no final message for ${runId}`);
  const content = final.message.content;
  return typeof content === 'string' ? content : content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

describe('parseChatCommand', () => {
  it.each([
    ['/status', 'status'],
    ['  /HELP  ', 'help'],
    ['/new please', 'new'],
  ])('reads %j as /%s', (text, name) => expect(parseChatCommand(text)?.name).toBe(name));

  it.each(['/unknown', 'status', 'say /status', '/', '//status'])('leaves %j to the model', (text) => expect(parseChatCommand(text)).toBeUndefined());
});

describe('slash commands in chat', () => {
  it('answers /status and /help itself instead of asking the model', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: '/status', idempotencyKey: 's1' });
    const status = await finalText(client, 's1');
    expect(status).toMatch(/^brainstem /);
    expect(status).toContain('Session agent:main:main');
    expect(status).toContain('Model: local-echo');
    await client.request('chat.send', { sessionKey: 'main', message: '/help', idempotencyKey: 'h1' });
    expect(await finalText(client, 'h1')).toContain('/status — ');
    const history = resultOf(await client.request('chat.history', { sessionKey: 'main' }), 'chat.history');
    if (!('messages' in history)) throw new Error('expected a page');
    expect(history.messages.filter((m) => m.role === 'assistant').map((m) => [m.model, m.provider, m.stopReason])).toEqual([
      ['command', 'brainstem', 'command'],
      ['command', 'brainstem', 'command'],
    ]);
  });

  it('/new starts a new session once, even when the request is repeated', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'before', idempotencyKey: 'b1' });
    await client.event('chat', isChat('b1', 'final'));
    const before = resultOf(await client.request('sessions.describe', { key: 'main' }), 'sessions.describe').session.sessionId;
    await client.request('chat.send', { sessionKey: 'main', message: '/new', idempotencyKey: 'n1' });
    expect(await finalText(client, 'n1')).toBe('New session started.');
    const after = resultOf(await client.request('sessions.describe', { key: 'main' }), 'sessions.describe').session.sessionId;
    expect(after).not.toBe(before);
    expect(resultOf(await client.request('chat.send', { sessionKey: 'main', message: '/new', idempotencyKey: 'n1' }), 'chat.send').status).toBe('ok');
    expect(resultOf(await client.request('sessions.describe', { key: 'main' }), 'sessions.describe').session.sessionId).toBe(after);
    const history = resultOf(await client.request('chat.history', { sessionKey: 'main' }), 'chat.history');
    if (!('messages' in history)) throw new Error('expected a page');
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('/stop aborts the running turn of the session at once', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 300 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'a slow answer please', idempotencyKey: 'slow' });
    await client.event('agent', (f) => (f.payload as { runId: string; data: { phase?: string } }).runId === 'slow');
    await client.request('chat.send', { sessionKey: 'main', message: '/stop', idempotencyKey: 'stop' });
    await client.event('chat', isChat('slow', 'aborted'));
    expect(await finalText(client, 'stop')).toBe('Stopped 1 run.');
  });

  it('lists the commands in commands.list', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const { commands } = resultOf(await client.request('commands.list', {}), 'commands.list');
    expect(commands.map((c) => c.name)).toEqual(['help', 'commands', 'status', 'models', 'new', 'reset', 'stop']);
  });
});
