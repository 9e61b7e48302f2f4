/**
 * Prometheus metrics (`GET /metrics`, prom-client, one registry per gateway). The hot path only bumps plain
 * numbers (`wire`, the maps below); prom-client reads them when scraped, so a frame costs an addition, not a
 * label lookup. Labels are closed sets (method names from the registry, outcomes, limit names), never ids.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LoopDelay } from './event-loop.js';
import type { LimitName } from './rate-limits.js';
import type { SchedulerStats } from '../workers/runs/session-scheduler.js';

/** Totals bumped per frame by the endpoint and the outbound queues. */
export interface WireTotals {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Droppable events (chat deltas) skipped for a client that fell behind. */
  droppedEvents: number;
  /** Clients closed 1008 "slow consumer". */
  slowConsumerCloses: number;
}

/** What the metrics read from the rest of the gateway at scrape time. */
export interface MetricsSources {
  connections(): { handshaking: number; open: number };
  lanes(): SchedulerStats & { deepest: number };
  loopDelay(): LoopDelay;
  /** Outbound bytes queued for clients: in total and on the fullest socket. */
  outboundBuffered(): { total: number; max: number };
  /** True while the store serves from RAM because the database file is unusable. */
  databaseDegraded(): boolean;
}

/** Job counts by state, supplied by the job table (issue 5) through `GatewayMetrics.setJobSource`. */
export type JobCounts = Readonly<Record<string, number>>;

/** Methods whose first response is the ack of a turn (`brainstem_ack_latency_seconds`). */
export const TURN_METHODS: ReadonlySet<string> = new Set(['chat.send', 'agent', 'sessions.send', 'session.send', 'sessions.steer']);

/** Upper bounds of the ack latency buckets, in seconds. */
export const ACK_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Upper bounds of the run duration buckets, in seconds. */
export const RUN_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** A counter fed from a running total: each scrape adds what was counted since the last one. */
function deltaCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read();
      this.inc(value - reported);
      reported = value;
    },
  });
}

/** A counter with one label fed from a map of running totals keyed by the label's value. */
function deltaCounterMap(registry: Registry, name: string, help: string, label: string, totals: Map<string, number>): void {
  const reported = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [value, total] of totals) {
        this.inc({ [label]: value }, total - (reported.get(value) ?? 0));
        reported.set(value, total);
      }
    },
  });
}

/** Requests answered per method: [ok, error], bumped without building a key per request. */
type RequestCounts = Map<string, [number, number]>;

