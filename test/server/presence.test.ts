import { describe, expect, it } from 'vitest';
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
});
