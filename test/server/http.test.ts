import { describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../../server/version.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient } from '../helpers/raw-client.js';

function http(gw: TestGateway, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${gw.port}${path}`);
}

describe('HTTP routes', () => {
  it('GET /healthz answers 200 {ok:true}', async () => {
    const gw = await startTestGateway();
    const res = await http(gw, '/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('GET /readyz answers 200 while serving and 503 once shutdown has begun', async () => {
    // A slow run holds shutdown in its grace period, which leaves the HTTP server up to ask.
    const gw = await startTestGateway({ config: { localChunkDelayMs: 250, shutdownGraceMs: 5_000 } });
    const ready = await http(gw, '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });

    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'keep the gateway busy for a while', idempotencyKey: 'busy' });
    // Running (not just queued: queued runs are interrupted at once on shutdown).
    await client.event('agent', (f) => (f.payload as { runId: string; stream: string }).runId === 'busy');
    const closing = gw.gateway.close('test shutdown');
    const draining = await http(gw, '/readyz');
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ ready: false, reason: 'shutting down' });
    expect((await http(gw, '/healthz')).status).toBe(200);
    await closing;
    await expect(http(gw, '/healthz')).rejects.toThrow();
  });

  it('GET /status reports connections, sessions, runs, lanes, event-loop lag, heap, database and uptime', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'a slow reply', idempotencyKey: 'status-run' });
    await client.request('chat.send', { sessionKey: 'main', message: 'queued behind it', idempotencyKey: 'status-queued' });
    await client.event('agent', (f) => (f.payload as { runId: string }).runId === 'status-run');
    const res = await http(gw, '/status');
    expect(res.status).toBe(200);
    const status = (await res.json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      name: 'brainstem',
      version: SERVER_VERSION,
      connections: 1,
      sessions: 1,
      activeRuns: 1,
      queuedRuns: 1,
      lanes: [{ name: 'sessions', running: 1, queued: 1, concurrency: gw.config.maxConcurrentRuns }, { name: 'interactive' }, { name: 'research' }, { name: 'background' }],
      database: { state: 'ok', path: gw.store.path },
    });
    expect(status.eventLoopLagMs).toEqual({ meanMs: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number) });
    expect(status.heapMB).toBeGreaterThan(0);
    expect(status.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(status)).not.toContain(TEST_TOKEN);
  });

  it('GET /status counts a fresh gateway as idle', async () => {
    const gw = await startTestGateway();
    const status = (await (await http(gw, '/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ connections: 0, sessions: 0, activeRuns: 0, queuedRuns: 0 });
  });

  it('GET /control-ui-config.json names the assistant and the server version', async () => {
    const gw = await startTestGateway();
    const res = await http(gw, '/control-ui-config.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ basePath: '', assistantName: 'brainstem', assistantAvatar: '🧠', serverVersion: SERVER_VERSION });
  });

  it('GET / answers plain text that points at the WebSocket', async () => {
    const gw = await startTestGateway();
    const res = await http(gw, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/^brainstem gateway: connect with a WebSocket client/);
  });

  it('answers an unknown path with 404', async () => {
    const gw = await startTestGateway();
    expect((await http(gw, '/no-such-page')).status).toBe(404);
  });
});
