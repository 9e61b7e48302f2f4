/**
 * The store behind `openStore`, with RAM-only (degraded) mode. When the database file cannot be opened, or
 * a statement fails with an error that means the file is unusable (SQLITE_READONLY*, SQLITE_IOERR*,
 * SQLITE_FULL, SQLITE_CORRUPT*, SQLITE_CANTOPEN*, SQLITE_NOTADB), the store switches to an in-memory SQLite
 * database with the same schema — a copy of the file's content when it can still be read, else empty — and
 * retries the failed call there, so every code path keeps working and the process never crashes. Every
 * `retryIntervalMs` it tries to reopen the file (never creating a missing folder); when that works, what was
 * accepted in RAM is written back (write-back.ts) and the store switches back. Until then, accepted writes
 * are in RAM only and `health()` says `degraded` with the count of rows not yet on disk.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { WalCheckpointer } from './checkpointer.js';
import { migrate, openDatabase, transactionRunner, usePragmas, type Db, type DbLogger, type TransactionRunner } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { createParts, type Store, type StoreHealth, type StoreParts } from './store.js';
import { installChangeLog, pendingChanges, writeBack } from './write-back.js';

/** Default time between attempts to reopen the database file in RAM-only mode, in ms. */
export const DEFAULT_DB_RETRY_INTERVAL_MS = 5_000;

const FATAL_CODE = /^SQLITE_(READONLY|IOERR|FULL|CORRUPT|CANTOPEN|NOTADB)/;

type SqliteError = InstanceType<typeof BetterSqlite3.SqliteError>;

/** True for SQLite errors that mean the database file cannot be used (as opposed to a bad statement). */
export function isFatalSqliteError(err: unknown): err is SqliteError {
  return err instanceof BetterSqlite3.SqliteError && FATAL_CODE.test(err.code);
}

/** The error code of a failure to open the file: SQLite's, the file system's (EACCES, ENOTDIR), or OPEN_FAILED. */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'OPEN_FAILED';
}

export interface StoreLogger extends DbLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ResilientOptions {
  logger?: DbLogger & Partial<StoreLogger>;
  /** Turns also become MemoryItems (memory on); default true. */
  indexMemory?: boolean;
  /** Time between reopen attempts in RAM-only mode, in ms. */
  retryIntervalMs?: number;
  now?: () => number;
  /** Opens the file (tests wrap it to inject faults). */
  open?: (path: string, options: { createDir: boolean }) => Db;
}

interface Backend {
  db: Db;
  transaction: TransactionRunner;
  parts: StoreParts;
  kind: 'file' | 'memory';
  /** The in-memory database started as a copy of the file. */
  copied: boolean;
  /** Checkpoints the file's WAL off the event loop (file backends). */
  checkpointer?: WalCheckpointer;
}

