/** A job table and runner for unit tests of workers/jobs (RAM or a file, closed when the test finishes). */
import { join } from 'node:path';
import { pino } from 'pino';
import { onTestFinished } from 'vitest';
import { openDatabase, type Db } from '../../memory/db.js';
import { JOB_MIGRATIONS } from '../../workers/jobs/job-migrations.js';
import { JobRunner, type JobHandler, type JobRunnerDeps } from '../../workers/jobs/job-runner.js';
import { JobStore } from '../../workers/jobs/job-store.js';
import type { JobRecord, NewJob } from '../../workers/jobs/job-types.js';
import type { LaneSpec } from '../../workers/pool/lane-pool.js';
import { tempDir } from './temp-dir.js';

export const silent = pino({ level: 'silent' });

export const TEST_LANES: LaneSpec[] = [
  { name: 'interactive', concurrency: 2, maxQueue: 8, priority: 0 },
  { name: 'research', concurrency: 2, maxQueue: 8, priority: 1 },
  { name: 'background', concurrency: 1, maxQueue: 4, priority: 2 },
];

/** Opens the job schema in `path` (default: a fresh temp file); closed when the test finishes. */
export function jobDatabase(path: string = join(tempDir('brainstem-jobs-'), 'jobs.db')): { db: Db; path: string } {
  const db = openDatabase(path, undefined, { migrations: JOB_MIGRATIONS });
  onTestFinished(() => {
    if (db.open) db.close();
  });
  return { db, path };
}

export interface RunnerHarness {
  runner: JobRunner;
  store: JobStore;
  changes: { job: JobRecord; previous: JobRecord | undefined }[];
}

export function jobRunner(db: Db, handlers: Record<string, JobHandler>, overrides: Partial<JobRunnerDeps> = {}): RunnerHarness {
  const store = new JobStore(db);
  const changes: RunnerHarness['changes'] = [];
  const runner = new JobRunner({
    store,
    lanes: TEST_LANES,
    maxRunning: 4,
    agingMs: 5_000,
    handlers: new Map(Object.entries(handlers)),
    backoff: { baseMs: 20, maxMs: 200 },
    attemptTimeoutMs: 5_000,
    now: Date.now,
    random: () => 0.5,
    logger: silent,
    onChange: (job, previous) => changes.push({ job, previous }),
    ...overrides,
  });
  onTestFinished(() => runner.close());
  return { runner, store, changes };
}

export function newJob(id: string, extra: Partial<NewJob> = {}): NewJob {
  return { id, kind: 'work', lane: 'background', maxAttempts: 3, ...extra };
}

/** Resolves once `check` holds, polling every 5 ms (fails after `timeoutMs`). */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A job handler that runs until its signal aborts; it records which jobs started and which were aborted. */
export function untilAborted(): { handler: JobHandler; started: string[]; aborted: string[] } {
  const started: string[] = [];
  const aborted: string[] = [];
  const handler: JobHandler = (ctx) =>
    new Promise((_, reject) => {
      started.push(ctx.job.id);
      ctx.signal.addEventListener('abort', () => {
        aborted.push(ctx.job.id);
        reject(ctx.signal.reason);
      }, { once: true });
    });
  return { handler, started, aborted };
}
