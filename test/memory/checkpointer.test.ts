import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WalCheckpointer } from '../../memory/checkpointer.js';
import { openDatabase, type Db } from '../../memory/db.js';
import type { Migration } from '../../memory/migrations.js';
import { tempDir } from '../helpers/temp-dir.js';

const TABLE: Migration[] = [{ version: 1, name: 'rows', sql: 'CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)' }];

function database(): { db: Db; path: string } {
  const path = join(tempDir('brainstem-checkpoint-'), 'test.db');
  const db = openDatabase(path, undefined, { migrations: TABLE });
  onTestFinished(() => {
    if (db.open) db.close();
  });
  return { db, path };
}

/** Commits `count` transactions of a few pages each, telling the checkpointer after each one. */
function write(db: Db, checkpointer: WalCheckpointer, count: number): void {
  const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
  const body = 'x'.repeat(3_000);
  for (let i = 0; i < count; i++) {
    db.transaction(() => {
      for (let j = 0; j < 4; j++) insert.run(body);
    })();
    checkpointer.afterCommit();
  }
}

const autocheckpoint = (db: Db): unknown => db.pragma('wal_autocheckpoint', { simple: true });
const walBytes = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('WAL checkpointer', () => {
  it('does not start a thread for a small WAL, and starts one (automatic checkpoints off) past the size', async () => {
    const { db, path } = database();
    const checkpointer = new WalCheckpointer(db, path, undefined, { startAtWalBytes: 256 * 1024 });
    onTestFinished(() => checkpointer.close());
    write(db, checkpointer, 5);
    await sleep(400);
    expect(checkpointer.running).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);

    write(db, checkpointer, 100);
    await sleep(400);
    expect(checkpointer.running).toBe(true);
    expect(autocheckpoint(db)).toBe(0);
  });

  it('copies the WAL into the database from its thread, and the writer restarts the WAL so it stays bounded', async () => {
    const { db, path } = database();
    // The hard limit (~17 MB of frames) bounds the WAL when a busy machine keeps the thread from getting within
    // tailFrames of the writer (the whole suite on 2 cores: 70 MB with the default limit). What no limit can do
    // is copy while the thread, descheduled, holds the checkpoint lock: with the rounds written back to back the
    // whole suite once saw 76 MB, no restart at all. Between rounds the writer pauses 5 ms, as a gateway's event
    // loop does between its commits, so the thread gets a core.
    const checkpointer = new WalCheckpointer(db, path, undefined, { intervalMs: 5, chaseMs: 1, restartAtFrames: 200, tailFrames: 100, hardLimitFrames: 4_096 });
    onTestFinished(() => checkpointer.close());
    checkpointer.start();
    // ~76 MB of WAL if it never restarted; 53-73 MB measured with afterCommit doing nothing (the thread alone).
    let largest = 0;
    for (let round = 0; round < 30; round++) {
      write(db, checkpointer, 100);
      largest = Math.max(largest, walBytes(path));
      await sleep(5);
    }
    expect(largest).toBeLessThan(48 * 1024 * 1024);
    await sleep(100);
    const [state] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    // The thread has copied everything: this checkpoint found nothing left to do.
    expect(state?.checkpointed).toBe(state?.log);
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 12_000 });
  });

  it('close() waits for the thread to close its connection, so closing the database removes the WAL', () => {
    const { db, path } = database();
    const checkpointer = new WalCheckpointer(db, path);
    checkpointer.start();
    write(db, checkpointer, 50);
    checkpointer.close();
    checkpointer.close();
    expect(checkpointer.running).toBe(false);
    db.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('turns automatic checkpoints back on when the thread fails', async () => {
    const { db } = database();
    const warnings: string[] = [];
    const checkpointer = new WalCheckpointer(db, join(tempDir('brainstem-checkpoint-'), 'missing.db'), { warn: (_obj, msg) => warnings.push(msg ?? '') });
    onTestFinished(() => checkpointer.close());
    checkpointer.start();
    expect(autocheckpoint(db)).toBe(0);
    await expect.poll(() => checkpointer.running, { timeout: 5_000 }).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    expect(warnings).toEqual(['WAL checkpoint thread failed; checkpoints run in commits again']);
  });
});
