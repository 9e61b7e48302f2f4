/**
 * The job table's database connection: the gateway's SQLite file (the Store's path), opened a second time with
 * memory/db.ts (WAL, busy timeout, migrations). Both connections live on the event-loop thread and every
 * transaction is synchronous, so they never wait on each other. One rule: a transaction here must not read
 * before the other connection commits inside it, or its write fails SQLITE_BUSY (a snapshot older than the
 * last commit cannot write; JobStore.once). A file that cannot be opened leaves the jobs in a RAM database:
 * work still runs, but does not survive a restart (`durable: false`, logged).
 */
import { openDatabase, type Db } from '../../memory/db.js';
import { JOB_MIGRATIONS } from './job-migrations.js';

export interface JobDb {
  readonly db: Db;
  /** False when the jobs live in RAM only (no file, or the file failed to open). */
  readonly durable: boolean;
  /** Closes the connection; safe to call twice. */
  close(): void;
}

export interface JobDbLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function openJobDb(storePath: string, logger: JobDbLogger): JobDb {
  let db: Db;
  let durable = storePath !== ':memory:';
  try {
    db = openDatabase(storePath, logger, { migrations: JOB_MIGRATIONS });
  } catch (err) {
    logger.error({ err, path: storePath }, 'the job table could not be opened; jobs run from RAM and do not survive a restart');
    db = openDatabase(':memory:', logger, { migrations: JOB_MIGRATIONS });
    durable = false;
  }
  let closed = false;
  return {
    db,
    durable,
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
