import { describe, expect, it } from 'vitest';
import { RateLimits, isLoopbackAddress, type RateLimitOptions } from '../../server/rate-limits.js';
import { PENDING_RETRY_AFTER_MS } from '../../server/router.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, connectParams, type Frame } from '../helpers/raw-client.js';

const httpUrl = (wsUrl: string, path: string): string => `${wsUrl.replace(/^ws/, 'http')}${path}`;

/** Sends `count` requests at once and collects one response per id. */
async function burst(client: RawClient, method: string, count: number, prefix: string): Promise<Frame[]> {
  for (let i = 0; i < count; i++) client.send({ type: 'req', id: `${prefix}-${i}`, method, params: {} });
  return Promise.all(Array.from({ length: count }, (_, i) => client.next((f) => f.type === 'res' && f.id === `${prefix}-${i}`)));
}

describe('RateLimits', () => {
  const base: RateLimitOptions = {
    requests: { burst: 2, perSecond: 1 },
    maxPendingRequests: 2,
    connects: { burst: 1, perSecond: 1 },
    authFailures: { burst: 2, perSecond: 1 / 60 },
    http: { burst: 1, perSecond: 1 },
    maxConnections: 3,
    limitLoopback: false,
  };

  it('knows loopback addresses in every form Node reports them', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(ip)).toBe(true);
    for (const ip of ['10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', undefined]) expect(isLoopbackAddress(ip)).toBe(false);
  });

  it('exempts loopback from the per-IP limits unless told otherwise', () => {
    let t = 0;
    const lenient = new RateLimits(base, () => t);
    for (let i = 0; i < 5; i++) expect(lenient.admitSocket('127.0.0.1', 0)).toBeUndefined();
    for (let i = 0; i < 5; i++) lenient.authFailed('::1');
    expect(lenient.authRetryAfter('::1')).toBe(0);
    const strict = new RateLimits({ ...base, limitLoopback: true }, () => t);
    expect(strict.admitSocket('127.0.0.1', 0)).toBeUndefined();
    expect(strict.admitSocket('127.0.0.1', 0)).toEqual({ limit: 'connects', retryAfterMs: 1000 });
    t = 1000;
    expect(strict.admitSocket('127.0.0.1', 0)).toBeUndefined();
  });

  it('applies the connection cap to everyone, loopback included', () => {
    const limits = new RateLimits(base, () => 0);
    expect(limits.admitSocket('127.0.0.1', 2)).toBeUndefined();
    expect(limits.admitSocket('127.0.0.1', 3)).toEqual({ limit: 'connections', retryAfterMs: 0 });
  });

  it('counts failed authentications per IP and tells how long to wait', () => {
    const limited: string[] = [];
    const limits = new RateLimits(base, () => 0, (limit) => limited.push(limit));
    limits.authFailed('10.0.0.1');
    expect(limits.authRetryAfter('10.0.0.1')).toBe(0);
    limits.authFailed('10.0.0.1');
    expect(limits.authRetryAfter('10.0.0.1')).toBe(60_000);
    expect(limits.authRetryAfter('10.0.0.2')).toBe(0);
    expect(limited).toEqual(['auth']);
  });

  it('gives each connection its own request bucket and pending count; a rate of 0 leaves only the count', () => {
    const limited: string[] = [];
    const limits = new RateLimits(base, () => 0, (limit) => limited.push(limit));
    const a = limits.requestLimiter();
    const b = limits.requestLimiter();
    expect([a.take(), a.take(), a.take()]).toEqual([0, 0, 1000]);
    expect(b.take()).toBe(0);
    expect([a.begin(), a.begin(), a.begin(), b.begin()]).toEqual([true, true, false, true]);
    a.end();
    expect(a.begin()).toBe(true);
    expect(limited).toEqual(['requests', 'pending']);
    const unlimited = new RateLimits({ ...base, requests: undefined }, () => 0).requestLimiter();
    expect([unlimited.take(), unlimited.take(), unlimited.take()]).toEqual([0, 0, 0]);
  });
});

