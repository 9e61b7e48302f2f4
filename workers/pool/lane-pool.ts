/**
 * The worker pool's scheduler: named lanes, each with a concurrency limit and a bounded queue, sharing
 * `maxRunning` slots. When a slot frees, the next job is the head of the lane with the best effective
 * priority: the lane's priority (0 first) minus one level for every `agingMs` the head has waited since it was
 * ready, ties to the job ready first. So interactive work goes ahead of background work, and background work
 * that has waited long enough is taken like interactive work: it is never starved. Within a lane: FIFO.
 *
 * Jobs start on a later event-loop turn, never inside `push`. Every running job has its own AbortController;
 * `abort` takes a queued job out at once and aborts a running one's signal.
 */

export interface LaneSpec {
  readonly name: string;
  /** Jobs of this lane running at once. */
  readonly concurrency: number;
  /** Jobs this lane holds waiting in RAM; `push` refuses beyond it. */
  readonly maxQueue: number;
  /** 0 runs first. */
  readonly priority: number;
}

export interface PoolJob {
  readonly id: string;
  readonly lane: string;
  /** When the job became ready to run (epoch ms): its waiting time, for aging, counts from here. */
  readonly readyAt: number;
  /** Runs the job to its end; should not throw (a throw is reported to `onError`). */
  run(signal: AbortSignal): Promise<void>;
}

export interface LanePoolOptions {
  /** Jobs running at once across all lanes. */
  maxRunning: number;
  /** Wait, in ms, that moves a job up one priority level. */
  agingMs: number;
  now: () => number;
  onError: (err: unknown, job: PoolJob) => void;
}

export interface LaneCounts {
  name: string;
  running: number;
  /** Jobs waiting in RAM. */
  waiting: number;
  concurrency: number;
  maxQueue: number;
}

interface Lane {
  spec: LaneSpec;
  queue: PoolJob[];
  running: Map<string, AbortController>;
}

export class LanePool {
  readonly #lanes = new Map<string, Lane>();
  readonly #options: LanePoolOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #running = 0;
  #scheduled = false;
  #closed = false;
  /** Most jobs ever running at once, per lane (tests and the benchmark count with it). */
  readonly peak = new Map<string, number>();

  constructor(specs: readonly LaneSpec[], options: LanePoolOptions) {
    for (const spec of specs) this.#lanes.set(spec.name, { spec, queue: [], running: new Map() });
    this.#options = options;
  }

  lanes(): LaneSpec[] {
    return [...this.#lanes.values()].map((lane) => lane.spec);
  }

  /** Queues a job; false when its lane is unknown or full, or the pool is closed (nothing is queued). */
  push(job: PoolJob): boolean {
    const lane = this.#lanes.get(job.lane);
    if (lane === undefined || this.#closed || lane.queue.length >= lane.spec.maxQueue) return false;
    lane.queue.push(job);
    this.#schedule();
    return true;
  }

  /** Room left in a lane's RAM queue. */
  room(laneName: string): number {
    const lane = this.#lanes.get(laneName);
    return lane === undefined ? 0 : lane.spec.maxQueue - lane.queue.length;
  }

  has(id: string): boolean {
    for (const lane of this.#lanes.values()) if (lane.running.has(id) || lane.queue.some((job) => job.id === id)) return true;
    return false;
  }

  /** Takes a queued job out (`queued`) or aborts a running one's signal (`running`); undefined when absent. */
  abort(id: string, reason: unknown): 'queued' | 'running' | undefined {
    for (const lane of this.#lanes.values()) {
      const controller = lane.running.get(id);
      if (controller !== undefined) {
        controller.abort(reason);
        return 'running';
      }
      const index = lane.queue.findIndex((job) => job.id === id);
      if (index >= 0) {
        lane.queue.splice(index, 1);
        return 'queued';
      }
    }
    return undefined;
  }

  counts(): LaneCounts[] {
    return [...this.#lanes.values()].map(({ spec, queue, running }) => ({
      name: spec.name,
      running: running.size,
      waiting: queue.length,
      concurrency: spec.concurrency,
      maxQueue: spec.maxQueue,
    }));
  }

  get running(): number {
    return this.#running;
  }

  /** Refuses new jobs, drops the queued ones, aborts the running ones and waits for them. Safe to call twice. */
  async close(reason: unknown): Promise<void> {
    this.#closed = true;
    for (const lane of this.#lanes.values()) {
      lane.queue.length = 0;
      for (const controller of lane.running.values()) controller.abort(reason);
    }
    await Promise.all([...this.#inFlight]);
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (!this.#closed && this.#running < this.#options.maxRunning) {
      const lane = this.#pick();
      if (lane === undefined) return;
      this.#start(lane, lane.queue.shift() as PoolJob);
    }
  }

  /** The lane whose head goes next, or undefined when nothing can start. */
  #pick(): Lane | undefined {
    const now = this.#options.now();
    let best: { lane: Lane; score: number; readyAt: number } | undefined;
    for (const lane of this.#lanes.values()) {
      const head = lane.queue[0];
      if (head === undefined || lane.running.size >= lane.spec.concurrency) continue;
      const waited = Math.max(0, now - head.readyAt);
      const score = lane.spec.priority - Math.floor(waited / this.#options.agingMs);
      if (best === undefined || score < best.score || (score === best.score && head.readyAt < best.readyAt)) {
        best = { lane, score, readyAt: head.readyAt };
      }
    }
    return best?.lane;
  }

  #start(lane: Lane, job: PoolJob): void {
    const controller = new AbortController();
    lane.running.set(job.id, controller);
    this.#running += 1;
    this.peak.set(lane.spec.name, Math.max(this.peak.get(lane.spec.name) ?? 0, lane.running.size));
    const done = this.#execute(lane, job, controller);
    this.#inFlight.add(done);
    void done.then(() => this.#inFlight.delete(done));
  }

  /** Never rejects. */
  async #execute(lane: Lane, job: PoolJob, controller: AbortController): Promise<void> {
    try {
      await job.run(controller.signal);
    } catch (err) {
      this.#options.onError(err, job);
    } finally {
      lane.running.delete(job.id);
      this.#running -= 1;
      this.#schedule();
    }
  }
}
