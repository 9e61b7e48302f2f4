import { describe, expect, it } from 'vitest';
import type { Store } from '../../memory/store.js';
import { SWEEP_BATCH } from '../../workers/turn-service.js';
import { startTestGateway } from '../helpers/gateway.js';

/** Finished records that expired long ago, plus one still alive; returns the expired keys. */
function seed(store: Store, expired: number): string[] {
  const keys = Array.from({ length: expired }, (_, i) => `expired-${i}`);
  store.transaction(() => {
    for (const key of [...keys, 'alive']) {
      store.idempotency.reserve(key, 'chat.send', 'h', key, 0);
      store.idempotency.complete(key, 'ok', { runId: key, status: 'ok' }, key === 'alive' ? Date.now() + 3_600_000 : 1_000);
    }
  });
  return keys;
}

const left = (store: Store, keys: string[]): number => keys.filter((key) => store.idempotency.get(key, 0) !== undefined).length;

describe('idempotency sweep', () => {
  it('drops every expired record, a batch per event-loop turn, and keeps live ones', async () => {
    const gw = await startTestGateway();
    const keys = seed(gw.store, 2 * SWEEP_BATCH + 3);
    const sweep = gw.gateway.services.turns.sweep();
    // The first batch ran synchronously; the rest waits for the event loop.
    expect(left(gw.store, keys)).toBe(SWEEP_BATCH + 3);
    expect(await sweep).toBe(keys.length);
    expect(left(gw.store, keys)).toBe(0);
    expect(gw.store.idempotency.get('alive', Date.now())?.status).toBe('ok');
  });

  it('stops between batches when the turn service closes', async () => {
    const gw = await startTestGateway();
    const keys = seed(gw.store, 2 * SWEEP_BATCH);
    const sweep = gw.gateway.services.turns.sweep();
    const closing = gw.gateway.services.turns.close(0);
    expect(await sweep).toBe(SWEEP_BATCH);
    await closing;
    expect(left(gw.store, keys)).toBe(SWEEP_BATCH);
  });
});
