/** A MemoryService over a real store in a temp dir, for long-term memory tests, and a long stored history made quickly. */
import { pino } from 'pino';
import { onTestFinished } from 'vitest';
import { MemoryApi } from '../../memory/memory-api.js';
import { Documents } from '../../memory/documents.js';
import { MemoryService, type MemoryEvent } from '../../memory/memory-service.js';
import { openStore, type Store, type StoreOptions } from '../../memory/store.js';
import type { ContextLimits } from '../../memory/limits.js';
import type { StoredMessage } from '../../memory/types.js';
import { tempDir } from './temp-dir.js';

export const RANKING = { candidates: 100, halfLifeMs: 7 * 86_400_000 };

export interface MemoryFixture {
  dir: string;
  store: Store;
  memory: MemoryService;
  api: MemoryApi;
  documents: Documents;
  events: MemoryEvent[];
  /** Stores a user or assistant turn the way the turn service does (transcript row, then the context). */
  say(sessionKey: string, role: 'user' | 'assistant', text: string): StoredMessage;
  /** Closes memory and store (flushing), then opens both again on the same dir. */
  restart(): MemoryFixture;
}

export function memoryFixture(
  options: { limits?: Partial<ContextLimits>; dir?: string; store?: Omit<StoreOptions, 'logger'>; longTerm?: boolean; maxContexts?: number } = {},
): MemoryFixture {
  const dir = options.dir ?? tempDir('brainstem-memory-');
  const logger = pino({ level: 'silent' });
  const store = openStore(dir, logger, options.store);
  const memory = new MemoryService({
    store,
    limits: { maxMessageBytes: 4_096, maxItems: 100, maxTokens: 20_000, ...options.limits },
    longTerm: options.longTerm ?? true,
    snapshotIntervalMs: 60_000,
    ...(options.maxContexts === undefined ? {} : { maxContexts: options.maxContexts }),
    now: Date.now,
    logger,
  });
  const events: MemoryEvent[] = [];
  memory.on((event) => events.push(event));
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    memory.close();
    store.close();
  };
  onTestFinished(close);
  return {
    dir,
    store,
    memory,
    api: new MemoryApi(memory, RANKING, Date.now, logger),
    documents: new Documents(memory, RANKING, Date.now),
    events,
    say: (sessionKey, role, text) => {
      const now = Date.now();
      const stored = store.transaction(() => {
        const { session } = store.sessions.ensure(sessionKey, 'main', now);
        return store.transcript.append(session.key, session.sessionId, { role, content: text, timestamp: now }, undefined);
      });
      memory.appendMessage(stored);
      return stored;
    },
    restart: () => {
      close();
      return memoryFixture({ ...options, dir });
    },
  };
}

/**
 * Gives a session `count` stored messages at once, alternating user and assistant (`<words> <i>`), through the
 * store: a long past, quickly. Returns the sessionId.
 */
export function storeHistory(store: Store, sessionKey: string, count: number, words = 'old line'): string {
  return store.transaction(() => {
    const { session } = store.sessions.ensure(sessionKey, 'main', Date.now());
    for (let i = 0; i < count; i++) {
      store.transcript.append(sessionKey, session.sessionId, { role: i % 2 === 0 ? 'user' : 'assistant', content: `${words} ${i}`, timestamp: Date.now() }, undefined);
    }
    return session.sessionId;
  });
}
