import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_TIMEOUTS, resolveTimeouts, StreamGuard } from '../../../workers/providers/stream-guard.js';
import { ProviderError } from '../../../workers/providers/types.js';

const LONG = 10_000;

function guard(
  overrides: Partial<{ connectMs: number; firstTokenMs: number; idleMs: number; runMs: number }>,
  signal = new AbortController().signal,
): StreamGuard {
  return new StreamGuard(
    signal,
    resolveTimeouts({ connectMs: LONG, firstTokenMs: LONG, idleMs: LONG, runMs: LONG, ...overrides }),
    'test/model',
  );
}

function reason(g: StreamGuard): ProviderError {
  expect(g.signal.aborted).toBe(true);
  expect(g.signal.reason).toBeInstanceOf(ProviderError);
  return g.signal.reason as ProviderError;
}

describe('StreamGuard', () => {
  it('has the documented defaults: connect 10 s, first token 60 s, idle 30 s, run 600 s', () => {
    expect(DEFAULT_PROVIDER_TIMEOUTS).toEqual({
      connectMs: 10_000,
      firstTokenMs: 60_000,
      idleMs: 30_000,
      runMs: 600_000,
    });
    expect(resolveTimeouts({ idleMs: 5 })).toEqual({ ...DEFAULT_PROVIDER_TIMEOUTS, idleMs: 5 });
  });

  it('times out when the connection does not open in time', async () => {
    const g = guard({ connectMs: 20 });
    await delay(60);
    expect(reason(g).kind).toBe('timeout');
    expect(reason(g).message).toMatch(/test\/model: could not connect within 20 ms/);
  });

  it('stops the connect clock once connected', async () => {
    const g = guard({ connectMs: 20 });
    g.connected();
    await delay(60);
    expect(g.signal.aborted).toBe(false);
    g.close();
  });

  it('times out when no first token comes in time, and stops that clock at the first token', async () => {
    const slow = guard({ firstTokenMs: 20 });
    await delay(60);
    expect(reason(slow).message).toMatch(/no first token within 20 ms/);

    const quick = guard({ firstTokenMs: 20 });
    quick.token();
    await delay(60);
    expect(quick.signal.aborted).toBe(false);
    quick.close();
  });

  it('times out after a silence once output started; activity restarts the idle clock', async () => {
    const g = guard({ idleMs: 40 });
    g.token();
    for (let i = 0; i < 5; i++) {
      await delay(15);
      g.activity();
    }
    expect(g.signal.aborted).toBe(false);
    await delay(80);
    expect(reason(g).message).toMatch(/stalled: no data for 40 ms/);
  });

  it('does not count idle time while the consumer holds an event', async () => {
    const g = guard({ idleMs: 20 });
    g.token();
    g.suspend();
    await delay(60);
    expect(g.signal.aborted).toBe(false);
    g.resume();
    await delay(60);
    expect(reason(g).kind).toBe('timeout');
  });

  it('ends the whole call after runMs even while data keeps coming', async () => {
    const g = guard({ runMs: 50, idleMs: 30 });
    g.connected();
    g.token();
    for (let i = 0; i < 8; i++) {
      await delay(10);
      g.activity();
    }
    expect(reason(g).message).toMatch(/took longer than 50 ms/);
  });

  it('turns the run signal into an `aborted` reason, also when it was aborted before', () => {
    const run = new AbortController();
    const g = guard({}, run.signal);
    run.abort(new Error('user pressed stop'));
    expect(reason(g).kind).toBe('aborted');
    expect(reason(g).cause).toEqual(new Error('user pressed stop'));

    const early = guard({}, run.signal);
    expect(reason(early).kind).toBe('aborted');
  });

  it('keeps the first reason and fires nothing after close()', async () => {
    const g = guard({ connectMs: 10 });
    g.close();
    g.close();
    await delay(40);
    expect(g.signal.aborted).toBe(false);

    const h = guard({});
    h.abort(new ProviderError('timeout', 'first'));
    h.abort(new ProviderError('aborted', 'second'));
    expect(reason(h).message).toBe('first');
  });
});
