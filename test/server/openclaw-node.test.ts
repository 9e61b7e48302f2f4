/**
 * The real `openclaw-node` client (0.14.0), used the way its users use it: token, a v2-signed device
 * identity kept in a file (here a temp file, never ~/.openclaw), `chat()` over the `agent` method.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OpenClawClient, type ChatChunk, type ProtocolEvent } from 'openclaw-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { EventPayload } from '../../protocol/events.js';
import type { MethodResult } from '../../protocol/registry.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { decodedSize, pdfBytes, PNG_1PX } from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';

const HOME_IDENTITY = join(homedir(), '.openclaw', 'device-identity.json');

function homeIdentityState(): string {
  return existsSync(HOME_IDENTITY) ? `exists, mtime ${statSync(HOME_IDENTITY).mtimeMs}` : 'absent';
}

interface Connected {
  client: OpenClawClient;
  identityPath: string;
  errors: Error[];
}

/** A connected client whose identity lives in a temp dir; disconnected when the test ends. */
async function connectClient(gw: TestGateway): Promise<Connected> {
  const identityPath = join(tempDir('brainstem-ocn-'), 'device-identity.json');
  const client = new OpenClawClient({ url: gw.url, token: TEST_TOKEN, deviceIdentityPath: identityPath, autoReconnect: false });
  const errors: Error[] = [];
  client.on('error', (err: Error) => errors.push(err));
  onTestFinished(() => client.disconnect());
  await client.connect();
  return { client, identityPath, errors };
}

async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

