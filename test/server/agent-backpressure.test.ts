import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { JobHandler } from '../../workers/jobs/job-runner.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, payloadOf, resultOf, type Frame } from '../helpers/raw-client.js';
import { isChat } from '../helpers/turns.js';
import { planClient, sendGoal } from '../helpers/agent-plan.js';
import { eventually } from '../helpers/jobs.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Research that takes a while (abortable), so admitted work holds its lane. */
const slowResearch: JobHandler = (ctx) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ result: { kind: 'research', query: '', documents: 0, hits: [] } }), 150);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    }, { once: true });
  });

const GOAL = 'Look:\n- research one\n- research two\n- research three';

describe('backpressure', () => {
  it('a flooded lane answers QUEUE_FULL with retryAfterMs, memory stays flat, and the interactive path still answers', async () => {
    const gw = await startTestGateway({
      config: { laneResearchConcurrency: 1, laneResearchMaxQueue: 6, localChunkDelayMs: 20 },
      agentHandlers: new Map([['research', slowResearch]]),
    });
    const flooder = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const watcher = await planClient(gw.url, TEST_TOKEN);
    const runtime = gw.gateway.services.agent?.runtime;
    if (runtime === undefined) throw new Error('no agent runtime');

    let refusals = 0;
    let lastRefused = '';
    const flood = async (from: number, count: number): Promise<Frame[]> => {
      const refused: Frame[] = [];
      for (let i = from; i < from + count; i++) {
        const res = await flooder.request('chat.send', { sessionKey: `flood-${i}`, message: GOAL, idempotencyKey: `flood-${i}` });
        if (!res.ok && refused.length < 10) refused.push(res);
        if (!res.ok) {
          refusals += 1;
          lastRefused = `flood-${i}`;
        }
        flooder.frames.length = 0; // the test client keeps nothing, so the heap shows the gateway alone
        const research = runtime.runner.lanes().find((l) => l.name === 'research');
        expect(research?.queued ?? 0).toBeLessThanOrEqual(6);
      }
      return refused;
    };

    const warmup = await flood(0, 100);
    expect(refusals).toBeGreaterThanOrEqual(90);
    const error = warmup[0]?.error;
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'research queue is full; retry shortly',
      retryable: true,
      details: { code: 'QUEUE_FULL', queue: 'research', limit: 6 },
    });
    expect(error?.retryAfterMs).toBeGreaterThan(0);

    // While the lane is full: a turn that needs no research is served at once.
    await sendGoal(watcher, 'chat', 'hello-1', 'hello while the lane is full');
    const reply = payloadOf(await watcher.event('chat', isChat('hello-1', 'final'), 5_000), 'chat');
    expect(JSON.stringify(reply)).toContain(`${LOCAL_REPLY_PREFIX}hello while the lane is full`);

    // Refused requests leave nothing behind: once warm, the heap does not grow with them.
    await flood(100, 1_000);
    const before = heapAfterGc();
    refusals = 0;
    await flood(1_100, 1_000);
    const grown = heapAfterGc() - before;
    expect(refusals).toBeGreaterThanOrEqual(950);
    expect(grown).toBeLessThan(1_048_576);
    const { queued } = gw.gateway.services.turns.stats();
    expect(queued).toBe(0);
    // Nothing refused was stored: a refused key can be sent again later and is a new request.
    expect(gw.store.runs.get(lastRefused)).toBeUndefined();

    // The admitted goals all finish; afterwards the lane takes goals again.
    await eventually(() => runtime.runner.lanes().every((l) => l.queued === 0 && l.running === 0), 10_000);
    const retried = await flooder.request('chat.send', { sessionKey: lastRefused, message: GOAL, idempotencyKey: lastRefused });
    expect(resultOf(retried, 'chat.send').status).toBe('started');
  });
});
