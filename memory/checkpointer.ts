/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that takes the WAL
 * past 1,000 pages: that commit copies the pages into the database file and fsyncs it, on the event loop.
 * Under load that is a stall of several ms every few hundred turns (measured at 500 turns/s: 150 of 7,300
 * group commits above 5 ms and a p99 of 6.8 ms; with no checkpoint in the commit, 14 and 1.3 ms).
 *
 * So once the WAL grows past `startAtWalBytes` (an idle gateway never starts the thread, ~9 MB of RSS), the
 * connection's automatic checkpoint is turned off and a worker thread with its own connection checkpoints:
 * PASSIVE, which never takes the write lock, every `intervalMs` when it is caught up and every `chaseMs`
 * while the writer is ahead of it. What it cannot do is restart the WAL: SQLite goes back to the start of the
 * file only when a write begins with every frame copied, and under continuous load the thread, racing the
 * writer, is always a few frames behind (measured: the WAL reached 116 MB in a 10 s run). A RESTART checkpoint would take
 * the write lock from the event loop's transactions (they would fail SQLITE_BUSY or sleep in the busy
 * handler). So the writer finishes the job itself: after a commit, once the WAL is past `restartAtFrames`
 * and the thread reports being within `tailFrames` of the end, `afterCommit()` checkpoints those last frames
 * on the event loop, and the next write restarts the WAL: one copy of the last few hundred frames per cycle
 * instead of a copy per 1,000 frames. That copy costs its two fsyncs (the WAL's, then the database file's),
 * not its frames: 6–11 ms with full contexts at 500 turns/s, however few frames are left. So the cycle is
 * long, 32,768 frames (~135 MB of WAL with 4 KB pages): at that load the copy runs about every 2.5 s instead of
 * three times a second, and the ack p99 fell from 17.0 to 14.2 ms (8.0 to 6.1 at 250 turns/s; BENCHMARKS.md).
 * Whenever the thread does catch up between two commits, the WAL restarts sooner, with no copy here.
 *
 * If the thread fails, automatic checkpoints come back on. `close()` stops the thread and waits for it to
 * close its connection, so the caller's close is the last one and removes the WAL.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

export interface CheckpointerOptions {
  /** The WAL size at which the thread starts, in bytes. */
  startAtWalBytes: number;
  /** Time between checkpoints when the last one copied everything, in ms. */
  intervalMs: number;
  /** Time between checkpoints while the writer is ahead, in ms. */
  chaseMs: number;
  /** WAL frames past which the writer copies the last frames itself, so that the WAL restarts. */
  restartAtFrames: number;
  /** How close to the end the thread must be for the writer to copy the rest. */
  tailFrames: number;
  /** WAL frames past which the writer copies the rest however far behind the thread is. */
  hardLimitFrames: number;
}

export interface CheckpointerLogger {
  warn(obj: object, msg?: string): void;
}

export const CHECKPOINTER_DEFAULTS: CheckpointerOptions = {
  startAtWalBytes: 1_048_576,
  intervalMs: 100,
  chaseMs: 25,
  restartAtFrames: 32_768,
  tailFrames: 512,
  hardLimitFrames: 65_536,
};

/** SQLite's default `wal_autocheckpoint`, restored when the thread is gone. */
const AUTOCHECKPOINT_PAGES = 1_000;

/** Time `close()` waits for the thread to close its connection, in ms. */
const STOP_WAIT_MS = 2_000;

/** The WAL size is looked at this often until the thread starts, in ms. */
const WATCH_MS = 250;

/**
 * Where things live in the shared Int32Array: STOP = 1 asks the thread to stop; STOPPED = 1 once it has
 * closed its connection; LOG and COPIED are the WAL frames and the frames copied as of the thread's last
 * checkpoint, ROUND counts its checkpoints. Passed to the thread, which cannot see module constants.
 */
const SLOT = { STOP: 0, STOPPED: 1, LOG: 2, COPIED: 3, ROUND: 4 } as const;
const SLOTS = Object.keys(SLOT).length;

interface ThreadInput {
  sqlite: string;
  path: string;
  flags: SharedArrayBuffer;
  slot: typeof SLOT;
  options: CheckpointerOptions;
}

/** The thread's whole program; self-contained (it runs from its source text). */
function checkpointLoop(input: ThreadInput, load: (id: string) => unknown): void {
  const Database = load(input.sqlite) as new (path: string, options: object) => {
    pragma(sql: string): unknown;
    close(): void;
  };
  const { slot } = input;
  const slots = new Int32Array(input.flags);
  const db = new Database(input.path, { fileMustExist: true });
  try {
    while (Atomics.load(slots, slot.STOP) === 0) {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      const log = result?.log ?? 0;
      const copied = result?.checkpointed ?? 0;
      Atomics.store(slots, slot.LOG, log);
      Atomics.store(slots, slot.COPIED, copied);
      Atomics.add(slots, slot.ROUND, 1);
      Atomics.wait(slots, slot.STOP, 0, copied < log ? input.options.chaseMs : input.options.intervalMs);
    }
  } finally {
    db.close();
    Atomics.store(slots, slot.STOPPED, 1);
    Atomics.notify(slots, slot.STOPPED);
  }
}

