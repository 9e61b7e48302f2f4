import { describe, expect, it } from 'vitest';
import type { Connection } from '../../server/connection.js';
import { LOCAL_REPLY_PREFIX } from '../../workers/providers/local.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { RawClient, type Frame } from '../helpers/raw-client.js';

/** ~30 KB of words: each run streams ~200 KB of chat and agent events to every firehose client. */
const LONG_MESSAGE = Array.from({ length: 5_000 }, (_, i) => `word${i}`).join(' ');
const FULL_REPLY = `${LOCAL_REPLY_PREFIX}${LONG_MESSAGE}`;

/** The gateway's side of a client's connection, found by the connId of its hello-ok. */
function serverSide(gw: TestGateway, client: RawClient): Connection {
  const hello = client.frames.find((f) => (f.payload as { type?: string } | undefined)?.type === 'hello-ok');
  const connId = (hello?.payload as { server: { connId: string } }).server.connId;
  const conn = [...gw.gateway.services.broadcaster.connections()].find((c) => c.connId === connId);
  if (conn === undefined) throw new Error(`no server connection ${connId}`);
  return conn;
}

const chatState = (f: Frame): string | undefined => (f.event === 'chat' ? (f.payload as { state?: string }).state : undefined);

/** Sends `count` turns on separate sessions and waits until all have ended (by agent.wait, not by events). */
async function streamRuns(driver: RawClient, count: number, prefix: string): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(ids.map((id, i) => driver.request('chat.send', { sessionKey: `${prefix}-s${i % 8}`, message: LONG_MESSAGE, idempotencyKey: id })));
  await Promise.all(ids.map((id) => driver.request('agent.wait', { runId: id, timeoutMs: 15_000 })));
}

describe('slow consumers', () => {
  it('skips chat deltas for a client that fell behind, counts them, keeps their seq numbers, and sends every final in full', async () => {
    const gw = await startTestGateway({ config: { maxBufferedBytes: 64 * 1_048_576, droppableBufferedBytes: 65_536, chatDeltaIntervalMs: 0 } });
    const driver = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['session-scoped-events'] });
    const behind = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const conn = serverSide(gw, behind);
    behind.ws.pause();
    // Enough to fill the kernel's socket buffers, so bytes pile up in the gateway past the drop threshold.
    let runs = 0;
    for (let round = 0; conn.outbound.stats.droppedEvents === 0; round++) {
      if (round > 50) throw new Error('no delta was ever dropped');
      await streamRuns(driver, 8, `b${round}`);
      runs += 8;
    }
    behind.ws.resume();
    await waitUntil(() => behind.events('chat').filter((f) => chatState(f) === 'final').length === runs);

    const finals = behind.events('chat').filter((f) => chatState(f) === 'final');
    for (const final of finals) expect((final.payload as { message: { content: { text: string }[] } }).message.content[0]?.text).toBe(FULL_REPLY);
    const seqs = behind.events().filter((f) => f.event !== 'connect.challenge').map((f) => f.seq as number);
    const gaps = seqs.slice(1).reduce((sum, seq, i) => sum + (seq - (seqs[i] as number) - 1), 0);
    expect(seqs[0]).toBe(1);
    expect(gaps).toBe(conn.outbound.stats.droppedEvents);
    expect(gw.gateway.services.metrics.wire.droppedEvents).toBe(conn.outbound.stats.droppedEvents);
    expect(gw.gateway.services.metrics.wire.slowConsumerCloses).toBe(0);
    expect(conn.open).toBe(true);
  }, 60_000);

  it('closes a client that reads nothing with 1008 "slow consumer"; its buffer never passes maxBufferedBytes by more than one turn of frames', async () => {
    const maxBufferedBytes = 262_144;
    const gw = await startTestGateway({ config: { maxBufferedBytes, droppableBufferedBytes: 65_536, chatDeltaIntervalMs: 0 } });
    const driver = await RawClient.connect(gw.url, { token: TEST_TOKEN, caps: ['session-scoped-events'] });
    const reader = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const slow = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    const conn = serverSide(gw, slow);
    // Backlog is what earlier event-loop turns left undrained; a turn's own frames (corked until the next tick)
    // come on top, so the bound is maxBufferedBytes plus the most one turn sent.
    let peak = 0;
    let thisTurn = 0;
    let largestTurn = 0;
    let turnEnds: NodeJS.Immediate | undefined;
    const send = conn.ws.send.bind(conn.ws);
    conn.ws.send = ((data: string) => {
      send(data);
      peak = Math.max(peak, conn.ws.bufferedAmount);
      thisTurn += Buffer.byteLength(data) + 14; // a frame header is at most 14 bytes
      largestTurn = Math.max(largestTurn, thisTurn);
      turnEnds ??= setImmediate(() => {
        thisTurn = 0;
        turnEnds = undefined;
      });
    }) as typeof conn.ws.send;
    slow.ws.pause();
    let runs = 0;
    for (let round = 0; conn.open; round++) {
      if (round > 50) throw new Error('the slow consumer was never closed');
      await streamRuns(driver, 8, `c${round}`);
      runs += 8;
      // The reader lives in this process too: let it read each round, so that it keeps up by construction while
      // the paused client's backlog grows round after round.
      await waitUntil(() => reader.events('chat').filter((f) => chatState(f) === 'final').length === runs);
    }
    expect(peak).toBeGreaterThan(maxBufferedBytes);
    expect(peak).toBeLessThanOrEqual(maxBufferedBytes + largestTurn);
    expect(gw.gateway.services.metrics.wire.slowConsumerCloses).toBe(1);
    // The reader kept up and got everything; the slow client, once it reads, finds the close after its backlog.
    await waitUntil(() => reader.events('chat').filter((f) => chatState(f) === 'final').length === runs);
    expect(reader.ws.readyState).toBe(reader.ws.OPEN);
    slow.ws.resume();
    expect(await slow.waitClose(10_000)).toEqual({ code: 1008, reason: 'slow consumer' });
  }, 60_000);
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