function until<T>(what: string, test: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const value = test();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

describe('openclaw-node', () => {
  let homeBefore: string;
  beforeAll(() => {
    homeBefore = homeIdentityState();
  });
  afterAll(() => {
    // The client defaults to ~/.openclaw/device-identity.json; the tests must never touch it.
    expect(homeIdentityState()).toBe(homeBefore);
  });

  it('connects with a token and a signed v2 device, and discovers the methods', async () => {
    const gw = await startTestGateway();
    const { client, identityPath, errors } = await connectClient(gw);
    expect(client.isConnected).toBe(true);
    expect(client.hasMethod('chat.send')).toBe(true);
    expect(client.hasMethod('agent')).toBe(true);
    expect(client.hasMethod('no.such.method')).toBe(false);
    const identity = JSON.parse(readFileSync(identityPath, 'utf8')) as { version: number; deviceId: string };
    expect(identity).toMatchObject({ version: 1, deviceId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const presence = gw.gateway.services.presence.entries();
    expect(presence.find((p) => p.deviceId === identity.deviceId)).toMatchObject({ clientId: 'gateway-client', mode: 'backend', scopes: ['operator.read', 'operator.write'] });
    expect(errors).toEqual([]);
  });

  it('is refused with a wrong token', async () => {
    const gw = await startTestGateway();
    const identityPath = join(tempDir('brainstem-ocn-'), 'device-identity.json');
    const client = new OpenClawClient({ url: gw.url, token: 'wrong-token', deviceIdentityPath: identityPath, autoReconnect: false });
    client.on('error', () => undefined);
    onTestFinished(() => client.disconnect());
    await expect(client.connect()).rejects.toThrow('WebSocket closed before handshake completed');
    expect(client.isConnected).toBe(false);
  });

  it('streams chat() as text chunks that join to the reply, ending with done', async () => {
    const gw = await startTestGateway();
    const { client, errors } = await connectClient(gw);
    const chunks = await collect(client.chat('hello from openclaw-node'));
    const text = chunks.filter((c) => c.type === 'text').map((c) => c.text).join('');
    expect(text).toBe(`${LOCAL_REPLY_PREFIX}hello from openclaw-node`);
    expect(chunks.filter((c) => c.type === 'text').length).toBeGreaterThan(1);
    expect(chunks[0]?.type).toBe('agent_start');
    expect(chunks.at(-1)?.type).toBe('done');
    expect(chunks.map((c) => c.type)).toContain('agent_end');
    expect(chunks.map((c) => c.type)).not.toContain('error');
    const runIds = new Set(chunks.map((c) => c.runId));
    expect(runIds.size).toBe(1);
    expect(errors).toEqual([]);
  });

  it('chat() with an image attachment shows it to the model; a non-image is refused with the reason', async () => {
    const gw = await startTestGateway();
    const { client } = await connectClient(gw);
    const image = { type: 'image', mimeType: 'image/png', fileName: 'dot.png', content: PNG_1PX };
    const chunks = await collect(client.chat('what is this?', { sessionKey: 'pics', attachments: [image] }));
    const text = chunks.filter((c) => c.type === 'text').map((c) => c.text).join('');
    expect(text).toBe(`${LOCAL_REPLY_PREFIX}what is this? (1 image: image/png, ${decodedSize(PNG_1PX)} bytes)`);
    const refused = await collect(client.chat('and this?', { sessionKey: 'pics', attachments: [{ fileName: 'a.pdf', content: pdfBytes() }] }));
    expect(refused[0]).toMatchObject({ type: 'error', text: 'attachment a.pdf: only PNG, JPEG, GIF and WebP images are supported' });
  });

  it('chatSync() returns the whole reply, and agentWait() reports the finished run', async () => {
    const gw = await startTestGateway();
    const { client } = await connectClient(gw);
    const chunks = await collect(client.chat('first', { sessionKey: 'sync' }));
    const runId = chunks[0]?.runId ?? '';
    expect(await client.chatSync('second', { sessionKey: 'sync' })).toBe(`${LOCAL_REPLY_PREFIX}second`);
    const wait = await client.agentWait(runId, { timeoutMs: 2000 });
    expect(wait).toMatchObject({ runId, status: 'ok', stopReason: 'stop' });
  });

  it('health(), sessions.list() and sessions.history() answer in the shapes the client expects', async () => {
    const gw = await startTestGateway();
    const { client } = await connectClient(gw);
    const health = (await client.health()) as MethodResult<'health'>;
    expect(health).toMatchObject({ ok: true, defaultAgentId: 'main' });
    await client.chatSync('remember me', { sessionKey: 'notes' });
    const list = (await client.sessions.list({ limit: 10 })) as MethodResult<'sessions.list'>;
    expect(list.sessions.map((s) => s.key)).toEqual(['agent:main:notes']);
    const history = (await client.sessions.history('notes', { limit: 10 })) as Extract<MethodResult<'chat.history'>, { sessionId: string }>;
    expect(history.sessionKey).toBe('agent:main:notes');
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(history.messages[0]?.content).toBe('remember me');
  });

  it('sessions.send() (chat.send without an idempotencyKey) is acked and runs', async () => {
    const gw = await startTestGateway();
    const { client } = await connectClient(gw);
    const ack = (await client.sessions.send('main', 'sent without a key')) as MethodResult<'chat.send'>;
    expect(ack).toMatchObject({ status: 'started', runId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await client.agentWait(ack.runId, { timeoutMs: 2000 })).toMatchObject({ status: 'ok' });
  });

  it('chatAbort() stops a slow run: the chat iterator ends and the run is aborted', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const { client } = await connectClient(gw);
    const chunks: ChatChunk[] = [];
    let firstText: () => void = () => undefined;
    const sawText = new Promise<void>((resolve) => (firstText = resolve));
    const streaming = (async () => {
      for await (const chunk of client.chat('a slow reply with many words in it', { sessionKey: 'slow' })) {
        chunks.push(chunk);
        if (chunk.type === 'text') firstText();
      }
    })();
    await sawText;
    const started = Date.now();
    const abort = (await client.chatAbort('slow')) as MethodResult<'chat.abort'>;
    await streaming;
    expect(Date.now() - started).toBeLessThan(500);
    const runId = chunks[0]?.runId ?? '';
    expect(abort).toEqual({ ok: true, aborted: true, runIds: [runId] });
    expect(chunks.at(-1)?.type).toBe('done');
    const text = chunks.filter((c) => c.type === 'text').map((c) => c.text).join('');
    expect(text.length).toBeLessThan(`${LOCAL_REPLY_PREFIX}a slow reply with many words in it`.length);
    expect(await client.agentWait(runId, { timeoutMs: 2000 })).toMatchObject({ runId, status: 'error', stopReason: 'aborted' });
  });

  it('sessions.subscribeMessages() delivers the session events of a run another client started', async () => {
    const gw = await startTestGateway();
    const { client: watcher } = await connectClient(gw);
    const { client: sender } = await connectClient(gw);
    const seen: ProtocolEvent[] = [];
    const sub = await watcher.sessions.subscribeMessages('watched', (event) => seen.push(event));
    onTestFinished(() => sub.unsubscribe());
    await sender.chatSync('for the watcher', { sessionKey: 'watched' });
    await sender.chatSync('elsewhere', { sessionKey: 'other' });
    const assistant = await until('the assistant session.message', () =>
      seen.find((e) => e.event === 'session.message' && (e.payload as EventPayload<'session.message'>).message.role === 'assistant'),
    );
    expect((assistant.payload as EventPayload<'session.message'>).sessionKey).toBe('agent:main:watched');
    const kinds = new Set(seen.map((e) => e.event));
    expect(kinds).toEqual(new Set(['session.message', 'chat', 'agent']));
    expect(seen.every((e) => (e.payload as { sessionKey?: string }).sessionKey === 'agent:main:watched')).toBe(true);

    // After unsubscribe the gateway stops sending session.message to the watcher (seen on the raw stream,
    // since unsubscribe() also removes the handler locally).
    await sub.unsubscribe();
    const raw: ProtocolEvent[] = [];
    watcher.on('event', (event: ProtocolEvent) => raw.push(event));
    await sender.chatSync('after unsubscribe', { sessionKey: 'watched' });
    await watcher.health();
    expect(raw.filter((e) => e.event === 'session.message')).toEqual([]);
    expect(raw.some((e) => e.event === 'chat')).toBe(true);
  });
});
