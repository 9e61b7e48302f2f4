import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../../memory/db.js';
import { INTERRUPTED_ATTEMPT, JobStore } from '../../../workers/jobs/job-store.js';
import { JOB_MIGRATIONS } from '../../../workers/jobs/job-migrations.js';
import { jobDatabase, newJob } from '../../helpers/jobs.js';

function store(): JobStore {
  return new JobStore(jobDatabase().db);
}

describe('JobStore state machine', () => {
  it('goes pending → running → done, counting the attempt and keeping the result', () => {
    const s = store();
    const { job, created } = s.insert(newJob('a', { payload: { x: 1 } }), 100);
    expect(created).toBe(true);
    expect(job).toMatchObject({ id: 'a', state: 'pending', attempts: 0, nextRunAt: 100, payload: { x: 1 } });
    expect(s.claim('a', 110)).toBe(true);
    expect(s.get('a')).toMatchObject({ state: 'running', attempts: 1, startedAt: 110 });
    expect(s.claim('a', 111)).toBe(false);
    expect(s.complete('a', { answer: 42 }, 120)).toBe(true);
    expect(s.get('a')).toMatchObject({ state: 'done', result: { answer: 42 }, progress: 1, endedAt: 120 });
    expect(s.complete('a', {}, 130)).toBe(false);
  });

  it('puts a failed attempt back to pending until next_run_at, then dead once attempts are used up', () => {
    const s = store();
    s.insert(newJob('a', { maxAttempts: 2 }), 0);
    s.claim('a', 0);
    expect(s.retryLater('a', 'boom', 500, 10)).toBe(true);
    expect(s.get('a')).toMatchObject({ state: 'pending', attempts: 1, lastError: 'boom', nextRunAt: 500 });
    expect(s.due('background', 499, 10)).toEqual([]);
    expect(s.nextDueAfter(10)).toBe(500);
    expect(s.due('background', 500, 10).map((j) => j.id)).toEqual(['a']);
    s.claim('a', 500);
    expect(s.kill('a', 'boom again', 510)).toBe(true);
    expect(s.get('a')).toMatchObject({ state: 'dead', attempts: 2, lastError: 'boom again' });
    expect(s.deadLetters(10).map((j) => j.id)).toEqual(['a']);
    expect(s.reset('a', undefined, 600)).toBe(true);
    expect(s.get('a')).toMatchObject({ state: 'pending', attempts: 0, nextRunAt: 600 });
    expect(s.get('a')?.lastError).toBeUndefined();
  });

  it('never claims a held job; clearing the hold makes it due now', () => {
    const s = store();
    s.insert(newJob('a', { hold: 'deps' }), 0);
    expect(s.claim('a', 1)).toBe(false);
    expect(s.due('background', 10, 10)).toEqual([]);
    expect(s.setHold('a', undefined, 20)).toBe(true);
    expect(s.get('a')).toMatchObject({ hold: undefined, nextRunAt: 20 });
    expect(s.claim('a', 21)).toBe(true);
  });

  it('cancels pending, running and dead jobs, never finished ones', () => {
    const s = store();
    s.insert(newJob('p'), 0);
    s.insert(newJob('r'), 0);
    s.claim('r', 0);
    s.insert(newJob('d'), 0);
    s.claim('d', 0);
    s.complete('d', null, 1);
    for (const id of ['p', 'r']) expect(s.cancel(id, 5)).toBe(true);
    expect(s.cancel('d', 5)).toBe(false);
    expect(s.get('p')).toMatchObject({ state: 'failed', cancelled: true, lastError: 'cancelled' });
    expect(s.get('d')?.state).toBe('done');
  });

  it('release puts a running job back uncounted, with its hold and a note', () => {
    const s = store();
    s.insert(newJob('a'), 0);
    s.claim('a', 0);
    expect(s.release('a', 'approval', 5, 'waits for approval')).toBe(true);
    expect(s.get('a')).toMatchObject({ state: 'pending', attempts: 0, hold: 'approval', lastError: 'waits for approval' });
  });

  it('returns the first job for a second insert with the same idempotency key', () => {
    const s = store();
    s.insert(newJob('first', { idempotencyKey: 'k' }), 0);
    const again = s.insert(newJob('second', { idempotencyKey: 'k' }), 1);
    expect(again).toMatchObject({ created: false, job: { id: 'first' } });
    expect(s.get('second')).toBeUndefined();
  });

  it('runs a side effect once per key and returns the stored result after that', () => {
    const s = store();
    let runs = 0;
    const effect = () => ({ n: ++runs });
    expect(s.once('k', 'job', 0, effect)).toEqual({ ran: true, result: { n: 1 } });
    expect(s.once('k', 'job', 1, effect)).toEqual({ ran: false, result: { n: 1 } });
    expect(runs).toBe(1);
    expect(s.hasEffect('k')).toBe(true);
  });

  it('records an effect that writes through another connection to the same file (the memory store)', () => {
    const { db, path } = jobDatabase();
    const s = new JobStore(db);
    // The gateway's other connection: memory document writes commit there, inside once().
    const other = openDatabase(path);
    onTestFinished(() => {
      other.close();
    });
    other.exec('CREATE TABLE docs (key TEXT PRIMARY KEY, text TEXT NOT NULL)');
    const write = (text: string) => () => other.prepare('INSERT INTO docs (key, text) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET text = excluded.text').run('plan', text).changes;
    expect(s.once('k', 'job', 0, write('first'))).toEqual({ ran: true, result: 1 });
    expect(s.once('k', 'job', 1, write('second'))).toEqual({ ran: false, result: 1 });
    expect(other.prepare('SELECT text FROM docs').all()).toEqual([{ text: 'first' }]);
  });

  it('rolls back the effect record when the effect throws', () => {
    const s = store();
    expect(() => s.once('k', 'job', 0, () => {
      throw new Error('effect failed');
    })).toThrow('effect failed');
    expect(s.hasEffect('k')).toBe(false);
  });

  it('after a restart, puts running jobs back to pending with their attempt counted', () => {
    const s = store();
    s.insert(newJob('a'), 0);
    s.claim('a', 0);
    s.insert(newJob('b'), 0);
    expect(s.recoverRunning(9)).toBe(1);
    expect(s.get('a')).toMatchObject({ state: 'pending', attempts: 1, lastError: INTERRUPTED_ATTEMPT });
    expect(s.countsByState()).toEqual({ pending: 2, running: 0, done: 0, failed: 0, dead: 0 });
  });

  it('keeps its counts by state exact through every transition and the prune', () => {
    const { db } = jobDatabase();
    const s = new JobStore(db);
    const scanned = (): Record<string, number> => {
      const counts: Record<string, number> = { pending: 0, running: 0, done: 0, failed: 0, dead: 0 };
      for (const row of db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as { state: string; n: number }[]) counts[row.state] = row.n;
      return counts;
    };
    for (const id of ['a', 'b', 'c', 'd', 'e']) s.insert(newJob(id, { maxAttempts: 2 }), 0);
    expect(s.countsByState()).toEqual(scanned());
    for (const id of ['a', 'b', 'c', 'd']) s.claim(id, 1);
    s.complete('a', null, 2);
    s.fail('b', 'no', 2);
    s.kill('c', 'no', 2);
    s.retryLater('d', 'later', 5, 2);
    s.cancel('e', 2);
    expect(s.countsByState()).toEqual({ pending: 1, running: 0, done: 1, failed: 2, dead: 1 });
    expect(s.countsByState()).toEqual(scanned());
    s.claim('d', 5);
    expect(s.recoverRunning(6)).toBe(1);
    s.reset('c', undefined, 7);
    s.prune(10, 100);
    expect(s.countsByState()).toEqual(scanned());
    expect(s.countsByState()).toEqual({ pending: 2, running: 0, done: 0, failed: 0, dead: 0 });
  });

  it('counts the jobs of a database made before the counts existed (migration 102)', () => {
    const { db, path } = jobDatabase();
    db.close();
    const before = openDatabase(path, undefined, { migrations: JOB_MIGRATIONS.filter((m) => m.version < 102) });
    const insert = before.prepare("INSERT INTO jobs (id, kind, lane, state, max_attempts, next_run_at, payload, created_at, updated_at) VALUES (?, 'k', 'background', ?, 1, 0, '{}', 0, 0)");
    for (const [id, state] of [['a', 'done'], ['b', 'done'], ['c', 'pending']]) insert.run(id, state);
    before.close();
    const s = new JobStore(jobDatabase(path).db);
    expect(s.countsByState()).toEqual({ pending: 1, running: 0, done: 2, failed: 0, dead: 0 });
  });

  it('counts pending jobs per lane, held ones included', () => {
    const s = store();
    s.insert(newJob('a', { lane: 'research' }), 0);
    s.insert(newJob('b', { lane: 'research', hold: 'paused' }), 0);
    s.insert(newJob('c', { lane: 'background' }), 0);
    expect(s.pendingByLane()).toEqual(new Map([['research', 2], ['background', 1]]));
  });

  it('prunes a bounded number of rows per call, oldest first, saying when there is more', () => {
    const { db } = jobDatabase();
    const s = new JobStore(db);
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      s.insert(newJob(id), 0);
      s.claim(id, 1);
      s.once(`effect-${id}`, id, 1, () => id);
      s.complete(id, null, id === 'e' ? 50 : 10);
    }
    // Each call also drops the effect records of the jobs it dropped (a job's effects go once the job has).
    expect(s.prune(20, 2)).toEqual({ jobs: 2, more: true });
    expect(s.prune(20, 2)).toEqual({ jobs: 2, more: true });
    expect(s.prune(20, 2)).toEqual({ jobs: 0, more: false });
    expect(['a', 'b', 'c', 'd', 'e'].filter((id) => s.get(id) !== undefined)).toEqual(['e']);
    expect(db.prepare('SELECT key FROM job_effects').all()).toEqual([{ key: 'effect-e' }]);
  });

  it('keeps plans with their tasks in order, and prunes finished ones past retention', () => {
    const s = store();
    s.insertPlan({ planId: 'p1', runId: 'r1', sessionKey: 'agent:main:main', goal: 'g', createdAt: 0 }, [newJob('t2', { planId: 'p1', position: 1 }), newJob('t1', { planId: 'p1', position: 0 })], 0);
    expect(s.tasksOf('p1').map((j) => j.id)).toEqual(['t1', 't2']);
    expect(s.plansOfRun('r1').map((p) => p.planId)).toEqual(['p1']);
    for (const id of ['t1', 't2']) {
      s.claim(id, 0);
      s.complete(id, null, 10);
    }
    expect(s.prune(5, 100)).toEqual({ jobs: 0, more: false });
    expect(s.prune(20, 100)).toEqual({ jobs: 2, more: false });
    expect(s.plan('p1')).toBeUndefined();
  });

  it('forgets a session batch by batch: its plans with their tasks, its other jobs, their effect records', () => {
    const s = store();
    const doomed = 'agent:main:doomed';
    for (const n of [1, 2, 3]) {
      s.insertPlan({ planId: `p${n}`, runId: `r${n}`, sessionKey: doomed, goal: 'secret', createdAt: n }, [newJob(`p${n}-a`, { planId: `p${n}` }), newJob(`p${n}-b`, { planId: `p${n}` })], n);
    }
    s.insert(newJob('loose', { sessionKey: doomed }), 0);
    s.insertPlan({ planId: 'other', runId: 'r9', sessionKey: 'agent:main:kept', goal: 'kept', createdAt: 0 }, [newJob('other-a', { planId: 'other' })], 0);
    for (const id of ['p1-a', 'loose', 'other-a']) s.once(`effect-${id}`, id, 0, () => id);
    expect(s.openJobsOfSession(doomed).map((job) => job.id).sort()).toEqual(['loose', 'p1-a', 'p1-b', 'p2-a', 'p2-b', 'p3-a', 'p3-b']);

    // A session made under the key after the delete keeps its plan.
    s.insertPlan({ planId: 'later', runId: 'r10', sessionKey: doomed, goal: 'new life', createdAt: 100 }, [newJob('later-a', { planId: 'later' })], 100);
    expect(s.forgetSession(doomed, 50, 2)).toEqual({ plans: 2, jobs: 5, more: true });
    expect(s.forgetSession(doomed, 50, 2)).toEqual({ plans: 1, jobs: 2, more: false });
    expect(s.recentPlans(10, doomed).map((plan) => plan.planId)).toEqual(['later']);
    expect(s.openJobsOfSession(doomed).map((job) => job.id)).toEqual(['later-a']);
    expect(s.hasEffect('effect-p1-a') || s.hasEffect('effect-loose')).toBe(false);
    expect(s.tasksOf('other').map((job) => job.id)).toEqual(['other-a']);
    expect(s.hasEffect('effect-other-a')).toBe(true);
  });
});
