/**
 * The SQLite-backed store of the gateway: one database file, one owner. Everything that touches SQL is
 * reached through this object. `openStore` never fails for a database problem: a file that cannot be
 * opened or written degrades the store to RAM-only mode (resilient-store.ts) and `health()` says so.
 */
import { join } from 'node:path';
import type { Db, DbLogger } from './db.js';
import { ForgetStore } from './forget-store.js';
import { IdempotencyStore } from './idempotency-store.js';
import { IndexStore } from './index-store.js';
import { ItemsStore } from './items-store.js';
import { PurgeStore } from './purge-store.js';
import { RecallStore } from './recall-store.js';
import { ResilientStore, type ResilientOptions } from './resilient-store.js';
import { RunsStore } from './runs-store.js';
import { SessionsStore } from './sessions-store.js';
import { SnapshotStore } from './snapshot-store.js';
import { TranscriptStore } from './transcript-store.js';
import { TurnStore } from './turn-store.js';

/** File name of the database inside the data dir. */
export const DATABASE_FILE = 'brainstem.db';

/** The long-term memory's tables. */
export interface MemoryTables {
  readonly items: ItemsStore;
  readonly recall: RecallStore;
  readonly snapshots: SnapshotStore;
  readonly forget: ForgetStore;
  readonly index: IndexStore;
}

/** The typed table objects of one open database. */
export interface StoreParts {
  readonly sessions: SessionsStore;
  readonly transcript: TranscriptStore;
  readonly runs: RunsStore;
  readonly idempotency: IdempotencyStore;
  readonly turns: TurnStore;
  readonly purges: PurgeStore;
  readonly memory: MemoryTables;
}

/** `ok`: on disk. `degraded`: RAM-only; what is accepted now reaches the disk only when the file comes back. */
export interface StoreHealth {
  state: 'ok' | 'degraded';
  /** The SQLite error code that caused RAM-only mode. */
  reason?: string;
  /** When RAM-only mode began, epoch ms. */
  since?: number;
  /** Rows accepted in RAM and not yet on disk. */
  pendingRows?: number;
}

export interface Store extends StoreParts {
  readonly path: string;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  health(): StoreHealth;
  /** Called when the health state changes; returns the unsubscribe function. */
  onHealthChange(listener: (health: StoreHealth) => void): () => void;
  /** Closes the database; safe to call twice. */
  close(): void;
}

export interface StoreOptions extends Omit<ResilientOptions, 'logger'> {
  logger?: DbLogger;
}

export function openStore(dataDir: string, logger?: DbLogger, options: Omit<StoreOptions, 'logger'> = {}): Store {
  const path = dataDir === ':memory:' ? ':memory:' : join(dataDir, DATABASE_FILE);
  return new ResilientStore(path, { ...options, ...(logger === undefined ? {} : { logger }) });
}

/** The table objects over one database; with `indexMemory` every turn also becomes a MemoryItem. */
export function createParts(db: Db, indexMemory: boolean): StoreParts {
  const sessions = new SessionsStore(db);
  const items = new ItemsStore(db);
  const transcript = new TranscriptStore(db, indexMemory ? items : undefined);
  const runs = new RunsStore(db);
  const idempotency = new IdempotencyStore(db);
  const turns = new TurnStore(db, { sessions, transcript, runs, idempotency });
  const purges = new PurgeStore(db, items);
  const memory = { items, recall: new RecallStore(db, items, purges), snapshots: new SnapshotStore(db), forget: new ForgetStore(db, items), index: new IndexStore(db) };
  return { sessions, transcript, runs, idempotency, turns, purges, memory };
}
