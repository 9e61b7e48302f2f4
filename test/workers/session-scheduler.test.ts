import { describe, expect, it } from 'vitest';
import { SessionScheduler, type ScheduledJob, type SchedulerLimits } from '../../workers/runs/session-scheduler.js';

type CancelReason = Parameters<ScheduledJob['cancel']>[0];

/** Lets the scheduler's setImmediate pumps and promise continuations run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records starts, ends and cancels of fake jobs, and how many ran at once (overall and per session). */
class Tracker {
  readonly log: string[] = [];
  running = 0;
  maxRunning = 0;
  readonly #perSession = new Map<string, number>();
  maxPerSession = 0;

  started(job: FakeJob): void {
    this.log.push(`start ${job.runId}`);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const inSession = (this.#perSession.get(job.sessionKey) ?? 0) + 1;
    this.#perSession.set(job.sessionKey, inSession);
    this.maxPerSession = Math.max(this.maxPerSession, inSession);
  }

  ended(job: FakeJob): void {
    this.log.push(`end ${job.runId}`);
    this.running -= 1;
    this.#perSession.set(job.sessionKey, (this.#perSession.get(job.sessionKey) ?? 1) - 1);
  }

  starts(): string[] {
    return this.log.filter((line) => line.startsWith('start ')).map((line) => line.slice(6));
  }
}

/** A job that runs until `finish()` (or until cancelled while active); a queued job that is cancelled never runs. */
class FakeJob implements ScheduledJob {
  started = false;
  ended = false;
  cancelled: CancelReason | undefined;
  #end: (() => void) | undefined;

  constructor(
    readonly runId: string,
    readonly sessionKey: string,
    private readonly tracker: Tracker,
    readonly bytes = 0,
  ) {}

  run(): Promise<void> {
    if (this.started) throw new Error(`${this.runId} started twice`);
    this.started = true;
    this.tracker.started(this);
    return new Promise((resolve) => {
      this.#end = () => {
        this.ended = true;
        this.tracker.ended(this);
        resolve();
      };
    });
  }

  cancel(reason: CancelReason): void {
    this.cancelled ??= reason;
    this.tracker.log.push(`cancel ${this.runId} ${reason}`);
    if (this.started) this.finish();
  }

