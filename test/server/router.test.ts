import { describe, expect, it } from 'vitest';
import { fixedIdentity } from '../helpers/fixed-identity.js';
import type { IdentityService } from '../../identity/types.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient, resultOf, type Frame } from '../helpers/raw-client.js';

const READ = 'operator.read';
const WRITE = 'operator.write';
const ADMIN = 'operator.admin';

/** The gateway still answers on this socket: the bad input before did not close or wedge it. */
async function stillAnswers(client: RawClient): Promise<void> {
  const res = await client.request('health', {});
  expect(resultOf(res, 'health').ok).toBe(true);
}

function missingScope(scope: string): Frame['error'] {
  return { code: 'FORBIDDEN', message: `missing scope: ${scope}`, details: { code: 'MISSING_SCOPE', missingScope: scope, requiredScopes: [scope] } };
}

async function client(gw: TestGateway, scopes: string[] = [READ, WRITE]): Promise<RawClient> {
  return RawClient.connect(gw.url, { token: TEST_TOKEN, scopes });
}

describe('router', () => {
  describe('unknown methods and bad params', () => {
    it('answers an unknown method with INVALID_REQUEST "unknown method: <name>" and keeps the socket open', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      const res = await c.request('no.such.method', {});
      expect(res).toMatchObject({ type: 'res', ok: false });
      expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'unknown method: no.such.method' });
      await stillAnswers(c);
    });

    it('answers bad params with INVALID_REQUEST "invalid <method> params: <why>"', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      const missing = await c.request('chat.send', { message: 'hi', idempotencyKey: 'k' });
      expect(missing.error).toEqual({ code: 'INVALID_REQUEST', message: "invalid chat.send params: must have required property 'sessionKey'" });
      const wrongType = await c.request('chat.history', { sessionKey: 'main', limit: 'ten' });
      expect(wrongType.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid chat.history params: at /limit: must be integer' });
      const outOfRange = await c.request('chat.history', { sessionKey: 'main', limit: 1001 });
      expect(outOfRange.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid chat.history params: at /limit: must be <= 1000' });
      await stillAnswers(c);
    });

    it('treats missing params as {} and validates that', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      expect(resultOf(await c.request('health'), 'health').ok).toBe(true);
      const res = await c.request('chat.history');
      expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: "invalid chat.history params: must have required property 'sessionKey'" });
    });

    it('accepts unknown extra fields in params', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      const history = await c.request('chat.history', { sessionKey: 'main', limit: 5, __controlUiReconnectResume: true, future: { x: 1 } });
      expect(history.ok).toBe(true);
      const send = await c.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: 'extra-1', someNewField: 'x' });
      expect(resultOf(send, 'chat.send')).toMatchObject({ runId: 'extra-1', status: 'started' });
    });
  });

  describe('scopes', () => {
    it('refuses chat.send to a read-only client with FORBIDDEN missing scope operator.write', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [READ]);
      const res = await c.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: 'ro-1' });
      expect(res.error).toEqual(missingScope(WRITE));
      await stillAnswers(c);
      const history = resultOf(await c.request('chat.history', { sessionKey: 'main' }), 'chat.history');
      expect('messages' in history && history.messages).toEqual([]);
    });

    it('refuses chat.inject to a write client with missing scope operator.admin', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [READ, WRITE]);
      const res = await c.request('chat.inject', { sessionKey: 'main', message: 'x' });
      expect(res.error).toEqual(missingScope(ADMIN));
      await stillAnswers(c);
    });

    it('makes sessions.delete admin, but write with archivedOnly:true', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [WRITE]);
      expect((await c.request('sessions.delete', { key: 'main' })).error).toEqual(missingScope(ADMIN));
      expect((await c.request('sessions.delete', { key: 'main', archivedOnly: false })).error).toEqual(missingScope(ADMIN));
      const archivedOnly = await c.request('sessions.delete', { key: 'main', archivedOnly: true });
      expect(resultOf(archivedOnly, 'sessions.delete')).toEqual({ ok: true, key: 'agent:main:main', deleted: false, archived: [] });
    });

    it('makes agent admin when the message is /new or /reset, write otherwise', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [WRITE]);
      expect((await c.request('agent', { message: '/new', idempotencyKey: 'a-new' })).error).toEqual(missingScope(ADMIN));
      expect((await c.request('agent', { message: '  /reset now', idempotencyKey: 'a-reset' })).error).toEqual(missingScope(ADMIN));
      const plain = await c.request('agent', { message: 'hello', idempotencyKey: 'a-plain' });
      expect(plain.ok).toBe(true);
      expect(plain.payload).toMatchObject({ runId: 'a-plain', status: 'accepted' });
    });

    it('lets health through with no scope at all, and refuses a read method', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, []);
      await stillAnswers(c);
      expect((await c.request('sessions.list', {})).error).toEqual(missingScope(READ));
      expect((await c.request('chat.send', { sessionKey: 'main', message: 'x', idempotencyKey: 'none-1' })).error).toEqual(missingScope(WRITE));
    });

    it('lets admin satisfy read, write and admin', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [ADMIN]);
      expect((await c.request('sessions.list', {})).ok).toBe(true);
      expect(resultOf(await c.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: 'adm-1' }), 'chat.send').status).toBe('started');
      expect(resultOf(await c.request('chat.inject', { sessionKey: 'main', message: 'injected' }), 'chat.inject').ok).toBe(true);
      expect(resultOf(await c.request('sessions.delete', { key: 'other' }), 'sessions.delete').ok).toBe(true);
    });

    it('lets write satisfy read', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [WRITE]);
      expect(resultOf(await c.request('sessions.list', {}), 'sessions.list').sessions).toEqual([]);
      expect((await c.request('chat.history', { sessionKey: 'main' })).ok).toBe(true);
    });

    it('checks the scope before the params, so a forbidden client learns nothing about the params', async () => {
      const gw = await startTestGateway();
      const c = await client(gw, [READ]);
      expect((await c.request('chat.send', { nonsense: true })).error).toEqual(missingScope(WRITE));
    });
  });

  describe('frames', () => {
    it('answers a JSON frame that is not a request with its id and INVALID_REQUEST "invalid request frame: ..."', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      c.send({ type: 'event', id: 'ev-1', event: 'hello' });
      const withId = await c.next((f) => f.type === 'res' && f.id === 'ev-1');
      expect(withId).toEqual({ type: 'res', id: 'ev-1', ok: false, error: { code: 'INVALID_REQUEST', message: "invalid request frame: must have required property 'method'" } });
      c.send({ type: 'req', method: 'health' });
      const noId = await c.next((f) => f.type === 'res' && f.id === 'invalid');
      expect(noId.error).toEqual({ code: 'INVALID_REQUEST', message: "invalid request frame: must have required property 'id'" });
      await stillAnswers(c);
    });

    it('answers a request with an empty method as an invalid frame under its id', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      c.send({ type: 'req', id: 'empty-method', method: '' });
      const res = await c.next((f) => f.type === 'res' && f.id === 'empty-method');
      expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid request frame: at /method: must NOT have fewer than 1 characters' });
      await stillAnswers(c);
    });

    it('answers JSON that is not an object with id "invalid"', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      c.send('[1,2,3]');
      const res = await c.next((f) => f.type === 'res' && f.id === 'invalid');
      expect(res.error).toEqual({ code: 'INVALID_REQUEST', message: 'invalid request frame: must be object' });
      await stillAnswers(c);
    });

    it('answers unparsable JSON after hello with a structured error under id "invalid" and stays open', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      c.send('{not json');
      const res = await c.next((f) => f.type === 'res' && f.id === 'invalid');
      expect(res).toEqual({
        type: 'res',
        id: 'invalid',
        ok: false,
        error: { code: 'INVALID_REQUEST', message: 'invalid request frame: not valid JSON' },
      });
      await stillAnswers(c);
    });

    it('treats a binary frame holding a request like a text frame', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      c.send(Buffer.from(JSON.stringify({ type: 'req', id: 'bin-1', method: 'health', params: {} }), 'utf8'));
      const res = await c.next((f) => f.type === 'res' && f.id === 'bin-1');
      expect(resultOf(res, 'health').ok).toBe(true);
    });

    it('closes 1009 on a frame over maxPayloadBytes after hello', async () => {
      const gw = await startTestGateway({ config: { maxPayloadBytes: 4096, preauthMaxPayloadBytes: 4096 } });
      const c = await client(gw);
      await stillAnswers(c);
      c.send(JSON.stringify({ type: 'req', id: 'big', method: 'chat.send', params: { sessionKey: 'main', message: 'x'.repeat(5000), idempotencyKey: 'big' } }));
      expect((await c.waitClose()).code).toBe(1009);
      expect(c.frames.some((f) => f.id === 'big')).toBe(false);
      // The gateway itself is fine: a new client connects and is served.
      await stillAnswers(await client(gw));
    });

    it('accepts a frame just under maxPayloadBytes', async () => {
      const gw = await startTestGateway({ config: { maxPayloadBytes: 4096, preauthMaxPayloadBytes: 4096 } });
      const c = await client(gw);
      const params = { sessionKey: 'main', message: 'x'.repeat(3800), idempotencyKey: 'near' };
      expect(Buffer.byteLength(JSON.stringify({ type: 'req', id: 'near-1', method: 'chat.send', params }))).toBeLessThan(4096);
      expect(resultOf(await c.request('chat.send', params, 'near-1'), 'chat.send').status).toBe('started');
    });

    it('accepts a reused id and answers each request under it', async () => {
      const gw = await startTestGateway();
      const c = await client(gw);
      const first = await c.request('health', {}, 'same-id');
      const from = c.frames.length;
      c.send({ type: 'req', id: 'same-id', method: 'sessions.list', params: {} });
      const second = await c.next((f) => f.type === 'res' && f.id === 'same-id', { from });
      expect(first.ok && second.ok).toBe(true);
      expect(c.frames.filter((f) => f.type === 'res' && f.id === 'same-id')).toHaveLength(2);
      expect(resultOf(second, 'sessions.list').sessions).toEqual([]);
    });

    it('answers a fast request while a slow one on the same socket is still pending', async () => {
      const gw = await startTestGateway({ config: { localChunkDelayMs: 50 } });
      const c = await client(gw);
      await c.request('chat.send', { sessionKey: 'main', message: 'one two three four', idempotencyKey: 'slow-run' });
      c.send({ type: 'req', id: 'wait', method: 'agent.wait', params: { runId: 'slow-run', timeoutMs: 5000 } });
      c.send({ type: 'req', id: 'quick', method: 'health', params: {} });
      const quick = await c.next((f) => f.type === 'res' && f.id === 'quick');
      const wait = await c.next((f) => f.type === 'res' && f.id === 'wait');
      expect(c.frames.indexOf(quick)).toBeLessThan(c.frames.indexOf(wait));
      expect(resultOf(wait, 'agent.wait').status).toBe('ok');
    });
  });

  describe('handler failures', () => {
    it('turns an unexpected handler error into UNAVAILABLE "internal error" without a stack, and keeps serving', async () => {
      const base = fixedIdentity();
      let failNext = false;
      const identity: IdentityService = {
        ...base,
        packet: (agentId) => {
          if (failNext) {
            failNext = false;
            throw new Error('identity file /secret/path/SOUL.md exploded');
          }
          return base.packet(agentId);
        },
      };
      const gw = await startTestGateway({ identity });
      const c = await client(gw);
      failNext = true;
      const res = await c.request('agent.identity.get', {});
      expect(res.error).toEqual({ code: 'UNAVAILABLE', message: 'internal error', details: { code: 'INTERNAL' }, retryable: true });
      expect(JSON.stringify(res)).not.toMatch(/secret|exploded|at .*\.ts/);
      await stillAnswers(c);
      expect(resultOf(await c.request('agent.identity.get', {}), 'agent.identity.get')).toMatchObject({ agentId: 'main', name: 'brainstem' });
    });
  });
});