// As in workers/pool/thread-pool.ts: the `__name` shim stands in for a transpiler helper (keepNames).
const THREAD_SOURCE = `'use strict';
const { workerData } = require('node:worker_threads');
const __name = (f) => f;
(${checkpointLoop.toString()})(workerData, require);`;

const localRequire = createRequire(import.meta.url);

/** Commits between two reads of the WAL's size while the thread reports nothing (a stat each, ~2 µs). */
const STALL_CHECK_COMMITS = 64;
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

export class WalCheckpointer {
  readonly #db: Db;
  readonly #path: string;
  readonly #options: CheckpointerOptions;
  readonly #logger: CheckpointerLogger | undefined;
  readonly #flags = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  /** The thread's round the writer last finished a WAL cycle after. */
  #tailRound = -1;
  /** Commits since the last copy here with no new round from the thread. */
  #stalledCommits = 0;
  #pageSize: number | undefined;
  #watch: NodeJS.Timeout | undefined;
  #thread: Worker | undefined;
  #closed = false;

  constructor(db: Db, path: string, logger?: CheckpointerLogger, options: Partial<CheckpointerOptions> = {}) {
    this.#db = db;
    this.#path = path;
    this.#logger = logger;
    this.#options = { ...CHECKPOINTER_DEFAULTS, ...options };
    this.#watch = setInterval(() => this.#startWhenDue(), WATCH_MS);
    this.#watch.unref();
  }

  /** True while the thread checkpoints (the connection's automatic checkpoint is off). */
  get running(): boolean {
    return this.#thread !== undefined;
  }

  /** Starts the thread now, whatever the WAL size (the watch calls it once the WAL is big enough). */
  start(): void {
    if (this.#closed || this.#thread !== undefined) return;
    clearInterval(this.#watch);
    this.#watch = undefined;
    const input: ThreadInput = {
      sqlite: localRequire.resolve('better-sqlite3'),
      path: this.#path,
      flags: this.#flags.buffer as SharedArrayBuffer,
      slot: SLOT,
      options: this.#options,
    };
    const thread = new Worker(THREAD_SOURCE, { eval: true, workerData: input });
    thread.unref();
    thread.on('error', (err) => this.#lost(thread, err));
    thread.on('exit', (code) => this.#lost(thread, new Error(`checkpoint thread exited (${code})`)));
    this.#thread = thread;
    this.#db.pragma('wal_autocheckpoint = 0');
  }

  /** Stops the thread and waits (at most STOP_WAIT_MS) until it has closed its connection; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watch);
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread === undefined) return;
    Atomics.store(this.#flags, SLOT.STOP, 1);
    Atomics.notify(this.#flags, SLOT.STOP);
    Atomics.wait(this.#flags, SLOT.STOPPED, 0, STOP_WAIT_MS);
    void thread.terminate();
  }

  /**
   * Call after each commit: when the WAL is long and the thread nearly done copying it, copies the last frames
   * here, so that the next write restarts the WAL from the start of the file.
   */
  afterCommit(): void {
    if (this.#thread === undefined) return;
    const round = Atomics.load(this.#flags, SLOT.ROUND);
    if (round === this.#tailRound) {
      // No report from the thread since the last copy here: it may not be getting a core. The hard limit must
      // hold anyway, so every STALL_CHECK_COMMITS commits the WAL's length is read from the file itself.
      this.#stalledCommits += 1;
      if (this.#stalledCommits % STALL_CHECK_COMMITS === 0 && this.#walFrames() >= this.#options.hardLimitFrames) this.#copyTail();
      return;
    }
    const log = Atomics.load(this.#flags, SLOT.LOG);
    const behind = log - Atomics.load(this.#flags, SLOT.COPIED);
    if (log < this.#options.restartAtFrames || (behind > this.#options.tailFrames && log < this.#options.hardLimitFrames)) return;
    this.#tailRound = round;
    this.#copyTail();
  }

  /** Frames in the WAL file, from its size (0 when it cannot be read). */
  #walFrames(): number {
    try {
      this.#pageSize ??= Number(this.#db.pragma('page_size', { simple: true }));
      return Math.max(0, statSync(`${this.#path}-wal`).size - WAL_HEADER_BYTES) / (this.#pageSize + WAL_FRAME_HEADER_BYTES);
    } catch {
      return 0;
    }
  }

  /** Copies what is left of the WAL into the database here; the next write then restarts the WAL. */
  #copyTail(): void {
    this.#stalledCommits = 0;
    try {
      // PASSIVE: when the thread holds the checkpoint lock this returns at once (busy); a later commit tries again.
      this.#db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // The commit is done and must not look failed; a file that went bad fails the next statement instead.
    }
  }

  #startWhenDue(): void {
    let size: number;
    try {
      size = statSync(`${this.#path}-wal`).size;
    } catch {
      return;
    }
    if (size >= this.#options.startAtWalBytes) this.start();
  }

  #lost(thread: Worker, err: unknown): void {
    if (this.#thread !== thread) return;
    this.#thread = undefined;
    this.#logger?.warn({ err }, 'WAL checkpoint thread failed; checkpoints run in commits again');
    try {
      this.#db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    } catch {
      // The connection is being replaced (RAM-only mode); nothing to restore.
    }
  }
}