function requestCounter(registry: Registry, counts: RequestCounts): void {
  const reported = new Map<string, [number, number]>();
  new Counter({
    name: 'brainstem_requests_total',
    help: 'Requests answered after hello-ok, by method and outcome.',
    labelNames: ['method', 'outcome'],
    registers: [registry],
    collect() {
      for (const [method, [ok, error]] of counts) {
        const last = reported.get(method) ?? [0, 0];
        this.inc({ method, outcome: 'ok' }, ok - last[0]);
        this.inc({ method, outcome: 'error' }, error - last[1]);
        reported.set(method, [ok, error]);
      }
    },
  });
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly wire: WireTotals = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, droppedEvents: 0, slowConsumerCloses: 0 };
  readonly #requests: RequestCounts = new Map();
  readonly #runs = new Map<string, number>();
  readonly #limited = new Map<string, number>();
  readonly #authFailures = new Map<string, number>();
  readonly #refused = new Map<string, number>();
  readonly #counts = { accepted: 0, dbErrors: 0 };
  readonly #ack: Histogram<'method'>;
  readonly #runDuration: Histogram<'outcome'>;
  #jobs: () => JobCounts = () => ({});

  constructor(sources: MetricsSources) {
    const r = this.registry;
    deltaCounter(r, 'brainstem_frames_in_total', 'WebSocket frames received.', () => this.wire.framesIn);
    deltaCounter(r, 'brainstem_frames_out_total', 'WebSocket frames sent.', () => this.wire.framesOut);
    deltaCounter(r, 'brainstem_bytes_in_total', 'Payload bytes of the frames received.', () => this.wire.bytesIn);
    deltaCounter(r, 'brainstem_bytes_out_total', 'Payload bytes of the frames sent.', () => this.wire.bytesOut);
    deltaCounter(r, 'brainstem_dropped_events_total', 'Droppable events (chat deltas) skipped for clients that fell behind.', () => this.wire.droppedEvents);
    deltaCounter(r, 'brainstem_slow_consumer_closes_total', 'Clients closed 1008 "slow consumer".', () => this.wire.slowConsumerCloses);
    deltaCounter(r, 'brainstem_connections_accepted_total', 'WebSocket connections accepted (before the handshake).', () => this.#counts.accepted);
    deltaCounter(r, 'brainstem_database_errors_total', 'Database operations that failed.', () => this.#counts.dbErrors);
    deltaCounterMap(r, 'brainstem_connections_refused_total', 'WebSocket connections refused before the handshake, by reason.', 'reason', this.#refused);
    requestCounter(r, this.#requests);
    deltaCounterMap(r, 'brainstem_runs_total', 'Runs ended, by outcome.', 'outcome', this.#runs);
    deltaCounterMap(r, 'brainstem_rate_limited_total', 'Actions refused by a rate limit, by limit.', 'limit', this.#limited);
    deltaCounterMap(r, 'brainstem_auth_failures_total', 'Failed connect authentications, by reason.', 'reason', this.#authFailures);
    this.#ack = new Histogram({ name: 'brainstem_ack_latency_seconds', help: 'Time from a turn request to its ack.', labelNames: ['method'], buckets: ACK_BUCKETS_S, registers: [r] });
    this.#runDuration = new Histogram({ name: 'brainstem_run_duration_seconds', help: 'Time from the start of a run to its end, by outcome.', labelNames: ['outcome'], buckets: RUN_BUCKETS_S, registers: [r] });
    gauges(r, sources, () => this.#jobs());
  }

  /** A request was answered; `method` is a registry name or a stand-in (`invalid`, `rate_limited`). */
  requestDone(method: string, ok: boolean): void {
    let counts = this.#requests.get(method);
    if (counts === undefined) this.#requests.set(method, (counts = [0, 0]));
    counts[ok ? 0 : 1] += 1;
  }

  /** The first response to a request went out `ms` after it arrived. */
  acked(method: string, ms: number): void {
    if (TURN_METHODS.has(method)) this.#ack.observe({ method }, ms / 1000);
  }

  runEnded(outcome: string, durationMs: number | undefined): void {
    bump(this.#runs, outcome);
    if (durationMs !== undefined) this.#runDuration.observe({ outcome }, Math.max(0, durationMs) / 1000);
  }

  rateLimited(limit: LimitName): void {
    bump(this.#limited, limit);
  }

  authFailed(reason: string): void {
    bump(this.#authFailures, reason);
  }

  connectionAccepted(): void {
    this.#counts.accepted += 1;
  }

  connectionRefused(reason: string): void {
    bump(this.#refused, reason);
  }

  /** Counts a database failure: a handler's SqliteError, the store going RAM-only, a job-table write of the background path. */
  databaseError(): void {
    this.#counts.dbErrors += 1;
  }

  /** Where `brainstem_jobs{state}` reads job counts from (the durable job table, issue 5). */
  setJobSource(read: () => JobCounts): void {
    this.#jobs = read;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

function gauges(r: Registry, sources: MetricsSources, jobs: () => JobCounts): void {
  new Gauge({
    name: 'brainstem_connections',
    help: 'WebSocket connections open now, by phase.',
    labelNames: ['phase'],
    registers: [r],
    collect() {
      const { handshaking, open } = sources.connections();
      this.set({ phase: 'handshake' }, handshaking);
      this.set({ phase: 'open' }, open);
    },
  });
  const lanes = (name: string, help: string, pick: (l: ReturnType<MetricsSources['lanes']>) => number): void => {
    new Gauge({ name, help, registers: [r], collect() { this.set(pick(sources.lanes())); } });
  };
  lanes('brainstem_lane_active_runs', 'Runs streaming now (one per session at most).', (l) => l.running);
  lanes('brainstem_lane_queued_runs', 'Turns waiting in session lanes.', (l) => l.queued);
  lanes('brainstem_lane_queued_bytes', 'Bytes of message text and attachments held by the turns waiting in session lanes (limit: maxQueuedTurnBytes).', (l) => l.queuedBytes);
  lanes('brainstem_lanes', 'Sessions with an active or queued run.', (l) => l.sessions);
  lanes('brainstem_lane_depth_max', 'Turns waiting in the deepest session lane.', (l) => l.deepest);
  new Gauge({
    name: 'brainstem_jobs',
    help: 'Background jobs by state.',
    labelNames: ['state'],
    registers: [r],
    collect() {
      this.reset();
      for (const [state, count] of Object.entries(jobs())) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'brainstem_outbound_buffered_bytes',
    help: 'Outbound bytes queued for clients that have not read them yet: total, and the fullest socket.',
    labelNames: ['stat'],
    registers: [r],
    collect() {
      const { total, max } = sources.outboundBuffered();
      this.set({ stat: 'total' }, total);
      this.set({ stat: 'max' }, max);
    },
  });
  new Gauge({
    name: 'brainstem_database_degraded',
    help: '1 while the database file is unusable and the store serves from RAM (writes not on disk), else 0.',
    registers: [r],
    collect() {
      this.set(sources.databaseDegraded() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'brainstem_event_loop_delay_seconds',
    help: 'Event-loop delay over the last window, beyond the sampling resolution.',
    labelNames: ['stat'],
    registers: [r],
    collect() {
      const delay = sources.loopDelay();
      this.set({ stat: 'mean' }, delay.meanMs / 1000);
      this.set({ stat: 'p99' }, delay.p99Ms / 1000);
      this.set({ stat: 'max' }, delay.maxMs / 1000);
    },
  });
  processGauges(r);
}

/** The standard process figures, read at scrape time (no background collectors to own). */
function processGauges(r: Registry): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [r], collect() { this.set(read()); } });
  };
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', () => process.memoryUsage().heapUsed);
  gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated, in bytes.', () => process.memoryUsage().heapTotal);
  gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JS objects (buffers included), in bytes.', () => process.memoryUsage().external);
  const startedAt = Date.now() / 1000 - process.uptime();
  gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => startedAt);
  let reported = 0;
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent, in seconds.',
    registers: [r],
    collect() {
      const { user, system } = process.cpuUsage();
      const seconds = (user + system) / 1e6;
      this.inc(Math.max(0, seconds - reported));
      reported = Math.max(reported, seconds);
    },
  });
}
