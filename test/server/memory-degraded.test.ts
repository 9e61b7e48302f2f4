/**
 * RAM-only mode seen from the wire. What is simulated (root ignores file modes; see
 * test/memory/degraded-store.test.ts): a corrupt file is real garbage bytes; "read-only while running" is
 * the live connection switched to query_only, so SQLite reports SQLITE_READONLY as it does for a file that
 * became read-only, with reopen attempts refused until the folder "comes back".
 */
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../memory/db.js';
import { DATABASE_FILE, openStore } from '../../memory/store.js';
import type { ResilientStore } from '../../memory/resilient-store.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf, type Frame } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const isFinal = (runId: string) => (f: Frame) => f.event === 'chat' && (f.payload as { runId?: string; state?: string }).runId === runId && (f.payload as { state?: string }).state === 'final';
const isError = (f: Frame) => f.event === 'memory.event' && (f.payload as { op: string }).op === 'error';

async function status(port: number): Promise<{ database: { state: string; reason?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/status`);
  return (await res.json()) as { database: { state: string; reason?: string } };
}

describe('degraded mode over the wire', () => {
  it('a corrupt database at start: chat from RAM, degraded /status, MEMORY_UNAVAILABLE, an error event; recovery when the file is replaced', async () => {
    const dataDir = tempDir('brainstem-corrupt-');
    writeFileSync(join(dataDir, DATABASE_FILE), 'garbage, not sqlite '.repeat(200));
    const gw = await startTestGateway({ dataDir, config: { memoryDbRetryIntervalMs: 60_000 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    const legacy = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    expect(payloadOf(await client.event('memory.event', isError), 'memory.event')).toMatchObject({ sessionKey: '*', op: 'error', ids: [] });
    expect((await status(gw.port)).database).toMatchObject({ state: 'degraded', reason: 'SQLITE_NOTADB' });
    resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'still here', idempotencyKey: 'd1' }), 'chat.send');
    await client.event('chat', isFinal('d1'));
    const refused = await client.request('memory.query', {});
    expect(refused.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { code: 'MEMORY_UNAVAILABLE' } });
    rmSync(join(dataDir, DATABASE_FILE));
    expect((gw.store as ResilientStore).retryNow()).toBe(true);
    expect((await status(gw.port)).database.state).toBe('ok');
    const { items } = resultOf(await client.request('memory.query', { text: 'still here' }), 'memory.query');
    expect(items.map((item) => item.text)).toContain('still here');
    expect(legacy.events().some((f) => f.event === 'memory.event')).toBe(false);
    await gw.close();
    const reopened = openStore(dataDir);
    expect(reopened.sessions.get('agent:main:main')?.messageCount).toBe(2);
    reopened.close();
  });

  it('the database turning read-only while running: an error event, chat goes on, and what was acked meanwhile reaches the disk on recovery', async () => {
    const dataDir = tempDir('brainstem-ro-');
    let live: Db | undefined;
    let refuse = false;
    const open = (path: string, options: { createDir: boolean }): Db => {
      if (refuse) throw Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
      live = openDatabase(path, undefined, options);
      return live;
    };
    const gw = await startTestGateway({ dataDir, storeOptions: { open }, config: { memoryDbRetryIntervalMs: 60_000 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['memory.v1'] });
    resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'before', idempotencyKey: 'r1' }), 'chat.send');
    await client.event('chat', isFinal('r1'));
    live?.pragma('query_only = ON');
    refuse = true;
    resultOf(await client.request('chat.send', { sessionKey: 'main', message: 'during read-only', idempotencyKey: 'r2' }), 'chat.send');
    expect(payloadOf(await client.event('memory.event', isError), 'memory.event').reason).toContain('SQLITE_READONLY');
    await client.event('chat', isFinal('r2'));
    expect((await status(gw.port)).database).toMatchObject({ state: 'degraded', reason: 'SQLITE_READONLY' });
    expect((gw.store as ResilientStore).retryNow()).toBe(false);
    refuse = false;
    expect((gw.store as ResilientStore).retryNow()).toBe(true);
    const history = resultOf(await client.request('chat.history', { sessionKey: 'main' }), 'chat.history');
    expect('messages' in history && history.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    await gw.close();
    const reopened = openStore(dataDir);
    const session = reopened.sessions.get('agent:main:main');
    expect(reopened.transcript.page('agent:main:main', session?.sessionId ?? '', 10, 0).messages).toHaveLength(4);
    reopened.close();
  });
});
