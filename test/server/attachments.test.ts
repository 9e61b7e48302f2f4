/**
 * Image attachments over the wire (chat.send, sessions.send, agent): stored with the user message, shown to the
 * model with the turn, and every attachment that is not a valid image within the limit refused before anything
 * is stored. The vendors' request formats: providers-stream.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { decodedSize, gifBytes, jpegBytes, pdfBytes, PNG_1PX, webpBytes } from '../helpers/images.js';
import { RawClient, connectParams, payloadOf, resultOf, type Frame } from '../helpers/raw-client.js';

const isFinal = (runId: string) => (f: Frame) =>
  f.event === 'chat' && (f.payload as { runId?: string; state?: string }).runId === runId && (f.payload as { state?: string }).state === 'final';

async function finalText(client: RawClient, runId: string): Promise<string> {
  const final = payloadOf(await client.event('chat', isFinal(runId)), 'chat');
  if (final.state !== 'final') throw new Error('unreachable');
  const block = final.message?.content[0];
  return typeof block === 'object' && block.type === 'text' ? block.text : '';
}

async function history(client: RawClient) {
  const page = resultOf(await client.request('chat.history', { sessionKey: 'main' }), 'chat.history');
  return 'messages' in page ? page.messages : [];
}

async function connect(config: Record<string, unknown> = {}): Promise<{ gw: TestGateway; client: RawClient }> {
  const gw = await startTestGateway({ config });
  return { gw, client: await RawClient.connect(gw.url, { token: TEST_TOKEN }) };
}

describe('image attachments', () => {
  it('stores the image with the user message and shows it to the model with the turn', async () => {
    const { client } = await connect();
    const attachments = [{ type: 'image', mimeType: 'image/png', fileName: 'dot.png', content: PNG_1PX }];
    const ack = resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'what is this?', idempotencyKey: 'img-1', attachments }), 'chat.send');
    expect(ack).toEqual({ runId: 'img-1', status: 'started', messageSeq: 1 });
    // The local provider cannot see; it says what it was shown.
    expect(await finalText(client, 'img-1')).toBe(`${LOCAL_REPLY_PREFIX}what is this? (1 image: image/png, ${decodedSize(PNG_1PX)} bytes)`);
    const [user] = await history(client);
    expect(user).toMatchObject({
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image', data: PNG_1PX, mimeType: 'image/png' },
      ],
    });
  });

  it('tells the format by the bytes, takes data URLs, and keeps several images in order', async () => {
    const { client } = await connect();
    const attachments = [
      // Declared PNG, but the bytes are a JPEG: the bytes win.
      { mimeType: 'image/png', content: jpegBytes() },
      { content: `data:image/gif;base64,${gifBytes()}` },
      { content: `  ${webpBytes()}\n` },
    ];
    await client.request('chat.send', { sessionKey: 'main', message: '', idempotencyKey: 'img-2', attachments });
    expect(await finalText(client, 'img-2')).toBe(`${LOCAL_REPLY_PREFIX}(3 images: image/jpeg, 64 bytes; image/gif, 64 bytes; image/webp, 64 bytes)`);
    const [user] = await history(client);
    // No text block for an empty message.
    expect(user?.content).toEqual([
      { type: 'image', data: jpegBytes(), mimeType: 'image/jpeg' },
      { type: 'image', data: gifBytes(), mimeType: 'image/gif' },
      { type: 'image', data: webpBytes(), mimeType: 'image/webp' },
    ]);
  });

  it('refuses what is not a valid image within the limit with INVALID_REQUEST, stores nothing, and goes on', async () => {
    const { client } = await connect({ attachmentMaxBytes: 1_024 });
    const refusals: [unknown, string][] = [
      [{ fileName: 'report.pdf', content: pdfBytes() }, 'attachment report.pdf: only PNG, JPEG, GIF and WebP images are supported'],
      [{ type: 'image', content: 'not base64!' }, 'attachment image: invalid base64 content'],
      [{ content: 'iVBORw0KGgo' }, 'attachment attachment-1: invalid base64 content'],
      [{ fileName: 'empty.png', content: '  ' }, 'attachment empty.png: empty payload'],
      [{ fileName: 'none.png' }, 'attachment none.png: content must be a base64 string'],
      [{ fileName: 'big.jpg', content: jpegBytes(1_025) }, 'attachment big.jpg: exceeds size limit (1025 > 1024 bytes)'],
    ];
    for (const [i, [attachment, message]] of refusals.entries()) {
      const res = await client.request('chat.send', { sessionKey: 'main', message: 'look', idempotencyKey: `bad-${i}`, attachments: [attachment] });
      expect(res.error, message).toEqual({ code: 'INVALID_REQUEST', message });
    }
    expect(await history(client)).toEqual([]);
    // One bad attachment refuses the whole turn; the exact limit passes, and the same key can then be used.
    const second = await client.request('chat.send', { sessionKey: 'main', message: 'look', idempotencyKey: 'bad-0', attachments: [{ content: jpegBytes(1_024) }, { content: pdfBytes() }] });
    expect(second.error?.message).toBe('attachment attachment-2: only PNG, JPEG, GIF and WebP images are supported');
    expect(resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'look', idempotencyKey: 'bad-0', attachments: [{ content: jpegBytes(1_024) }] }), 'chat.send').status).toBe('started');
    await client.event('chat', isFinal('bad-0'));
    expect(await history(client)).toHaveLength(2);
  });

  it('checks the attachments of sessions.send and agent the same way', async () => {
    const { client } = await connect();
    const bad = [{ fileName: 'notes.txt', content: Buffer.from('hello').toString('base64') + '===' }];
    expect((await client.request('sessions.send', { key: 'main', message: 'x', idempotencyKey: 's-bad', attachments: bad })).error).toMatchObject({ code: 'INVALID_REQUEST', message: 'attachment notes.txt: invalid base64 content' });
    expect((await client.request('agent', { sessionKey: 'main', message: 'x', idempotencyKey: 'a-bad', attachments: bad })).error).toMatchObject({ code: 'INVALID_REQUEST', message: 'attachment notes.txt: invalid base64 content' });
    // agent's schema takes any objects: the content's type is checked here too.
    expect((await client.request('agent', { sessionKey: 'main', message: 'x', idempotencyKey: 'a-bad', attachments: [{ content: 42 }] })).error).toMatchObject({ code: 'INVALID_REQUEST', message: 'attachment attachment-1: content must be a base64 string' });
    const good = [{ content: PNG_1PX }];
    await client.request('sessions.send', { key: 'main', message: 'via sessions.send', idempotencyKey: 's-good', attachments: good });
    expect(await finalText(client, 's-good')).toContain('(1 image: image/png');
    const accepted = await client.request('agent', { sessionKey: 'main', message: 'via agent', idempotencyKey: 'a-good', attachments: good });
    expect(resultOf(accepted, 'agent')).toMatchObject({ status: 'accepted' });
    expect(await finalText(client, 'a-good')).toContain('(1 image: image/png');
    const users = (await history(client)).filter((m) => m.role === 'user');
    expect(users.map((m) => m.content)).toEqual([
      [{ type: 'text', text: 'via sessions.send' }, { type: 'image', data: PNG_1PX, mimeType: 'image/png' }],
      [{ type: 'text', text: 'via agent' }, { type: 'image', data: PNG_1PX, mimeType: 'image/png' }],
    ]);
  });

  it('counts the images as part of the request for idempotency', async () => {
    const { client } = await connect();
    const send = (content: string) => client.request('chat.send', { sessionKey: 'main', message: 'same text', idempotencyKey: 'idem', attachments: [{ content }] });
    expect(resultOf(await send(PNG_1PX), 'chat.send').status).toBe('started');
    await client.event('chat', isFinal('idem'));
    expect(resultOf(await send(PNG_1PX), 'chat.send').status).toBe('ok');
    expect((await send(jpegBytes())).error).toMatchObject({ code: 'INVALID_REQUEST', details: { reason: 'chat-request-conflict' } });
  });

  it('shows only the turn’s own images to the model, not those of earlier turns', async () => {
    const { client } = await connect();
    await client.request('chat.send', { sessionKey: 'main', message: 'first', idempotencyKey: 't1', attachments: [{ content: PNG_1PX }] });
    await client.event('chat', isFinal('t1'));
    await client.request('chat.send', { sessionKey: 'main', message: 'second', idempotencyKey: 't2' });
    expect(await finalText(client, 't2')).toBe(`${LOCAL_REPLY_PREFIX}second`);
  });

  it('tells clients the limit in hello-ok', async () => {
    const gw = await startTestGateway({ config: { attachmentMaxBytes: 2_000_000 } });
    const client = await RawClient.open(gw.url);
    const hello = await client.request('connect', connectParams({ token: TEST_TOKEN }));
    expect((hello.payload as { policy: unknown }).policy).toMatchObject({ attachments: { maxBytes: 2_000_000, maxImageBytes: 2_000_000 } });
  });
});
