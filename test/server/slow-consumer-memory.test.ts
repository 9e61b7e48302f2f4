import { describe, expect, it } from 'vitest';
import { MEMORY_PROBE_NODE_ARGS, memorySample, running, spawnGateway } from '../helpers/spawn-gateway.js';
import { sampleValue, scrape } from '../helpers/metrics-text.js';
import { RawClient, type Frame } from '../helpers/raw-client.js';

const MAX_BUFFERED = 1_048_576;
/** Bytes streamed to a normal reader before the test stops: many times what one socket may buffer. */
const STREAMED_BYTES = 16 * 1_048_576;
/** ~30 KB of words: the local provider echoes it in four chunks, ~200 KB of events per run per firehose client. */
const LONG_MESSAGE = Array.from({ length: 5_000 }, (_, i) => `word${i}`).join(' ');
/** The largest frame a run sends (a cumulative assistant event or the final, ~30 KB of text plus JSON), with room. */
const LARGEST_FRAME_BYTES = 128 * 1024;
/** Runs sent together; they may end in one event-loop turn, whose frames go out together (outbound.ts). */
const RUNS_PER_ROUND = 8;
/** Post-GC heap + external growth allowed over the whole test: session contexts of 8 sessions, caches, noise. */
const HEAP_SLACK_BYTES = 12e6;

describe('a client that reads nothing (gateway in a child process)', () => {
  it('is closed as a slow consumer while the bytes held for it stay bounded, and other clients are unaffected', async () => {
    const token = 'slow-consumer-token';
    const gw = await spawnGateway({
      token,
      nodeArgs: MEMORY_PROBE_NODE_ARGS,
      args: ['--log-level', 'warn', '--max-buffered-bytes', String(MAX_BUFFERED), '--droppable-buffered-bytes', '65536', '--chat-delta-interval-ms', '0'],
    });
    // The driver sees no events (session-scoped, subscribed to nothing): it only sends turns and waits for them.
    const driver = await RawClient.connect(gw.url, { token, caps: ['session-scoped-events'] });
    const reader = await RawClient.connect(gw.url, { token });
    let readBytes = 0;
    reader.ws.on('message', (data: Buffer) => (readBytes += data.length));
    const slow = await RawClient.connect(gw.url, { token });
    // One turn first: what loads once on the first turn (the tokenizer's tables) is not a cost of this client.
    await driver.request('chat.send', { sessionKey: 'warm-up', message: 'warm up', idempotencyKey: 'warm-up' });
    await driver.request('agent.wait', { runId: 'warm-up', timeoutMs: 20_000 });
    const baseline = await memorySample(gw);
    slow.ws.pause();

    let peakBuffered = 0;
    let runs = 0;
    let closedAfterRuns: number | undefined;
    for (let round = 0; closedAfterRuns === undefined || readBytes < STREAMED_BYTES; round++) {
      if (round > 400) throw new Error(`the slow consumer was not closed (read ${readBytes} bytes)`);
      const ids = Array.from({ length: RUNS_PER_ROUND }, (_, i) => `r${round}-${i}`);
      await Promise.all(ids.map((id, i) => driver.request('chat.send', { sessionKey: `s-${i}`, message: LONG_MESSAGE, idempotencyKey: id })));
      await Promise.all(ids.map((id) => driver.request('agent.wait', { runId: id, timeoutMs: 20_000 })));
      runs += ids.length;
      const { text } = await scrape(gw.url);
      peakBuffered = Math.max(peakBuffered, sampleValue(text, 'brainstem_outbound_buffered_bytes', { stat: 'max' }) ?? 0);
      if (closedAfterRuns === undefined && sampleValue(text, 'brainstem_slow_consumer_closes_total') === 1) closedAfterRuns = runs;
    }
    const end = await memorySample(gw);
    const heapGrowth = end.heapUsed + end.external - baseline.heapUsed - baseline.external;
    console.log(
      `slow consumer closed after ${closedAfterRuns} runs; ${runs} runs, ${(readBytes / 1e6).toFixed(1)} MB to the reader; ` +
        `peak buffered for one socket ${(peakBuffered / 1e6).toFixed(2)} MB; heap+external growth ${(heapGrowth / 1e6).toFixed(1)} MB`,
    );
    // Without backpressure everything the reader got would also be queued for the slow client.
    expect(peakBuffered).toBeGreaterThan(0);
    // The backlog past which it is closed, plus one event-loop turn's frames: a frame for each run of a round
    // that ended in that turn (once, 1,181,703 bytes: over one frame's allowance by 2 KB).
    expect(peakBuffered).toBeLessThanOrEqual(MAX_BUFFERED + RUNS_PER_ROUND * LARGEST_FRAME_BYTES);
    expect(heapGrowth).toBeLessThan(MAX_BUFFERED + HEAP_SLACK_BYTES);
    expect(readBytes).toBeGreaterThanOrEqual(STREAMED_BYTES);

    const finals = reader.events('chat').filter((f: Frame) => (f.payload as { state?: string }).state === 'final').filter((f: Frame) => (f.payload as { runId?: string }).runId !== 'warm-up');
    expect(finals).toHaveLength(runs);
    expect(reader.ws.readyState).toBe(reader.ws.OPEN);
    slow.ws.resume();
    const closed = await slow.waitClose(15_000);
    expect([1006, 1008]).toContain(closed.code);
    expect(running(gw)).toBe(true);
  }, 120_000);
});
