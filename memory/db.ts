/**
 * Opens the SQLite database the better-sqlite3 way: WAL at open, `synchronous=NORMAL` (a committed
 * transaction survives a process crash, `kill -9` included; only an OS crash or power loss can lose the last
 * transactions), temporary storage in memory, migrations applied in order.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = BetterSqlite3.Database;

export interface DbLogger {
  info(obj: object, msg?: string): void;
}

/** Milliseconds a statement waits for a lock held by another connection before SQLITE_BUSY. */
export const DB_BUSY_TIMEOUT_MS = 5_000;

export interface OpenOptions {
  /** Create the folder when it is missing (default true; false when probing whether a lost folder came back). */
  createDir?: boolean;
  migrations?: readonly Migration[];
}

export function openDatabase(path: string, logger?: DbLogger, options: OpenOptions = {}): Db {
  if (path !== ':memory:' && options.createDir !== false) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { timeout: DB_BUSY_TIMEOUT_MS });
  try {
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    usePragmas(db);
    migrate(db, options.migrations ?? MIGRATIONS, logger);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The settings every connection gets, the in-memory copy of a failed database too. `temp_store = MEMORY`:
 * statement journals (which SQLite opens for writes inside a transaction that may need a statement-level
 * rollback: most writes of a group commit) are kept in RAM; with the default (a file), SQLite creates, opens
 * and deletes a file in the temp folder for each of them (strace: one every other commit).
 */
export function usePragmas(db: Db): void {
  db.pragma('temp_store = MEMORY');
  db.pragma('foreign_keys = ON');
}

/**
 * A row count (LIMIT, OFFSET) as SQLite can bind it. A client may send any JSON integer, and past 2^63 (1e21)
 * better-sqlite3 binds a float, which SQLite refuses in LIMIT/OFFSET; past 2^53 no table is that long anyway.
 */
export function sqlCount(n: number): number {
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

/** Runs a function in a transaction (nested: a savepoint), as better-sqlite3's `db.transaction(fn)()` does. */
export type TransactionRunner = <T>(fn: () => T) => T;

/**
 * One transaction wrapper for every function run on `db`: `db.transaction(fn)` makes four wrappers and defines
 * their properties at every call (~10 µs: 13 µs a commit of one insert, against 3 µs through this runner).
 */
export function transactionRunner(db: Db): TransactionRunner {
  const run = db.transaction((fn: () => unknown) => fn());
  return <T>(fn: () => T): T => run(fn) as T;
}

/** better-sqlite3 throws `SqliteError` (with a `SQLITE_*` code); told apart by name, across module copies. */
export function isSqliteError(err: unknown): boolean {
  return err instanceof Error && err.name === 'SqliteError';
}

/** Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[], logger?: DbLogger): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((row) => (row as { version: number }).version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    })();
    logger?.info({ version: migration.version, migration: migration.name }, 'database migration applied');
  }
}
