/**
 * The SQLite-backed store of the gateway: one database file, one owner. Everything that touches SQL is
 * reached through this object.
 */
import { join } from 'node:path';
import { openDatabase, type Db, type DbLogger } from './db.js';
import { IdempotencyStore } from './idempotency-store.js';
import { RunsStore } from './runs-store.js';
import { SessionsStore } from './sessions-store.js';
import { TranscriptStore } from './transcript-store.js';
import { TurnStore } from './turn-store.js';

/** File name of the database inside the data dir. */
export const DATABASE_FILE = 'brainstem.db';

export interface Store {
  readonly path: string;
  readonly sessions: SessionsStore;
  readonly transcript: TranscriptStore;
  readonly runs: RunsStore;
  readonly idempotency: IdempotencyStore;
  readonly turns: TurnStore;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  /** Closes the database; safe to call twice. */
  close(): void;
}

export function openStore(dataDir: string, logger?: DbLogger): Store {
  const path = dataDir === ':memory:' ? ':memory:' : join(dataDir, DATABASE_FILE);
  return createStore(openDatabase(path, logger), path);
}

export function createStore(db: Db, path: string): Store {
  const sessions = new SessionsStore(db);
  const transcript = new TranscriptStore(db);
  const runs = new RunsStore(db);
  const idempotency = new IdempotencyStore(db);
  const turns = new TurnStore(db, { sessions, transcript, runs, idempotency });
  let closed = false;
  return {
    path,
    sessions,
    transcript,
    runs,
    idempotency,
    turns,
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
