import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { HelloOk } from '../../protocol/methods/connect.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient, connectParams, payloadOf, resultOf } from '../helpers/raw-client.js';

describe('presence', () => {
  it('coalesces a burst of connects into one presence event per debounce window', async () => {
    const gw = await startTestGateway({ config: { presenceDebounceMs: 200 } });
    const watcher = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(gw.url, { token: TEST_TOKEN })));
    const event = payloadOf(await watcher.event('presence', (f) => payloadOf(f, 'presence').presence.length === 12, 3_000), 'presence');
    expect(event.presence[0]).toMatchObject({ mode: 'gateway', reason: 'self' });
    await new Promise((r) => setTimeout(r, 300));
    // The watcher's own connect and the ten others: at most two windows, never one event per connect.
    expect(watcher.events('presence').length).toBeLessThanOrEqual(2);
  });

  it('caps the entries of hello-ok and presence events but lists everyone in system-presence', async () => {
    const gw = await startTestGateway({ config: { presenceMaxEntries: 3, presenceDebounceMs: 0 } });
    await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(gw.url, { token: TEST_TOKEN })));
    const client = await RawClient.open(gw.url);
    const hello = (await client.request('connect', connectParams({ token: TEST_TOKEN }))).payload as HelloOk;
    expect(hello.snapshot.presence).toHaveLength(3);
    const all = resultOf(await client.request('system-presence', {}), 'system-presence');
    expect(all).toHaveLength(7);
  });

  it('keeps the capped list while it is full and changes it when a listed client leaves or a place is free', async () => {
    const gw = await startTestGateway({ config: { presenceMaxEntries: 3, presenceDebounceMs: 0 } });
    const listedIn = async (): Promise<(string | undefined)[]> => {
      const client = await RawClient.open(gw.url);
      const hello = (await client.request('connect', connectParams({ token: TEST_TOKEN }))).payload as HelloOk;
      client.close();
      return hello.snapshot.presence.map((entry) => entry.instanceId);
    };
    const join = (instanceId: string) => RawClient.connect(gw.url, { token: TEST_TOKEN, client: { instanceId } });
    const a = await join('a');
    expect(await listedIn()).toEqual([undefined, 'a']);
    // A place is free: the next client is listed.
    const b = await join('b');
    expect(await listedIn()).toEqual([undefined, 'a', 'b']);
    // Full: newcomers wait for a place.
    await join('c');
    expect(await listedIn()).toEqual([undefined, 'a', 'b']);
    // A listed client leaves: its place goes to the first unlisted one.
    a.close();
    await vi.waitFor(async () => expect(await listedIn()).toEqual([undefined, 'b', 'c']));
    const event = payloadOf(await b.event('presence', (f) => !JSON.stringify(f.payload).includes('"instanceId":"a"')), 'presence');
    expect(event.presence.map((entry) => entry.instanceId)).toEqual([undefined, 'b', 'c']);
  });

  it('spaces presence events so that together they send at most presenceMaxBytesPerSec', async () => {
    const budget = 8_192;
    const gw = await startTestGateway({ config: { presenceDebounceMs: 0, presenceMaxBytesPerSec: budget } });
    const watcher = await RawClient.connect(gw.url, { token: TEST_TOKEN, client: { instanceId: 'watcher' } });
    const arrivals: { at: number; bytes: number; ids: (string | undefined)[] }[] = [];
    watcher.ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { event?: string; payload?: { presence: { instanceId?: string }[] } };
      if (frame.event === 'presence') arrivals.push({ at: performance.now(), bytes: JSON.stringify(frame.payload).length, ids: frame.payload?.presence.map((entry) => entry.instanceId) ?? [] });
    });
    await sleep(300);
    arrivals.length = 0;
    // The first join goes out at once, to 2 read clients; the next two wait for its bytes to fit the budget.
    await RawClient.connect(gw.url, { token: TEST_TOKEN, client: { instanceId: 'a' } });
    await RawClient.connect(gw.url, { token: TEST_TOKEN, client: { instanceId: 'b' } });
    await RawClient.connect(gw.url, { token: TEST_TOKEN, client: { instanceId: 'c' } });
    await vi.waitFor(() => expect(arrivals.at(-1)?.ids).toEqual([undefined, 'watcher', 'a', 'b', 'c']));
    expect(arrivals.map((arrival) => arrival.ids.length)).toEqual([3, 5]);
    const [first, second] = arrivals as [(typeof arrivals)[0], (typeof arrivals)[0]];
    expect(second.at - first.at).toBeGreaterThanOrEqual(((1000 * first.bytes * 2) / budget) * 0.9);
  });
});