  finish(): void {
    if (this.#end === undefined) throw new Error(`${this.runId} is not running`);
    if (!this.ended) this.#end();
  }
}

function setup(limits: Partial<SchedulerLimits> = {}) {
  const scheduler = new SessionScheduler({ maxConcurrentRuns: 10, maxQueuedPerSession: 10, maxQueuedTotal: 100, maxQueuedBytes: 1_000_000, ...limits });
  const tracker = new Tracker();
  const job = (runId: string, sessionKey: string, bytes = 0): FakeJob => new FakeJob(runId, sessionKey, tracker, bytes);
  const add = (runId: string, sessionKey: string, mode?: 'followup' | 'interrupt', bytes = 0): FakeJob => {
    const created = job(runId, sessionKey, bytes);
    scheduler.enqueue(created, mode);
    return created;
  };
  return { scheduler, tracker, job, add };
}

describe('SessionScheduler', () => {
  describe('one session', () => {
    it('runs one job at a time, in the order they were queued', async () => {
      const { scheduler, tracker, add } = setup();
      const jobs = [add('a1', 's'), add('a2', 's'), add('a3', 's')];
      await settle();
      expect(tracker.starts()).toEqual(['a1']);
      expect(scheduler.activeRunId('s')).toBe('a1');
      expect(scheduler.queuedRunIds('s')).toEqual(['a2', 'a3']);
      for (const job of jobs) {
        job.finish();
        await settle();
      }
      expect(tracker.log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
      expect(tracker.maxPerSession).toBe(1);
      expect(scheduler.stats()).toEqual({ running: 0, queued: 0, queuedBytes: 0, sessions: 0 });
    });

    it('never starts a job inside enqueue', async () => {
      const { add } = setup();
      const job = add('a1', 's');
      expect(job.started).toBe(false);
      await settle();
      expect(job.started).toBe(true);
    });

    it('keeps FIFO order when jobs are added while one runs', async () => {
      const { tracker, add } = setup();
      const first = add('a1', 's');
      await settle();
      const later = [add('a2', 's'), add('a3', 's')];
      first.finish();
      await settle();
      const last = add('a4', 's');
      for (const job of [...later, last]) {
        job.finish();
        await settle();
      }
      expect(tracker.starts()).toEqual(['a1', 'a2', 'a3', 'a4']);
    });
  });

  describe('many sessions', () => {
    it('runs sessions in parallel up to maxConcurrentRuns and never beyond', async () => {
      const { scheduler, tracker, add } = setup({ maxConcurrentRuns: 2 });
      const jobs = ['s1', 's2', 's3', 's4'].map((session) => add(`${session}-1`, session));
      await settle();
      expect(tracker.starts()).toEqual(['s1-1', 's2-1']);
      expect(scheduler.stats()).toEqual({ running: 2, queued: 2, queuedBytes: 0, sessions: 4 });
      for (const job of jobs) {
        if (job.started) job.finish();
        await settle();
      }
      for (const job of jobs) if (job.started && !job.ended) job.finish();
      await settle();
      expect(jobs.every((job) => job.ended)).toBe(true);
      expect(tracker.maxRunning).toBe(2);
    });

    it('starts waiting sessions in arrival order as slots free', async () => {
      const { tracker, add } = setup({ maxConcurrentRuns: 1 });
      const a = add('a', 'sa');
      const b = add('b', 'sb');
      const c = add('c', 'sc');
      await settle();
      expect(tracker.starts()).toEqual(['a']);
      a.finish();
      await settle();
      expect(tracker.starts()).toEqual(['a', 'b']);
      b.finish();
      await settle();
      c.finish();
      await settle();
      expect(tracker.starts()).toEqual(['a', 'b', 'c']);
    });

    it('gives a freed slot to a session that was waiting before the finishing session runs its next turn', async () => {
      const { tracker, add } = setup({ maxConcurrentRuns: 1 });
      const a1 = add('a1', 'sa');
      add('a2', 'sa');
      const b1 = add('b1', 'sb');
      await settle();
      a1.finish();
      await settle();
      expect(tracker.starts()).toEqual(['a1', 'b1']);
      b1.finish();
      await settle();
      expect(tracker.starts()).toEqual(['a1', 'b1', 'a2']);
    });

    it('keeps every limit and every per-session order under random completion', async () => {
      const { tracker, add } = setup({ maxConcurrentRuns: 3 });
      let seed = 42;
      const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      const jobs: FakeJob[] = [];
      for (let turn = 0; turn < 5; turn++) for (let session = 0; session < 6; session++) jobs.push(add(`s${session}-${turn}`, `s${session}`));
      for (let round = 0; round < 500 && !jobs.every((job) => job.ended); round++) {
        await settle();
        const running = jobs.filter((job) => job.started && !job.ended);
        const pick = running[Math.floor(random() * running.length)];
        pick?.finish();
      }
      expect(jobs.every((job) => job.ended)).toBe(true);
      expect(tracker.maxRunning).toBe(3);
      expect(tracker.maxPerSession).toBe(1);
      for (let session = 0; session < 6; session++) {
        const order = tracker.starts().filter((id) => id.startsWith(`s${session}-`));
        expect(order).toEqual([0, 1, 2, 3, 4].map((turn) => `s${session}-${turn}`));
      }
    });
  });

  describe('refusal', () => {
    it('refuses a session whose queue is full, and not other sessions', async () => {
      const { scheduler, add } = setup({ maxQueuedPerSession: 2 });
      add('a1', 's');
      await settle();
      add('a2', 's');
      expect(scheduler.refusal('s', 10)).toBeUndefined();
      add('a3', 's');
      expect(scheduler.refusal('s', 10)).toEqual({ queue: 'session', limit: 2, unit: 'turns' });
      expect(scheduler.refusal('other', 10)).toBeUndefined();
    });

    it('refuses every session when the gateway queue is full', async () => {
      const { scheduler, add } = setup({ maxConcurrentRuns: 1, maxQueuedTotal: 2 });
      add('a1', 's1');
      await settle();
      add('b1', 's2');
      expect(scheduler.refusal('s3', 10)).toBeUndefined();
      add('c1', 's3');
      expect(scheduler.refusal('s4', 10)).toEqual({ queue: 'gateway', limit: 2, unit: 'turns' });
      expect(scheduler.refusal('s1', 10)).toEqual({ queue: 'gateway', limit: 2, unit: 'turns' });
    });

    it('has room again once queued jobs start', async () => {
      const { scheduler, add } = setup({ maxQueuedPerSession: 1 });
      const first = add('a1', 's');
      await settle();
      add('a2', 's');
      expect(scheduler.refusal('s', 10)).toEqual({ queue: 'session', limit: 1, unit: 'turns' });
      first.finish();
      await settle();
      expect(scheduler.refusal('s', 10)).toBeUndefined();
    });
  });

  describe('refusal by bytes', () => {
    it('refuses a job whose bytes would take the queued bytes past the limit, and takes it once they have run', async () => {
      const { scheduler, add } = setup({ maxConcurrentRuns: 1, maxQueuedBytes: 1_000 });
      const running = add('a1', 's1', 'followup', 5_000);
      await settle();
      // A running job's bytes no longer count; an empty queue takes one job of any size.
      expect(scheduler.refusal('s2', 5_000)).toBeUndefined();
      add('b1', 's2', 'followup', 600);
      expect(scheduler.refusal('s3', 400)).toBeUndefined();
      expect(scheduler.refusal('s3', 401)).toEqual({ queue: 'gateway', limit: 1_000, unit: 'bytes' });
      expect(scheduler.stats().queuedBytes).toBe(600);
      running.finish();
      await settle();
      expect(scheduler.stats().queuedBytes).toBe(0);
      expect(scheduler.refusal('s3', 401)).toBeUndefined();
    });

    it('gives the bytes of a queued job back when it is aborted', async () => {
      const { scheduler, add } = setup({ maxConcurrentRuns: 1, maxQueuedBytes: 1_000 });
      add('a1', 's1');
      await settle();
      add('b1', 's2', 'followup', 900);
      expect(scheduler.refusal('s3', 200)).toMatchObject({ unit: 'bytes' });
      expect(scheduler.abortRun('b1')).toBe(true);
      expect(scheduler.stats().queuedBytes).toBe(0);
      expect(scheduler.refusal('s3', 200)).toBeUndefined();
    });
  });

  describe('interrupt', () => {
    it('cancels the active job and runs the new one next, before the ones already queued', async () => {
      const { tracker, add } = setup();
      const a1 = add('a1', 's');
      const a2 = add('a2', 's');
      await settle();
      const urgent = add('urgent', 's', 'interrupt');
      expect(a1.cancelled).toBe('aborted');
      await settle();
      expect(tracker.starts()).toEqual(['a1', 'urgent']);
      urgent.finish();
      await settle();
      a2.finish();
      expect(tracker.starts()).toEqual(['a1', 'urgent', 'a2']);
      expect(a2.cancelled).toBeUndefined();
    });

    it('just queues first when nothing is active', async () => {
      const { tracker, add } = setup();
      const job = add('only', 's', 'interrupt');
      await settle();
      expect(job.started).toBe(true);
      expect(tracker.log).toEqual(['start only']);
    });
  });

  describe('abortSession', () => {
    it('cancels the active job and lets the queued ones run when clearQueued is false', async () => {
      const { scheduler, tracker, add } = setup();
      const a1 = add('a1', 's');
      const a2 = add('a2', 's');
      await settle();
      expect(scheduler.abortSession('s', false)).toEqual(['a1']);
      expect(a1.cancelled).toBe('aborted');
      await settle();
      expect(tracker.starts()).toEqual(['a1', 'a2']);
      expect(a2.cancelled).toBeUndefined();
    });

    it('cancels the active job and every queued one with clearQueued', async () => {
      const { scheduler, tracker, add } = setup();
      const jobs = [add('a1', 's'), add('a2', 's'), add('a3', 's')];
      const other = add('b1', 'other');
      await settle();
      expect(scheduler.abortSession('s', true)).toEqual(['a1', 'a2', 'a3']);
      await settle();
      expect(jobs.map((job) => job.cancelled)).toEqual(['aborted', 'aborted', 'aborted']);
      expect(tracker.starts()).toEqual(['a1', 'b1']);
      expect(other.cancelled).toBeUndefined();
      expect(scheduler.stats()).toMatchObject({ running: 1, queued: 0 });
    });

    it('forgets a session whose queued jobs were all dropped while it waited for a slot', async () => {
      const { scheduler, tracker, add } = setup({ maxConcurrentRuns: 1 });
      const a1 = add('a1', 'busy');
      add('b1', 'waiting');
      add('c1', 'other');
      await settle();
      expect(scheduler.abortSession('waiting', true)).toEqual(['b1']);
      expect(scheduler.abortRun('c1')).toBe(true);
      expect(scheduler.stats()).toEqual({ running: 1, queued: 0, queuedBytes: 0, sessions: 1 });
      a1.finish();
      await settle();
      expect(scheduler.stats()).toEqual({ running: 0, queued: 0, queuedBytes: 0, sessions: 0 });
      expect(tracker.starts()).toEqual(['a1']);
    });

    it('answers an unknown session with no run ids', () => {
      const { scheduler } = setup();
      expect(scheduler.abortSession('nobody', true)).toEqual([]);
    });
  });

  describe('abortRun', () => {
    it('cancels the active run', async () => {
      const { scheduler, add } = setup();
      const a1 = add('a1', 's');
      await settle();
      expect(scheduler.abortRun('a1')).toBe(true);
      expect(a1.cancelled).toBe('aborted');
      expect(a1.ended).toBe(true);
    });

    it('drops a queued run without running it, and the next one runs in its place', async () => {
      const { scheduler, tracker, add } = setup();
      const a1 = add('a1', 's');
      const a2 = add('a2', 's');
      add('a3', 's');
      await settle();
      expect(scheduler.abortRun('a2')).toBe(true);
      expect(a2.cancelled).toBe('aborted');
      expect(scheduler.queuedRunIds('s')).toEqual(['a3']);
      a1.finish();
      await settle();
      expect(tracker.starts()).toEqual(['a1', 'a3']);
      expect(scheduler.stats().queued).toBe(0);
    });

    it('answers false for a run it does not hold', async () => {
      const { scheduler, add } = setup();
      const a1 = add('a1', 's');
      await settle();
      a1.finish();
      await settle();
      expect(scheduler.abortRun('a1')).toBe(false);
      expect(scheduler.abortRun('never')).toBe(false);
    });
  });

  describe('drain', () => {
    it('cancels queued jobs with the reason and waits for the active ones to end', async () => {
      const { scheduler, add } = setup({ maxConcurrentRuns: 1 });
      const active = add('a1', 's1');
      const queued = [add('a2', 's1'), add('b1', 's2')];
      await settle();
      let drained = false;
      const draining = scheduler.drain('shutdown').then(() => {
        drained = true;
      });
      expect(queued.map((job) => job.cancelled)).toEqual(['shutdown', 'shutdown']);
      await settle();
      expect(drained).toBe(false);
      active.finish();
      await draining;
      expect(queued.every((job) => !job.started)).toBe(true);
      expect(scheduler.stats()).toEqual({ running: 0, queued: 0, queuedBytes: 0, sessions: 0 });
    });

    it('resolves at once when nothing runs', async () => {
      const { scheduler } = setup();
      await expect(scheduler.drain('interrupted')).resolves.toBeUndefined();
    });
  });
});
