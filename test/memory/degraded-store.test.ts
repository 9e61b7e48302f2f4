/**
 * RAM-only mode. Root ignores file mode bits, and a WAL connection keeps writing to a file that was moved
 * or replaced under it, so these tests make SQLite itself report what an unusable file reports:
 * - disk full: `PRAGMA max_page_count` caps the file, and writes fail with SQLITE_FULL;
 * - read-only: `PRAGMA query_only` on the live connection makes writes fail with SQLITE_READONLY, and reopen
 *   attempts get read-only connections (the write-back fails) until the folder "comes back".
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../memory/db.js';
import { DATABASE_FILE, openStore } from '../../memory/store.js';
import type { ResilientStore } from '../../memory/resilient-store.js';
import { tempDir } from '../helpers/temp-dir.js';

function addSession(store: ReturnType<typeof openStore>, key: string, text: string): string {
  return store.transaction(() => {
    const { session } = store.sessions.ensure(key, 'main', Date.now());
    return store.transcript.append(session.key, session.sessionId, { role: 'user', content: text, timestamp: Date.now() }, undefined).id;
  });
}

function faultyOpen(): { open: (path: string, o: { createDir: boolean }) => Db; live: () => Db; readOnly: { on: boolean } } {
  const readOnly = { on: false };
  let current: Db | undefined;
  return {
    readOnly,
    live: () => current as Db,
    open: (path, options) => {
      if (readOnly.on) return new BetterSqlite3(path, { readonly: true, fileMustExist: true });
      current = openDatabase(path, undefined, options);
      return current;
    },
  };
}

describe('RAM-only (degraded) store', () => {
  it('starts degraded on a corrupt file, keeps serving, and writes back once the file is replaced', () => {
    const dir = tempDir();
    writeFileSync(join(dir, DATABASE_FILE), 'this is not a database, just garbage bytes '.repeat(100));
    const store = openStore(dir, undefined, { retryIntervalMs: 60_000 }) as ResilientStore;
    expect(store.health()).toMatchObject({ state: 'degraded', reason: 'SQLITE_NOTADB' });
    const id = addSession(store, 'agent:main:a', 'accepted while degraded');
    // An item whose MemoryID runs an hour ahead of its createdAt: the file learns that lead with the rows.
    const now = Date.now();
    const ahead = { id: ulid(now + 3_600_000), sessionKey: 'agent:main:a', sessionId: store.sessions.get('agent:main:a')?.sessionId ?? '', kind: 'turn' as const, role: 'user' as const, text: 'ahead', tokens: 1, state: 'evicted' as const, createdAt: now, updatedAt: now, summarizedBy: undefined, summaryOf: undefined, document: undefined };
    store.memory.items.insert(ahead);
    expect(store.health().pendingRows).toBeGreaterThan(0);
    expect(store.retryNow()).toBe(false);
    writeFileSync(join(dir, DATABASE_FILE), '');
    expect(store.retryNow()).toBe(true);
    expect(store.health()).toEqual({ state: 'ok' });
    store.close();
    const reopened = openStore(dir);
    expect(reopened.memory.items.get(id)).toMatchObject({ text: 'accepted while degraded', state: 'active' });
    expect(reopened.sessions.get('agent:main:a')?.messageCount).toBe(1);
    // At least that: ids made earlier in this worker may carry a later time still (the factory is monotonic).
    expect(reopened.memory.items.maxIdLead()).toBeGreaterThanOrEqual(3_600_000);
    expect(reopened.memory.recall.list({ until: now }, 5).records.map((record) => record.text)).toContain('ahead');
    reopened.close();
  });

  it('switches to RAM on a full disk (SQLITE_FULL) without losing the failed write, then recovers', () => {
    const dir = tempDir();
    const fault = faultyOpen();
    const store = openStore(dir, undefined, { open: fault.open, retryIntervalMs: 60_000 }) as ResilientStore;
    const before = addSession(store, 'agent:main:b', 'before the disk filled');
    const pages = fault.live().pragma('page_count', { simple: true }) as number;
    fault.live().pragma(`max_page_count = ${pages}`);
    const big = 'x'.repeat(20_000);
    const during = addSession(store, 'agent:main:b', big);
    expect(store.health()).toMatchObject({ state: 'degraded', reason: 'SQLITE_FULL' });
    expect(store.memory.items.get(during)?.text).toBe(big);
    expect(store.memory.items.get(before)?.text).toBe('before the disk filled');
    expect(store.retryNow()).toBe(true);
    store.close();
    const reopened = openStore(dir);
    expect(reopened.memory.items.get(during)?.text).toBe(big);
    expect(reopened.transcript.page('agent:main:b', reopened.sessions.get('agent:main:b')?.sessionId ?? '', 10, 0).messages).toHaveLength(2);
    reopened.close();
  });

  it('switches to RAM when the database turns read-only, stays there while reopening gives read-only connections, and recovers', async () => {
    const dir = tempDir();
    const fault = faultyOpen();
    const store = openStore(dir, undefined, { open: fault.open, retryIntervalMs: 60_000 }) as ResilientStore;
    const changes: string[] = [];
    store.onHealthChange((health) => changes.push(health.state));
    addSession(store, 'agent:main:c', 'first');
    fault.live().pragma('query_only = ON');
    fault.readOnly.on = true;
    const during = addSession(store, 'agent:main:c', 'while read-only');
    expect(store.health()).toMatchObject({ state: 'degraded', reason: 'SQLITE_READONLY' });
    expect(store.retryNow()).toBe(false);
    fault.readOnly.on = false;
    expect(store.retryNow()).toBe(true);
    await Promise.resolve();
    expect(changes).toEqual(['degraded', 'ok']);
    store.close();
    const reopened = openStore(dir);
    expect(reopened.memory.items.get(during)?.text).toBe('while read-only');
    reopened.close();
  });

  it('does not degrade on an ordinary SQL error', () => {
    const dir = tempDir();
    const store = openStore(dir);
    const run = { runId: 'r1', sessionKey: 'k', sessionId: 's', agentId: 'main', kind: 'chat' as const, createdAt: 1 };
    store.runs.insert(run);
    // Inserting an open run twice is refused (the store checks before SQLite's UNIQUE would): not a fault.
    expect(() => store.runs.insert(run)).toThrow(/still open|UNIQUE/);
    expect(() => store.transaction(() => { throw new Error('boom'); })).toThrow('boom');
    expect(store.health().state).toBe('ok');
    store.close();
  });
});