export class ResilientStore implements Store {
  readonly path: string;
  readonly sessions: StoreParts['sessions'];
  readonly transcript: StoreParts['transcript'];
  readonly runs: StoreParts['runs'];
  readonly idempotency: StoreParts['idempotency'];
  readonly turns: StoreParts['turns'];
  readonly purges: StoreParts['purges'];
  readonly memory: StoreParts['memory'];
  readonly #options: ResilientOptions;
  readonly #listeners = new Set<(health: StoreHealth) => void>();
  #backend: Backend;
  #health: StoreHealth = { state: 'ok' };
  #txDepth = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string, options: ResilientOptions = {}) {
    this.path = path;
    this.#options = options;
    this.#backend = this.#openInitial();
    const part = <K extends keyof StoreParts>(key: K): StoreParts[K] => this.#forward(() => this.#backend.parts[key]);
    this.sessions = part('sessions');
    this.transcript = part('transcript');
    this.runs = part('runs');
    this.idempotency = part('idempotency');
    this.turns = part('turns');
    this.purges = part('purges');
    this.memory = {
      items: this.#forward(() => this.#backend.parts.memory.items),
      recall: this.#forward(() => this.#backend.parts.memory.recall),
      snapshots: this.#forward(() => this.#backend.parts.memory.snapshots),
      forget: this.#forward(() => this.#backend.parts.memory.forget),
      index: this.#forward(() => this.#backend.parts.memory.index),
    };
  }

  health(): StoreHealth {
    if (this.#health.state === 'ok') return { ...this.#health };
    return { ...this.#health, pendingRows: this.#safePending() };
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  transaction<T>(fn: () => T): T {
    if (this.#txDepth > 0) return fn();
    return this.#guard(() => {
      this.#txDepth += 1;
      let result: T;
      try {
        result = this.#backend.transaction(fn);
      } catch (err) {
        this.#backend.parts.memory.items.rolledBack();
        throw err;
      } finally {
        this.#txDepth -= 1;
      }
      this.#backend.parts.memory.items.committed();
      this.#backend.checkpointer?.afterCommit();
      return result;
    });
  }

  /** Tries to reopen the file now (RAM-only mode); true when the store is back on disk. */
  retryNow(): boolean {
    if (this.#health.state === 'ok') return true;
    return this.#tryRecover();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#backend.kind === 'memory') {
      this.#log('error', { pendingRows: this.#safePending() }, 'closing in RAM-only mode: rows accepted since the database failed are lost');
    }
    this.#backend.checkpointer?.close();
    try {
      this.#backend.db.close();
    } catch (err) {
      this.#log('warn', { err }, 'closing the database failed');
    }
  }

  #openInitial(): Backend {
    try {
      return this.#fileBackend(this.#openFile(true));
    } catch (err) {
      // Whatever keeps the file from opening (corrupt, unreadable, a file where the folder should be) means RAM-only.
      return this.#enterDegraded({ code: codeOf(err), err }, undefined);
    }
  }

  #openFile(createDir: boolean): Db {
    if (this.#options.open !== undefined) return this.#options.open(this.path, { createDir });
    return openDatabase(this.path, this.#options.logger, { createDir });
  }

  #fileBackend(db: Db, parts: StoreParts = createParts(db, this.#options.indexMemory ?? true)): Backend {
    const backend: Backend = { db, transaction: transactionRunner(db), parts, kind: 'file', copied: false };
    if (this.path !== ':memory:') {
      backend.checkpointer = new WalCheckpointer(db, this.path, { warn: (obj, msg) => this.#log('warn', obj, msg ?? '') });
    }
    return backend;
  }

  /** Runs a call on the current backend; a fatal error on the file switches to RAM and runs it again there. */
  #guard<R>(call: () => R): R {
    if (this.#txDepth > 0 && this.#backend.kind === 'file') return call();
    try {
      return call();
    } catch (err) {
      if (!isFatalSqliteError(err) || this.#backend.kind !== 'file' || this.#txDepth > 0) throw err;
      this.#backend.checkpointer?.close();
      this.#backend = this.#enterDegraded({ code: err.code, err }, this.#backend.db);
      return call();
    }
  }

  /** A stand-in for a table object that always calls the current backend's, through #guard. */
  #forward<T extends object>(pick: () => T): T {
    return new Proxy({} as T, {
      get: (_target, prop) => {
        const value: unknown = Reflect.get(pick(), prop);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          this.#guard(() => {
            const target = pick();
            return Reflect.apply(Reflect.get(target, prop) as (...a: unknown[]) => unknown, target, args);
          });
      },
    });
  }

  #enterDegraded(cause: { code: string; err: unknown }, failed: Db | undefined): Backend {
    let db: Db;
    let copied = false;
    try {
      if (failed === undefined) throw new Error('no database to copy');
      const image = failed.serialize();
      // A WAL database's header says so; the in-memory copy must use a rollback journal.
      image[18] = 1;
      image[19] = 1;
      db = new BetterSqlite3(image);
      copied = true;
    } catch {
      db = new BetterSqlite3(':memory:');
      migrate(db, MIGRATIONS);
    }
    usePragmas(db);
    installChangeLog(db);
    if (failed !== undefined) {
      try {
        failed.close();
      } catch {
        // The file is unusable; closing it may fail too.
      }
    }
    this.#health = { state: 'degraded', reason: cause.code, since: (this.#options.now ?? Date.now)() };
    this.#log('error', { err: cause.err, code: cause.code, path: this.path, copied }, 'database unusable: serving from RAM until it comes back (writes are not on disk)');
    this.#timer = setInterval(() => this.#tryRecover(), this.#options.retryIntervalMs ?? DEFAULT_DB_RETRY_INTERVAL_MS);
    this.#timer.unref();
    this.#notify({ ...this.#health });
    return { db, transaction: transactionRunner(db), parts: createParts(db, this.#options.indexMemory ?? true), kind: 'memory', copied };
  }

  #tryRecover(): boolean {
    if (this.#backend.kind === 'file' || this.#closed) return true;
    if (this.path !== ':memory:' && !existsSync(dirname(this.path))) return false;
    let file: Db;
    try {
      file = this.#openFile(false);
    } catch {
      return false;
    }
    const memory = this.#backend;
    try {
      const parts = createParts(file, this.#options.indexMemory ?? true);
      const fresh = parts.sessions.count() === 0 && memory.copied;
      const report = writeBack(memory.db, file, fresh, (key) => parts.memory.items.scope(key));
      this.#backend = this.#fileBackend(file, parts);
      this.#log('warn', { ...report, path: this.path, since: this.#health.since }, 'database back: RAM-only writes written back');
    } catch (err) {
      this.#log('warn', { err }, 'database reopened but the write-back failed; still RAM-only');
      try {
        file.close();
      } catch {
        // Nothing more to do with it.
      }
      return false;
    }
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#health = { state: 'ok' };
    memory.db.close();
    this.#notify(this.health());
    return true;
  }

  #safePending(): number {
    try {
      return this.#backend.kind === 'memory' ? pendingChanges(this.#backend.db) : 0;
    } catch {
      return 0;
    }
  }

  #notify(health: StoreHealth): void {
    for (const listener of this.#listeners) listener(health);
  }

  #log(level: 'warn' | 'error', obj: object, msg: string): void {
    const logger = this.#options.logger;
    const write = logger?.[level] ?? logger?.info;
    write?.call(logger, obj, msg);
  }
}
