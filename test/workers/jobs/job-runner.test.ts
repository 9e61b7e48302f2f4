import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PermanentJobError, type JobHandler } from '../../../workers/jobs/job-runner.js';
import { eventually, jobDatabase, jobRunner, newJob, untilAborted } from '../../helpers/jobs.js';

const ok: JobHandler = async () => ({ result: 'ok' });

describe('JobRunner', () => {
  it('runs a due job to done and reports each transition', async () => {
    const { runner, store, changes } = jobRunner(jobDatabase().db, { work: ok });
    runner.enqueue(newJob('a'));
    await eventually(() => store.get('a')?.state === 'done');
    expect(changes.map((c) => c.job.state)).toEqual(['pending', 'running', 'done']);
    expect(store.get('a')).toMatchObject({ attempts: 1, result: 'ok' });
  });

  it('reports a job-table write that fails with a SqliteError, and treats it as a failed attempt', async () => {
    const db = jobDatabase().db;
    db.exec("CREATE TRIGGER refuse_done BEFORE UPDATE OF state ON jobs WHEN NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    const errors: unknown[] = [];
    const { runner, store } = jobRunner(db, { work: ok }, { onDatabaseError: (err) => errors.push(err) });
    runner.enqueue(newJob('a', { maxAttempts: 1 }));
    await eventually(() => store.get('a')?.state === 'dead');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BetterSqlite3.SqliteError);
    expect(store.get('a')?.lastError).toBe('disk on fire');
  });

  it('retries a failing job after a backoff and finishes it', async () => {
    let calls = 0;
    const flaky: JobHandler = async () => {
      calls += 1;
      if (calls < 3) throw new Error(`failure ${calls}`);
      return { result: calls };
    };
    const { runner, store, changes } = jobRunner(jobDatabase().db, { work: flaky });
    runner.enqueue(newJob('a', { maxAttempts: 3 }));
    await eventually(() => store.get('a')?.state === 'done');
    expect(store.get('a')).toMatchObject({ attempts: 3, result: 3 });
    const retries = changes.filter((c) => c.previous?.state === 'running' && c.job.state === 'pending');
    expect(retries.map((c) => c.job.lastError)).toEqual(['failure 1', 'failure 2']);
    // backoff base 20 ms, jitter 0.5: 15 ms then 30 ms after the failures
    expect(retries.map((c) => c.job.nextRunAt - c.job.updatedAt)).toEqual([15, 30]);
  });

  it('makes a dead letter of a job whose attempts all failed; reset runs it again', async () => {
    let fail = true;
    const { runner, store } = jobRunner(jobDatabase().db, {
      work: async () => {
        if (fail) throw new Error('always');
        return { result: 'finally' };
      },
    });
    runner.enqueue(newJob('a', { maxAttempts: 2 }));
    await eventually(() => store.get('a')?.state === 'dead');
    expect(store.get('a')).toMatchObject({ attempts: 2, lastError: 'always' });
    expect(store.deadLetters(5).map((j) => j.id)).toEqual(['a']);
    fail = false;
    expect(runner.reset('a', undefined)).toBe(true);
    await eventually(() => store.get('a')?.state === 'done');
    expect(store.get('a')).toMatchObject({ attempts: 1, result: 'finally' });
  });

  it('fails a job at once for a permanent error and for an unknown kind', async () => {
    const { runner, store } = jobRunner(jobDatabase().db, { work: async () => { throw new PermanentJobError('bad input'); } });
    runner.enqueue(newJob('a'));
    runner.enqueue(newJob('b', { kind: 'nobody' }));
    await eventually(() => store.get('a')?.state === 'failed' && store.get('b')?.state === 'failed');
    expect(store.get('a')).toMatchObject({ attempts: 1, lastError: 'bad input' });
    expect(store.get('b')?.lastError).toContain('no worker handles jobs of kind nobody');
  });

  it('cancel aborts a running attempt at once and the job stays cancelled', async () => {
    const h = untilAborted();
    const { runner, store } = jobRunner(jobDatabase().db, { work: h.handler });
    runner.enqueue(newJob('a'));
    await eventually(() => h.started.length === 1);
    expect(runner.cancel('a')).toBe(true);
    expect(store.get('a')).toMatchObject({ state: 'failed', cancelled: true });
    await eventually(() => h.aborted.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.get('a')).toMatchObject({ state: 'failed', cancelled: true });
    expect(runner.cancel('a')).toBe(false);
  });

  it('pausing a running job puts it back uncounted; releasing the hold runs it again', async () => {
    let first = true;
    const h = untilAborted();
    const { runner, store } = jobRunner(jobDatabase().db, {
      work: (ctx) => {
        if (!first) return ok(ctx);
        first = false;
        return h.handler(ctx);
      },
    });
    runner.enqueue(newJob('a'));
    await eventually(() => h.started.length === 1);
    expect(runner.hold('a', 'paused')).toBe(true);
    expect(store.get('a')).toMatchObject({ state: 'pending', hold: 'paused', attempts: 0 });
    await eventually(() => h.aborted.length === 1);
    expect(runner.unhold('a')).toBe(true);
    await eventually(() => store.get('a')?.state === 'done');
    expect(store.get('a')?.attempts).toBe(1);
  });

  it('counts an attempt that runs past its timeout as failed', async () => {
    const h = untilAborted();
    const { runner, store } = jobRunner(jobDatabase().db, { work: h.handler }, { attemptTimeoutMs: 30 });
    runner.enqueue(newJob('a', { maxAttempts: 1 }));
    await eventually(() => store.get('a')?.state === 'dead');
    expect(store.get('a')?.lastError).toBe('attempt timed out after 30 ms');
  });

  it('admits jobs while pending plus reserved fit the lane bound, and estimates retryAfterMs beyond', () => {
    const { runner } = jobRunner(jobDatabase().db, {});
    const background = new Map([['background', 3]]);
    expect(runner.refusal(background)).toBeUndefined();
    const reservation = runner.reserve(background);
    runner.enqueue(newJob('held', { hold: 'paused' }));
    const refusal = runner.refusal(new Map([['background', 1]]));
    expect(refusal).toMatchObject({ lane: 'background', limit: 4 });
    expect(refusal?.retryAfterMs).toBeGreaterThanOrEqual(250);
    reservation.release();
    reservation.release();
    expect(runner.refusal(background)).toBeUndefined();
    expect(runner.lanes().find((l) => l.name === 'background')).toMatchObject({ queued: 1, running: 0, concurrency: 1, maxQueue: 4 });
  });

  it('after a crash, runs pending jobs and retries running ones; a side effect still happens once', async () => {
    const { db, path } = jobDatabase();
    let effects = 0;
    const effect = () => ++effects;
    // First life: the side-effecting job commits its effect, then the process dies before the job is done.
    const first = untilAborted();
    const one = jobRunner(db, {
      work: (ctx) => {
        ctx.once('send-report', effect);
        return first.handler(ctx);
      },
    }, { lanes: [{ name: 'background', concurrency: 1, maxQueue: 4, priority: 2 }] });
    one.runner.enqueue(newJob('effect', { idempotencyKey: 'send-report' }));
    one.runner.enqueue(newJob('later'));
    await eventually(() => first.started.length === 1);
    expect(one.store.get('effect')?.state).toBe('running');
    expect(one.store.get('later')?.state).toBe('pending');
    db.close(); // kill -9: nothing of the first runner gets to clean up

    // Second life on the same file.
    const db2 = new BetterSqlite3(path);
    const ran: string[] = [];
    const two = jobRunner(db2, {
      work: async (ctx) => {
        ran.push(ctx.job.id);
        const { ran: effectRan } = ctx.once('send-report', effect);
        return { result: { effectRan } };
      },
    });
    expect(two.runner.start()).toBe(1);
    await eventually(() => two.store.get('effect')?.state === 'done' && two.store.get('later')?.state === 'done');
    expect(ran.sort()).toEqual(['effect', 'later']);
    expect(effects).toBe(1);
    expect(two.store.get('effect')).toMatchObject({ attempts: 2, result: { effectRan: false } });
    // the same key enqueued again is the same job: it does not run a third time
    expect(two.runner.enqueue(newJob('effect-again', { idempotencyKey: 'send-report' })).id).toBe('effect');
    db2.close();
  });
});
