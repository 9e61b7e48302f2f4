import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../workers/providers/types.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, type Frame } from '../helpers/raw-client.js';
import { scriptedProvider } from '../helpers/scripted-provider.js';

describe('turn logs', () => {
  it('carry the request id, the run id and the session key', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const provider = scriptedProvider('p', [{ error: new ProviderError('server', 'upstream broke') }]);
    const gw = await startTestGateway({ provider, logger: pino({ level: 'debug' }, sink), config: { memoryMaxItems: 2 } });
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    client.send({ type: 'req', id: 'req-42', method: 'chat.send', params: { sessionKey: 'logs', message: 'hi', idempotencyKey: 'run-42' } });
    await client.event('chat', (f: Frame) => (f.payload as { state?: string }).state === 'error');
    const failed = lines.find((line) => line.msg === 'run failed');
    expect(failed).toMatchObject({ reqId: 'req-42', runId: 'run-42', sessionKey: 'agent:main:logs', method: 'chat.send' });
  });

  it.each([
    ['info', 0],
    ['debug', 1],
  ] as const)('make the turn logger for a memory eviction only when debug is on (%s)', async (level, loggersMade) => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const root = pino({ level }, sink);
    const gw = await startTestGateway({ logger: root, config: { memoryMaxItems: 2 } });
    const turns = gw.gateway.services.turns;
    const makers = [vi.fn(() => root.child({ reqId: 'first' })), vi.fn(() => root.child({ reqId: 'second' }))];
    // The second turn's messages push the context past two items: each append evicts and logs it at debug.
    for (const [i, makeLogger] of makers.entries()) {
      const { runId } = await turns.submit({ kind: 'chat', idempotencyKey: `run-${i}`, sessionKey: 'agent:main:evict', agentId: 'main', message: `turn ${i}`, queueMode: 'followup', logger: makeLogger });
      await turns.wait(runId, 5_000);
    }
    expect(makers.filter((maker) => maker.mock.calls.length > 0)).toHaveLength(loggersMade);
    const evictions = lines.filter((line) => line.msg === 'memory operation' && line.op === 'evict');
    if (level === 'debug') expect(evictions[0]).toMatchObject({ reqId: 'second', runId: 'run-1', reason: 'over-limit' });
    else expect(evictions).toEqual([]);
  });
});
