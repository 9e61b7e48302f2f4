import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
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
});
