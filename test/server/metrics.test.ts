import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../memory/store.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';
import { sampleValue, scrape, seriesOf } from '../helpers/metrics-text.js';
import { RawClient, type Frame } from '../helpers/raw-client.js';

const isFinal = (runId: string) => (f: Frame) =>
  f.event === 'chat' && (f.payload as { runId?: string; state?: string }).runId === runId && (f.payload as { state?: string }).state === 'final';

async function turn(client: RawClient, sessionKey: string, runId: string): Promise<void> {
  await client.request('chat.send', { sessionKey, message: 'count me', idempotencyKey: runId });
  await client.event('chat', isFinal(runId));
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format with every family the operator guide names', async () => {
    const gw = await startTestGateway();
    const { status, contentType, text } = await scrape(gw.url);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const family of [
      'brainstem_connections',
      'brainstem_connections_accepted_total',
      'brainstem_connections_refused_total',
      'brainstem_frames_in_total',
      'brainstem_frames_out_total',
      'brainstem_bytes_in_total',
      'brainstem_bytes_out_total',
      'brainstem_dropped_events_total',
      'brainstem_slow_consumer_closes_total',
      'brainstem_requests_total',
      'brainstem_runs_total',
      'brainstem_run_duration_seconds',
      'brainstem_ack_latency_seconds',
      'brainstem_lane_active_runs',
      'brainstem_lane_queued_runs',
      'brainstem_lanes',
      'brainstem_lane_depth_max',
      'brainstem_jobs',
      'brainstem_database_errors_total',
      'brainstem_database_degraded',
      'brainstem_outbound_buffered_bytes',
      'brainstem_rate_limited_total',
      'brainstem_auth_failures_total',
      'brainstem_event_loop_delay_seconds',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text, family).toContain(`# TYPE ${family} `);
    }
  });

  it('counts connections, frames, bytes, requests, runs by outcome, and ack and run latencies', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await turn(client, 'main', 'm-1');
    await turn(client, 'main', 'm-2');
    const { text } = await scrape(gw.url);
    expect(sampleValue(text, 'brainstem_connections', { phase: 'open' })).toBe(1);
    expect(sampleValue(text, 'brainstem_connections_accepted_total')).toBe(1);
    expect(sampleValue(text, 'brainstem_frames_in_total')).toBe(3);
    expect(sampleValue(text, 'brainstem_frames_out_total')).toBe(client.frames.length);
    expect(sampleValue(text, 'brainstem_bytes_out_total')).toBeGreaterThan(1000);
    expect(sampleValue(text, 'brainstem_bytes_in_total')).toBeGreaterThan(100);
    expect(sampleValue(text, 'brainstem_requests_total', { method: 'chat.send', outcome: 'ok' })).toBe(2);
    expect(sampleValue(text, 'brainstem_runs_total', { outcome: 'ok' })).toBe(2);
    expect(sampleValue(text, 'brainstem_ack_latency_seconds_count', { method: 'chat.send' })).toBe(2);
    expect(sampleValue(text, 'brainstem_ack_latency_seconds_bucket', { method: 'chat.send', le: '+Inf' })).toBe(2);
    expect(sampleValue(text, 'brainstem_run_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    // Counters keep counting across scrapes (each scrape adds only what happened since the last one).
    await turn(client, 'main', 'm-3');
    const again = await scrape(gw.url);
    expect(sampleValue(again.text, 'brainstem_runs_total', { outcome: 'ok' })).toBe(3);
  });

  it('counts aborted runs under their own outcome', async () => {
    const gw = await startTestGateway({ config: { localChunkDelayMs: 200 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await client.request('chat.send', { sessionKey: 'main', message: 'slow words here', idempotencyKey: 'ab-1' });
    await client.event('agent', (f) => (f.payload as { stream: string }).stream === 'assistant');
    await client.request('chat.abort', { sessionKey: 'main' });
    await client.event('chat', (f) => (f.payload as { state?: string }).state === 'aborted');
    expect(sampleValue((await scrape(gw.url)).text, 'brainstem_runs_total', { outcome: 'aborted' })).toBe(1);
  });

  it('counts refusals: rate limits, auth failures and refused connections', async () => {
    const gw = await startTestGateway({ config: { requestsPerSec: 1, requestBurst: 1, maxConnections: 2 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    client.send({ type: 'req', id: 'a', method: 'health' });
    await client.request('health', {});
    const wrong = await RawClient.open(gw.url);
    await wrong.request('connect', { minProtocol: 3, maxProtocol: 4, client: { id: 'test', version: '1', platform: 'x', mode: 'test' }, auth: { token: 'nope' } });
    await wrong.waitClose();
    await RawClient.open(gw.url);
    const refused = await RawClient.open(gw.url, { challenge: false });
    await refused.waitClose();
    const { text } = await scrape(gw.url);
    expect(sampleValue(text, 'brainstem_rate_limited_total', { limit: 'requests' })).toBe(1);
    expect(sampleValue(text, 'brainstem_rate_limited_total', { limit: 'connections' })).toBe(1);
    expect(sampleValue(text, 'brainstem_requests_total', { method: 'rate_limited', outcome: 'error' })).toBe(1);
    expect(sampleValue(text, 'brainstem_auth_failures_total', { reason: 'AUTH_TOKEN_MISMATCH' })).toBe(1);
    expect(sampleValue(text, 'brainstem_connections_refused_total', { reason: 'connections' })).toBe(1);
  });

  it('reports job states from the hook the job table registers', async () => {
    const gw = await startTestGateway();
    expect(sampleValue((await scrape(gw.url)).text, 'brainstem_jobs', { state: 'queued' })).toBeUndefined();
    gw.gateway.services.metrics.setJobSource(() => ({ queued: 3, running: 1, dead: 0 }));
    const { text } = await scrape(gw.url);
    expect(sampleValue(text, 'brainstem_jobs', { state: 'queued' })).toBe(3);
    expect(sampleValue(text, 'brainstem_jobs', { state: 'running' })).toBe(1);
  });

  it('counts a request that failed on a database error (and answers it INTERNAL)', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'] });
    gw.gateway.services.sessions.patch = () => {
      throw new Database.SqliteError('constraint failed', 'SQLITE_CONSTRAINT');
    };
    const res = await client.request('sessions.patch', { key: 'main', label: 'x' });
    expect(res.error).toMatchObject({ code: 'UNAVAILABLE', details: { code: 'INTERNAL' } });
    const { text } = await scrape(gw.url);
    expect(sampleValue(text, 'brainstem_database_errors_total')).toBe(1);
    expect(sampleValue(text, 'brainstem_database_degraded')).toBe(0);
  });

  it('counts a database that is unusable, and says so while the store serves from RAM', async () => {
    const dataDir = tempDir('brainstem-metrics-corrupt-');
    writeFileSync(join(dataDir, DATABASE_FILE), 'garbage, not sqlite '.repeat(200));
    const gw = await startTestGateway({ dataDir, config: { memoryDbRetryIntervalMs: 60_000 } });
    const { text } = await scrape(gw.url);
    expect(sampleValue(text, 'brainstem_database_degraded')).toBe(1);
    expect(sampleValue(text, 'brainstem_database_errors_total')).toBe(1);
  });

  it('keeps a fixed set of series however many clients, sessions and runs there are', async () => {
    const gw = await startTestGateway();
    const first = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await turn(first, 'one', 'card-0');
    const before = seriesOf((await scrape(gw.url)).text);
    const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(gw.url, { token: TEST_TOKEN })));
    await Promise.all(clients.map((client, i) => turn(client, `s-${i}`, `card-${i + 1}`)));
    const after = seriesOf((await scrape(gw.url)).text);
    expect(after).toEqual(before);
    expect(after.join('\n')).not.toMatch(/card-|s-\d|[0-9a-f]{8}-[0-9a-f]{4}-/);
  });
});
