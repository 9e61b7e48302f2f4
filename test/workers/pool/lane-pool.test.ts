import { describe, expect, it } from 'vitest';
import { LanePool, type LaneSpec, type PoolJob } from '../../../workers/pool/lane-pool.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves once `check` holds, polling each event-loop turn (fails after 2 s). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const lanes: LaneSpec[] = [
  { name: 'interactive', concurrency: 2, maxQueue: 100, priority: 0 },
  { name: 'research', concurrency: 3, maxQueue: 100, priority: 1 },
  { name: 'background', concurrency: 1, maxQueue: 3, priority: 2 },
];

function harness(options: { maxRunning?: number; agingMs?: number; now?: () => number } = {}) {
  const pool = new LanePool(lanes, { maxRunning: options.maxRunning ?? 10, agingMs: options.agingMs ?? 60_000, now: options.now ?? Date.now, onError: (err) => { throw err; } });
  const started: string[] = [];
  const gates = new Map<string, Gate>();
  let running = 0;
  let peak = 0;
  const job = (id: string, lane: string, readyAt = 0): PoolJob => {
    const g = gate();
    gates.set(id, g);
    return {
      id,
      lane,
      readyAt,
      run: async (signal) => {
        started.push(id);
        running += 1;
        peak = Math.max(peak, running);
        await Promise.race([g.promise, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
        running -= 1;
      },
    };
  };
  return { pool, started, gates, job, peak: () => peak, running: () => running };
}

describe('LanePool', () => {
  it('runs at most the lane concurrency at once, never beyond, and every job in the end', async () => {
    const h = harness();
    for (let i = 0; i < 10; i++) expect(h.pool.push(h.job(`r${i}`, 'research'))).toBe(true);
    await until(() => h.started.length === 3);
    for (let i = 0; i < 10; i++) {
      h.gates.get(`r${i}`)?.open();
      await until(() => h.started.length >= Math.min(10, i + 4) && h.running() <= 3);
    }
    await until(() => h.pool.running === 0);
    expect(h.started).toHaveLength(10);
    expect(h.peak()).toBe(3);
    expect(h.pool.peak.get('research')).toBe(3);
  });

  it('shares maxRunning slots across lanes', async () => {
    const h = harness({ maxRunning: 2 });
    for (const [id, lane] of [['a', 'research'], ['b', 'research'], ['c', 'interactive'], ['d', 'background']] as const) h.pool.push(h.job(id, lane));
    await until(() => h.started.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.running()).toBe(2);
    for (const g of h.gates.values()) g.open();
    await until(() => h.started.length === 4 && h.pool.running === 0);
    expect(h.peak()).toBe(2);
  });

  it('takes interactive work ahead of background work that was queued first', async () => {
    const h = harness({ maxRunning: 1 });
    h.pool.push(h.job('bg-1', 'background'));
    await until(() => h.started.length === 1);
    h.pool.push(h.job('bg-2', 'background'));
    h.pool.push(h.job('bg-3', 'background'));
    h.pool.push(h.job('int-1', 'interactive'));
    h.gates.get('bg-1')?.open();
    await until(() => h.started.length === 2);
    expect(h.started).toEqual(['bg-1', 'int-1']);
    for (const g of h.gates.values()) g.open();
    await until(() => h.started.length === 4);
    expect(h.started.slice(2)).toEqual(['bg-2', 'bg-3']);
  });

  it('ages waiting background work so a stream of interactive work cannot starve it', async () => {
    let now = 0;
    const h = harness({ maxRunning: 1, agingMs: 100, now: () => now });
    h.pool.push(h.job('busy', 'interactive', 0));
    await until(() => h.started.length === 1);
    h.pool.push(h.job('bg', 'background', 0));
    now = 50;
    h.pool.push(h.job('int-1', 'interactive', 50));
    h.gates.get('busy')?.open();
    await until(() => h.started.length === 2);
    // bg has waited 50 ms: still two levels below interactive work.
    expect(h.started.at(-1)).toBe('int-1');
    now = 300;
    h.pool.push(h.job('int-2', 'interactive', 300));
    h.gates.get('int-1')?.open();
    await until(() => h.started.length === 3);
    // bg has waited 300 ms = three levels: it now goes ahead of fresh interactive work.
    expect(h.started.at(-1)).toBe('bg');
    for (const g of h.gates.values()) g.open();
    await until(() => h.started.length === 4);
  });

  it('refuses a job beyond the lane queue bound and an unknown lane', async () => {
    const h = harness({ maxRunning: 1 });
    h.pool.push(h.job('hold', 'interactive'));
    await until(() => h.started.length === 1);
    for (let i = 0; i < 3; i++) expect(h.pool.push(h.job(`bg${i}`, 'background'))).toBe(true);
    expect(h.pool.push(h.job('bg-over', 'background'))).toBe(false);
    expect(h.pool.room('background')).toBe(0);
    expect(h.pool.push(h.job('x', 'nowhere'))).toBe(false);
    await h.pool.close(new Error('done'));
  });

  it('abort takes a queued job out and aborts a running one at once', async () => {
    const h = harness({ maxRunning: 1 });
    h.pool.push(h.job('run', 'interactive'));
    h.pool.push(h.job('queued', 'interactive'));
    await until(() => h.started.length === 1);
    expect(h.pool.abort('queued', new Error('stop'))).toBe('queued');
    expect(h.pool.abort('run', new Error('stop'))).toBe('running');
    await until(() => h.pool.running === 0);
    expect(h.started).toEqual(['run']);
    expect(h.pool.abort('nothing', new Error('stop'))).toBeUndefined();
  });

  it('close drops what waits, aborts what runs and waits for it; twice is fine', async () => {
    const h = harness({ maxRunning: 1 });
    h.pool.push(h.job('a', 'interactive'));
    h.pool.push(h.job('b', 'interactive'));
    await until(() => h.started.length === 1);
    await h.pool.close(new Error('shutdown'));
    await h.pool.close(new Error('shutdown'));
    expect(h.pool.running).toBe(0);
    expect(h.started).toEqual(['a']);
    expect(h.pool.push(h.job('c', 'interactive'))).toBe(false);
  });
});
