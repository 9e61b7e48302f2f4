import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../server/audit-log.js';
import { AUDIT_LOG_FILE } from '../../server/hardening.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, connectParams } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';

interface AuditLine {
  event: string;
  msg: string;
  time: string;
  actor: { connId: string; ip?: string; clientId?: string; scopes?: string[] };
  [field: string]: unknown;
}

function readAudit(path: string): AuditLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine);
}

describe('audit log', () => {
  it('records a failed authentication with who and why, never the secret', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    await client.request('connect', connectParams({ token: 'guessed-secret' }));
    await client.waitClose();
    const lines = readAudit(join(gw.dataDir, AUDIT_LOG_FILE));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'auth.failure', detailCode: 'AUTH_TOKEN_MISMATCH', authReason: 'token_mismatch', actor: { ip: '127.0.0.1' } });
    expect(lines[0]?.actor.connId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(lines[0]?.time ?? '').getTime()).toBeGreaterThan(0);
    expect(readFileSync(join(gw.dataDir, AUDIT_LOG_FILE), 'utf8')).not.toContain('guessed-secret');
  });

  it('records rate-limited attempts and device-proof failures as auth failures', async () => {
    const gw = await startTestGateway({ config: { rateLimitLoopback: true, authFailureBurstPerIp: 1 } });
    const first = await RawClient.open(gw.url);
    await first.request('connect', connectParams({ token: 'wrong' }));
    const second = await RawClient.open(gw.url);
    await second.request('connect', connectParams({ token: TEST_TOKEN }));
    const codes = readAudit(join(gw.dataDir, AUDIT_LOG_FILE)).map((l) => [l.event, l.detailCode]);
    expect(codes).toEqual([
      ['auth.failure', 'AUTH_TOKEN_MISMATCH'],
      ['auth.failure', 'AUTH_RATE_LIMITED'],
    ]);
  });

  it('records a failed device proof as an auth failure', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.open(gw.url);
    const device = { id: 'a'.repeat(64), publicKey: 'AAAA', signature: 'AAAA', signedAt: Date.now(), nonce: 'not-the-nonce' };
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN, extra: { device } }));
    expect(res.ok).toBe(false);
    const [line] = readAudit(join(gw.dataDir, AUDIT_LOG_FILE));
    expect(line?.event).toBe('auth.failure');
    expect(line?.detailCode).toBe(res.error?.details?.code);
  });

  it('records sessions.delete and sessions.reset with the acting client and its scopes', async () => {
    const gw = await startTestGateway();
    const admin = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'] });
    await admin.request('chat.send', { sessionKey: 'doomed', message: 'hi', idempotencyKey: 'd-1' });
    await admin.event('chat', (f) => (f.payload as { state?: string }).state === 'final');
    expect((await admin.request('sessions.reset', { key: 'doomed' })).ok).toBe(true);
    expect((await admin.request('sessions.delete', { key: 'doomed' })).ok).toBe(true);
    const lines = readAudit(join(gw.dataDir, AUDIT_LOG_FILE));
    expect(lines.map((l) => l.event)).toEqual(['sessions.reset', 'sessions.delete']);
    expect(lines[0]).toMatchObject({ key: 'agent:main:doomed', reason: 'reset', actor: { clientId: 'test', scopes: ['operator.admin'], ip: '127.0.0.1' } });
    expect(lines[0]?.sessionId).toEqual(expect.any(String));
    expect(lines[1]).toMatchObject({ key: 'agent:main:doomed', deleted: true, deleteTranscript: true });
  });

  it('does not record refused attempts at those methods', async () => {
    const gw = await startTestGateway();
    const reader = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.read'] });
    expect((await reader.request('sessions.delete', { key: 'main' })).error?.code).toBe('FORBIDDEN');
    expect(readAudit(join(gw.dataDir, AUDIT_LOG_FILE))).toEqual([]);
  });

  it('writes to auditLogFile when set, and nowhere with auditLog off', async () => {
    const dir = tempDir('brainstem-audit-');
    const file = join(dir, 'logs', 'security.jsonl');
    const custom = await startTestGateway({ config: { auditLogFile: file } });
    const a = await RawClient.open(custom.url);
    await a.request('connect', connectParams({ token: 'wrong' }));
    await a.waitClose();
    expect(readAudit(file).map((l) => l.event)).toEqual(['auth.failure']);
    expect(existsSync(join(custom.dataDir, AUDIT_LOG_FILE))).toBe(false);

    const off = await startTestGateway({ config: { auditLog: false } });
    const b = await RawClient.open(off.url);
    await b.request('connect', connectParams({ token: 'wrong' }));
    await b.waitClose();
    expect(existsSync(join(off.dataDir, AUDIT_LOG_FILE))).toBe(false);
  });

  it('records memory.forget with what was asked and what was forgotten', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    await client.request('chat.send', { sessionKey: 'main', message: 'my locker code is 4711', idempotencyKey: 'f1' });
    await client.event('chat', (f) => (f.payload as { state?: string }).state === 'final');
    const query = await client.request('memory.query', { text: 'locker' });
    const id = (query.payload as { items: { id: string }[] }).items[0]?.id as string;
    expect((await client.request('memory.forget', { ids: [id] })).ok).toBe(true);
    const lines = readAudit(join(gw.dataDir, AUDIT_LOG_FILE));
    expect(lines).toMatchObject([{ event: 'memory.forget', memoryIds: [id], requested: { ids: [id] }, actor: { clientId: 'test', ip: '127.0.0.1' } }]);
  });

  it('has a line for agent.control (issue 5 calls it) and memory.forget', () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const audit = createAuditLog(sink);
    const actor = { connId: 'c-1', ip: '10.0.0.9', clientId: 'cli', scopes: ['operator.admin'] };
    audit.agentControl(actor, { action: 'cancel', taskId: 't-1' });
    audit.memoryForget(actor, { memoryIds: ['m-1', 'm-2'], requested: { sessionKey: 'agent:main:main' } });
    audit.close();
    audit.close();
    const lines = chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine);
    expect(lines).toMatchObject([
      { event: 'agent.control', action: 'cancel', taskId: 't-1', actor },
      { event: 'memory.forget', memoryIds: ['m-1', 'm-2'], requested: { sessionKey: 'agent:main:main' }, actor },
    ]);
  });
});