describe('requests per connection', () => {
  it('answers requests over the budget RATE_LIMITED with retryAfterMs, and drops none', async () => {
    const gw = await startTestGateway({ config: { requestsPerSec: 1, requestBurst: 5 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const answers = await burst(client, 'health', 8, 'r');
    expect(answers.filter((f) => f.ok)).toHaveLength(5);
    const limited = answers.filter((f) => !f.ok);
    expect(limited).toHaveLength(3);
    for (const frame of limited) {
      expect(frame.error).toMatchObject({
        code: 'UNAVAILABLE',
        message: 'rate limit exceeded; retry shortly',
        retryable: true,
        details: { code: 'RATE_LIMITED', limit: 'requests' },
      });
      expect(frame.error?.retryAfterMs).toBeGreaterThan(0);
      expect(frame.error?.retryAfterMs).toBeLessThanOrEqual(1000);
      expect(frame.error?.details?.retryAfterMs).toBe(frame.error?.retryAfterMs);
    }
    const wait = Math.max(...limited.map((f) => f.error?.retryAfterMs ?? 0));
    await new Promise((r) => setTimeout(r, wait + 50));
    expect((await client.request('health', {})).ok).toBe(true);
  });

  it('answers RATE_LIMITED (limit "pending") once a connection has its most requests waiting for an answer', async () => {
    const gw = await startTestGateway({ config: { maxPendingRequestsPerConnection: 2, localChunkDelayMs: 100 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const other = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'a slow reply to wait for', idempotencyKey: 'slow' });
    const waits = [client.request('agent.wait', { runId: 'slow', timeoutMs: 10_000 }), client.request('agent.wait', { runId: 'slow', timeoutMs: 10_000 })];
    const refused = await client.request('health', {});
    expect(refused.error).toEqual({
      code: 'UNAVAILABLE',
      message: 'rate limit exceeded; retry shortly',
      retryable: true,
      retryAfterMs: PENDING_RETRY_AFTER_MS,
      details: { code: 'RATE_LIMITED', limit: 'pending', retryAfterMs: PENDING_RETRY_AFTER_MS },
    });
    // The cap is the connection's own.
    expect((await other.request('health', {})).ok).toBe(true);
    for (const wait of await Promise.all(waits)) expect(wait.payload).toMatchObject({ runId: 'slow', status: 'ok' });
    expect((await client.request('health', {})).ok).toBe(true);
  });

  it('keeps one budget per connection: a busy client does not slow another', async () => {
    const gw = await startTestGateway({ config: { requestsPerSec: 1, requestBurst: 3 } });
    const busy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const calm = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    expect((await burst(busy, 'health', 6, 'b')).filter((f) => !f.ok)).toHaveLength(3);
    expect((await burst(calm, 'health', 3, 'c')).every((f) => f.ok)).toBe(true);
  });

  it('answers a limited frame without a usable id under "invalid"', async () => {
    const gw = await startTestGateway({ config: { requestsPerSec: 1, requestBurst: 1 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    client.send({ type: 'req', id: 'first', method: 'health', params: {} });
    client.send({ type: 'req', id: 42, method: 'health' });
    const res = await client.next((f) => f.type === 'res' && f.id === 'invalid');
    expect(res.error?.details?.code).toBe('RATE_LIMITED');
  });
});

describe('failed authentication per IP', () => {
  it('refuses with AUTH_RATE_LIMITED (retryable, retryAfterMs) and closes 1008 once the failures are spent, even for the right token', async () => {
    const gw = await startTestGateway({ config: { rateLimitLoopback: true, authFailureBurstPerIp: 2, authFailuresPerIpPerMin: 1 } });
    for (let i = 0; i < 2; i++) {
      const client = await RawClient.open(gw.url);
      const res = await client.request('connect', connectParams({ token: 'wrong' }));
      expect(res.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    }
    const client = await RawClient.open(gw.url);
    const res = await client.request('connect', connectParams({ token: TEST_TOKEN }));
    const message = 'unauthorized: too many failed authentication attempts (retry later)';
    expect(res.error).toMatchObject({
      code: 'INVALID_REQUEST',
      message,
      retryable: true,
      details: { code: 'AUTH_RATE_LIMITED', authReason: 'rate_limited', canRetryWithDeviceToken: false, recommendedNextStep: 'wait_then_retry' },
    });
    expect(res.error?.retryAfterMs).toBeGreaterThan(55_000);
    expect(res.error?.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(await client.waitClose()).toEqual({ code: 1008, reason: message });
  });

  it('does not count successful connects', async () => {
    const gw = await startTestGateway({ config: { rateLimitLoopback: true, authFailureBurstPerIp: 1, authFailuresPerIpPerMin: 1 } });
    for (let i = 0; i < 5; i++) await RawClient.connect(gw.url, { token: TEST_TOKEN });
  });

  it('leaves loopback clients alone by default (one shared address for every local client)', async () => {
    const gw = await startTestGateway({ config: { authFailureBurstPerIp: 2 } });
    for (let i = 0; i < 4; i++) {
      const client = await RawClient.open(gw.url);
      expect((await client.request('connect', connectParams({ token: 'wrong' }))).error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    }
    await RawClient.connect(gw.url, { token: TEST_TOKEN });
  });
});

describe('connections', () => {
  it('closes a socket over the cap 1013 "too many connections" before any challenge, and admits again once one leaves', async () => {
    const gw = await startTestGateway({ config: { maxConnections: 2 } });
    const first = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await RawClient.open(gw.url);
    const refused = await RawClient.open(gw.url, { challenge: false });
    expect(await refused.waitClose()).toEqual({ code: 1013, reason: 'too many connections' });
    expect(refused.frames).toEqual([]);
    first.close();
    await first.waitClose();
    let admitted: RawClient | undefined;
    for (let attempt = 0; admitted === undefined && attempt < 50; attempt++) {
      const next = await RawClient.open(gw.url, { challenge: false });
      const outcome = await Promise.race([next.next((f) => f.event === 'connect.challenge').then(() => 'challenge'), next.closed.then(() => 'closed')]);
      if (outcome === 'challenge') admitted = next;
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(admitted).toBeDefined();
  });

  it('closes connection attempts over the per-IP rate 1013 "too many connection attempts"', async () => {
    const gw = await startTestGateway({ config: { rateLimitLoopback: true, connectBurstPerIp: 2, connectsPerIpPerMin: 1 } });
    await RawClient.open(gw.url);
    await RawClient.open(gw.url);
    const refused = await RawClient.open(gw.url, { challenge: false });
    expect(await refused.waitClose()).toEqual({ code: 1013, reason: 'too many connection attempts' });
  });

  it('lets many loopback connections in at once by default (the benchmark opens thousands)', async () => {
    const gw = await startTestGateway();
    const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.open(gw.url)));
    expect(clients).toHaveLength(200);
  });
});

describe('HTTP routes', () => {
  it('answer 429 with Retry-After and a RATE_LIMITED body past the per-IP budget', async () => {
    const gw = await startTestGateway({ config: { rateLimitLoopback: true, httpBurstPerIp: 2, httpRequestsPerIpPerSec: 1 } });
    expect((await fetch(httpUrl(gw.url, '/healthz'))).status).toBe(200);
    expect((await fetch(httpUrl(gw.url, '/readyz'))).status).toBe(200);
    const limited = await fetch(httpUrl(gw.url, '/metrics'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const body = (await limited.json()) as { error: Frame['error'] };
    expect(body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { code: 'RATE_LIMITED', limit: 'http' } });
    expect(body.error?.retryAfterMs).toBeGreaterThan(0);
    // WebSocket upgrades have their own limit and are not spent by HTTP requests.
    await RawClient.connect(gw.url, { token: TEST_TOKEN });
  });

  it('leave loopback alone by default', async () => {
    const gw = await startTestGateway({ config: { httpBurstPerIp: 1, httpRequestsPerIpPerSec: 1 } });
    for (let i = 0; i < 5; i++) expect((await fetch(httpUrl(gw.url, '/healthz'))).status).toBe(200);
  });
});
