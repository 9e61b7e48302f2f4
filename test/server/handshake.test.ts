import { generateKeyPairSync, createHash, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import type { HelloOk } from '../../protocol/methods/connect.js';
import { validateHelloOk } from '../../protocol/validators.js';
import { RawClient, connectParams, payloadOf } from '../helpers/raw-client.js';

function base64url(buf: Buffer): string {
  return buf.toString('base64url');
}

function deviceKeys(): { id: string; publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
  return { id: createHash('sha256').update(raw).digest('hex'), publicKey: base64url(raw), privateKey };
}

/** A v2 device block as openclaw-node signs it. */
function signedDevice(keys: ReturnType<typeof deviceKeys>, nonce: string, options: { signedAt?: number; scopes?: string[]; token?: string } = {}) {
  const signedAt = options.signedAt ?? Date.now();
  const payload = ['v2', keys.id, 'test', 'test', 'operator', (options.scopes ?? ['operator.read', 'operator.write']).join(','), String(signedAt), options.token ?? TEST_TOKEN, nonce].join('|');
  return { id: keys.id, publicKey: keys.publicKey, signature: base64url(sign(null, Buffer.from(payload), keys.privateKey)), signedAt, nonce };
}

describe('handshake', () => {
  it('sends connect.challenge first, without seq', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const challenge = client.frames[0];
    expect(challenge).toMatchObject({ type: 'event', event: 'connect.challenge' });
    expect(challenge?.seq).toBeUndefined();
    const payload = challenge?.payload as { nonce: string; ts: number; capabilities: string[] };
    expect(payload.nonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isInteger(payload.ts)).toBe(true);
    expect(payload.capabilities).toEqual(['model-catalog-snapshot']);
  });

  it('accepts the minimal token-only connect and answers a complete hello-ok', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', {
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: 'cli', version: '1', platform: 'linux', mode: 'cli' },
      auth: { token: TEST_TOKEN },
    });
    expect(res.ok).toBe(true);
    const hello = res.payload as HelloOk;
    expect(hello).toMatchObject({
      type: 'hello-ok',
      protocol: 4,
      auth: { role: 'operator', scopes: [] },
      policy: { maxPayload: 26_214_400, maxBufferedBytes: 52_428_800, tickIntervalMs: 30_000 },
      snapshot: { sessionDefaults: { defaultAgentId: 'main', mainKey: 'main', mainSessionKey: 'agent:main:main' } },
    });
    expect(hello.features.methods).toEqual(expect.arrayContaining(['chat.send', 'chat.history', 'agent', 'sessions.list', 'health']));
    expect(hello.features.events).toEqual(expect.arrayContaining(['chat', 'agent', 'tick', 'presence', 'shutdown']));
    expect(hello.snapshot.presence.length).toBeGreaterThan(0);
    // Assembled from pieces serialized apart (the presence list is kept as JSON): still the schema's shape.
    const validate = validateHelloOk();
    expect(validate(hello), JSON.stringify(validate.errors)).toBe(true);
  });

  it('answers protocol 3 to a client that only speaks 3', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN, minProtocol: 3, maxProtocol: 3 }));
    expect((res.payload as { protocol: number }).protocol).toBe(3);
  });

  it('grants the requested scopes on a matching token, also when the token comes as password', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', connectParams({ password: TEST_TOKEN, scopes: ['operator.admin'] }));
    expect(res.ok).toBe(true);
    expect((res.payload as { auth: unknown }).auth).toEqual({ role: 'operator', scopes: ['operator.admin'], method: 'password' });
  });

  it('refuses a protocol range without 3 or 4 with PROTOCOL_MISMATCH and closes 1002', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN, minProtocol: 5, maxProtocol: 6 }));
    expect(res.error).toEqual({
      code: 'INVALID_REQUEST',
      message: 'protocol mismatch',
      details: { code: 'PROTOCOL_MISMATCH', clientMinProtocol: 5, clientMaxProtocol: 6, expectedProtocol: 4, minimumProbeProtocol: 3 },
    });
    expect(await client.waitClose()).toEqual({ code: 1002, reason: 'protocol mismatch' });
  });

  it('refuses a first request that is not connect and closes 1008', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('health', {});
    expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid handshake: first request must be connect' });
    expect(await client.waitClose()).toEqual({ code: 1008, reason: 'invalid handshake: first request must be connect' });
  });

  it('refuses bad connect params with the validation detail and closes 1008', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', { minProtocol: 4, maxProtocol: 4 });
    expect(res.error?.code).toBe('INVALID_REQUEST');
    expect(res.error?.message).toBe("invalid connect params: must have required property 'client'");
    const closed = await client.waitClose();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^invalid connect params/);
  });

  it('closes 1008 without a response on a frame that is not a request', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    client.send({ type: 'event', event: 'hello' });
    expect(await client.waitClose()).toEqual({ code: 1008, reason: 'invalid request frame' });
    expect(client.frames.filter((f) => f.type === 'res')).toEqual([]);
  });

  it('closes 1008 without a response on text that is not JSON', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    client.send('{not json');
    expect(await client.waitClose()).toEqual({ code: 1008, reason: 'invalid handshake' });
  });

  it('closes 1009 on a pre-auth frame over 64 KiB', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    client.send(JSON.stringify({ type: 'req', id: '1', method: 'connect', params: { pad: 'x'.repeat(70_000) } }));
    expect(await client.waitClose()).toEqual({ code: 1009, reason: 'preauth payload too large' });
  });

  it.each([
    ['a wrong token', { token: 'wrong' }, 'AUTH_TOKEN_MISMATCH', 'unauthorized: gateway token mismatch (provide gateway auth token)', 'token_mismatch'],
    ['no token', {}, 'AUTH_TOKEN_MISSING', 'unauthorized: gateway token missing (provide gateway auth token)', 'token_missing'],
    ['a wrong password', { password: 'wrong' }, 'AUTH_PASSWORD_MISMATCH', 'unauthorized: gateway password mismatch (provide gateway auth password)', 'password_mismatch'],
  ])('refuses %s with %s and closes 1008', async (_case, auth, detailCode, message, authReason) => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', connectParams(auth));
    expect(res.error).toMatchObject({ code: 'INVALID_REQUEST', message, details: { code: detailCode, authReason, canRetryWithDeviceToken: false } });
    expect(await client.waitClose()).toEqual({ code: 1008, reason: message });
  });

  it('refuses a role other than operator', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN, role: 'node' }));
    expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid role' });
    expect((await client.waitClose()).code).toBe(1008);
  });

  it('accepts a device block with a valid v2 signature', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const nonce = (client.challenge?.payload as { nonce: string }).nonce;
    const device = signedDevice(deviceKeys(), nonce);
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN, extra: { device } }));
    expect(res.ok).toBe(true);
  });

  it.each([
    ['a signature over other data', (d: ReturnType<typeof signedDevice>) => ({ ...d, signature: signedDevice(deviceKeys(), 'other').signature }), 'DEVICE_AUTH_SIGNATURE_INVALID', 'device signature invalid'],
    ['another nonce', (d: ReturnType<typeof signedDevice>) => ({ ...d, nonce: 'not-the-challenge' }), 'DEVICE_AUTH_NONCE_MISMATCH', 'device nonce mismatch'],
    ['a stale signedAt', (d: ReturnType<typeof signedDevice>) => ({ ...d, signedAt: Date.now() - 10 * 60_000 }), 'DEVICE_AUTH_SIGNATURE_EXPIRED', 'device signature expired'],
    ['an id that is not the key hash', (d: ReturnType<typeof signedDevice>) => ({ ...d, id: 'f'.repeat(64) }), 'DEVICE_AUTH_DEVICE_ID_MISMATCH', 'device identity mismatch'],
  ])('refuses a device block with %s', async (_case, mutate, detailCode, message) => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const nonce = (client.challenge?.payload as { nonce: string }).nonce;
    const device = mutate(signedDevice(deviceKeys(), nonce));
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN, extra: { device } }));
    expect(res.error).toMatchObject({ code: 'INVALID_REQUEST', message, details: { code: detailCode } });
    expect(await client.waitClose()).toEqual({ code: 1008, reason: message });
  });

  it('closes a socket that does not connect within the handshake timeout', async () => {
    const gw = await startTestGateway({ config: { handshakeTimeoutMs: 150 } });
    const client = await RawClient.open(gw.url);
    expect(await client.waitClose()).toEqual({ code: 1000, reason: 'handshake timeout' });
  });

  it('answers a second connect with INVALID_REQUEST and keeps the socket open', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN }));
    expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'connect is only valid as the first request' });
    expect((await client.request('health', {})).ok).toBe(true);
  });

  it('sends session.ack only when the gateway offers extensions', async () => {
    const gw = await startTestGateway({ config: { memoryV1: false, agentRuntimeV1: false } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1', 'no-such-cap'] });
    await client.request('health', {});
    expect(client.events('session.ack')).toEqual([]);
  });

  it('grants memory.v1 in session.ack right after hello-ok and ignores unknown capabilities', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['no-such-cap', 'memory.v1'] });
    const ack = payloadOf(await client.event('session.ack'), 'session.ack');
    expect(ack).toEqual({ capabilities: ['memory.v1'], server: { name: 'brainstem', version: expect.any(String) } });
    expect(client.events().filter((f) => f.event !== 'connect.challenge')[0]?.event).toBe('session.ack');
  });
});
