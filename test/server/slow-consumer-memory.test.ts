import { describe, expect, it } from 'vitest';
import { spawnGateway } from '../helpers/spawn-gateway.js';
import { sampleValue, scrape } from '../helpers/metrics-text.js';
import { RawClient, type Frame } from '../helpers/raw-client.js';

const MAX_BUFFERED = 1_048_576;
/** Bytes streamed to a normal reader before the test stops: many times what one socket may buffer. */
const STREAMED_BYTES = 16 * 1_048_576;
/** ~30 KB of words: the local provider echoes it in four chunks, ~200 KB of events per run per firehose client. */
const LONG_MESSAGE = Array.from({ length: 5_000 }, (_, i) => `word${i}`).join(' ');

describe('a client that reads nothing (gateway in a child process)', () => {
  it('is closed as a slow consumer while the gateway memory stays bounded, and other clients are unaffected', async () => {
    const gw = await spawnGateway({ args: ['--max-buffered-bytes', String(MAX_BUFFERED), '--droppable-buffered-bytes', '65536', '--chat-delta-interval-ms', '0'] });
    const token = gw.token;
    // The driver sees no events (session-scoped, subscribed to nothing): it only sends turns and waits for them.
    const driver = await RawClient.connect(gw.url, { token, caps: ['session-scoped-events'] });
    const reader = await RawClient.connect(gw.url, { token });
    let readBytes = 0;
    reader.ws.on('message', (data: Buffer) => (readBytes += data.length));
    const slow = await RawClient.connect(gw.url, { token });
    const baseline = await gw.memory();
    slow.ws.pause();

    let peak = 0;
    let runs = 0;
    let closedAfterRuns: number | undefined;
    for (let round = 0; closedAfterRuns === undefined || readBytes < STREAMED_BYTES; round++) {
      if (round > 400) throw new Error(`the slow consumer was not closed (read ${readBytes} bytes)`);
      const ids = Array.from({ length: 8 }, (_, i) => `r${round}-${i}`);
      await Promise.all(ids.map((id, i) => driver.request('chat.send', { sessionKey: `s-${i}`, message: LONG_MESSAGE, idempotencyKey: id })));
      await Promise.all(ids.map((id) => driver.request('agent.wait', { runId: id, timeoutMs: 20_000 })));
      runs += ids.length;
      if (round % 4 === 0) {
        const sample = await gw.memory();
        peak = Math.max(peak, sample.heapUsed + sample.external - baseline.heapUsed - baseline.external);
      }
      if (closedAfterRuns === undefined && sampleValue((await scrape(gw.url)).text, 'brainstem_slow_consumer_closes_total') === 1) closedAfterRuns = runs;
    }
    const end = await gw.memory();
    peak = Math.max(peak, end.heapUsed + end.external - baseline.heapUsed - baseline.external);
    console.log(`slow consumer closed after ${closedAfterRuns} runs; ${runs} runs, ${(readBytes / 1e6).toFixed(1)} MB to the reader; peak growth ${(peak / 1e6).toFixed(1)} MB`);
    // Without backpressure the gateway holds what the reader got for the slow client too (measured: +21 MB
    // after 26 MB streamed); with it, one socket's buffer plus noise.
    expect(peak).toBeLessThan(MAX_BUFFERED + 6e6);

    const finals = reader.events('chat').filter((f: Frame) => (f.payload as { state?: string }).state === 'final');
    expect(finals).toHaveLength(runs);
    expect(reader.ws.readyState).toBe(reader.ws.OPEN);
    slow.ws.resume();
    const closed = await slow.waitClose(15_000);
    expect([1006, 1008]).toContain(closed.code);
    expect(gw.running()).toBe(true);
  }, 120_000);
});
