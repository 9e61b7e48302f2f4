/**
 * What RAM-only (degraded) mode accepted, written back to the database file when it comes back. The
 * in-memory database logs, by trigger, the key of every row inserted, updated or deleted while degraded;
 * recovery upserts each logged row into the file by its key (or deletes it there), in one transaction. When
 * the file comes back empty (a new database) and the in-memory database was a copy of the old file, every
 * row is written. A row that clashes with a different row in the file (e.g. the same transcript seq) is
 * skipped and counted, never guessed at.
 */
import type { Db } from './db.js';
import { mergeIdLead } from './id-lead.js';

interface TableSpec {
  readonly table: string;
  readonly key: string;
  /** Columns not copied: the file assigns its own (rowid aliases, per-database numbering). */
  readonly skip?: readonly string[];
}

/** Every table whose rows are written back, parents first. */
export const WRITE_BACK_TABLES: readonly TableSpec[] = [
  { table: 'sessions', key: 'key' },
  { table: 'purges', key: 'session_key' },
  { table: 'runs', key: 'run_id' },
  { table: 'idempotency', key: 'key' },
  { table: 'messages', key: 'id' },
  { table: 'memory_items', key: 'id', skip: ['n', 'scope'] },
  { table: 'summaries', key: 'id' },
  { table: 'ram_snapshots', key: 'session_key' },
  { table: 'events', key: 'id' },
];

const CHANGES_TABLE = '_degraded_changes';

/** Installs the change log on an in-memory database. */
export function installChangeLog(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${CHANGES_TABLE} (tbl TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, key))`);
  for (const { table, key } of WRITE_BACK_TABLES) {
    for (const [event, row] of [['INSERT', 'new'], ['UPDATE', 'new'], ['DELETE', 'old']] as const) {
      db.exec(`CREATE TRIGGER IF NOT EXISTS _log_${table}_${event.toLowerCase()} AFTER ${event} ON ${table} BEGIN
        INSERT OR IGNORE INTO ${CHANGES_TABLE} (tbl, key) VALUES ('${table}', ${row}.${key});
      END`);
    }
  }
}

/** Rows changed while degraded (logged keys). */
export function pendingChanges(db: Db): number {
  return db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${CHANGES_TABLE}`).get()?.n ?? 0;
}

export interface WriteBackReport {
  written: number;
  deleted: number;
  /** Rows that clashed with another row in the file and were left out. */
  skipped: number;
}

function columnsOf(db: Db, table: string): string[] {
  return db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((row) => row.name);
}

/**
 * Copies the rows changed in `memory` (all rows with `everything`) into `file`, in one transaction.
 * `scopeOf` gives the file's scope number for a session key (memory_items.scope is per database).
 */
export function writeBack(memory: Db, file: Db, everything: boolean, scopeOf: (sessionKey: string) => number): WriteBackReport {
  const report: WriteBackReport = { written: 0, deleted: 0, skipped: 0 };
  file.transaction(() => {
    for (const spec of WRITE_BACK_TABLES) {
      const columns = columnsOf(memory, spec.table).filter((column) => !(spec.skip ?? []).includes(column));
      const scoped = spec.table === 'memory_items';
      const insertColumns = scoped ? [...columns, 'scope'] : columns;
      const updates = columns.filter((column) => column !== spec.key).map((column) => `${column} = excluded.${column}`);
      const upsert = file.prepare(
        `INSERT INTO ${spec.table} (${insertColumns.join(', ')}) VALUES (${insertColumns.map(() => '?').join(', ')})
         ON CONFLICT(${spec.key}) DO UPDATE SET ${updates.join(', ')}`,
      );
      const remove = file.prepare(`DELETE FROM ${spec.table} WHERE ${spec.key} = ?`);
      const keys = everything
        ? memory.prepare<[], { k: string }>(`SELECT ${spec.key} AS k FROM ${spec.table}`).all().map((row) => row.k)
        : memory.prepare<[string], { k: string }>(`SELECT key AS k FROM ${CHANGES_TABLE} WHERE tbl = ?`).all(spec.table).map((row) => row.k);
      const read = memory.prepare<[string], Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM ${spec.table} WHERE ${spec.key} = ?`);
      for (const key of keys) {
        const row = read.get(key);
        try {
          if (row === undefined) {
            report.deleted += remove.run(key).changes;
            continue;
          }
          const values = columns.map((column) => row[column]);
          if (scoped) values.push(scopeOf(String(row.session_key)));
          upsert.run(...values);
          report.written += 1;
        } catch (err) {
          // A clash with another row is skipped; anything else (the file failing again) aborts the write-back.
          if (!(err instanceof Error && 'code' in err && String(err.code).startsWith('SQLITE_CONSTRAINT'))) throw err;
          report.skipped += 1;
        }
      }
    }
    // Ids made while degraded may run further ahead of their items' createdAt than any in the file.
    mergeIdLead(memory, file);
  })();
  return report;
}
