import { pino } from 'pino';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { openStore } from '../../memory/store.js';
import { INTERRUPTED_MESSAGE, recoverInterruptedRuns } from '../../workers/runs/recovery.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('recoverInterruptedRuns', () => {
  it('ends every run left open as interrupted, in one commit, and logs each only at debug', () => {
    const store = openStore(tempDir('brainstem-recovery-'));
    onTestFinished(() => store.close());
    for (const key of ['a', 'b', 'c']) {
      store.turns.accept({ idempotencyKey: key, method: 'chat.send', requestHash: key, sessionKey: `agent:main:${key}`, agentId: 'main', kind: 'chat', userMessage: { role: 'user', content: key, timestamp: 1 }, now: 1 });
    }
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const transaction = vi.spyOn(store, 'transaction');

    expect(recoverInterruptedRuns(store, 5, 1_000, logger)).toBe(3);

    expect(transaction).toHaveBeenCalledTimes(1);
    expect(store.runs.open()).toEqual([]);
    expect(['a', 'b', 'c'].map((key) => store.runs.get(key))).toMatchObject([1, 2, 3].map(() => ({ status: 'interrupted', error: INTERRUPTED_MESSAGE })));
    expect(store.idempotency.get('a', 5)).toMatchObject({ status: 'error', response: { runId: 'a', status: 'error', summary: 'interrupted' } });
    expect(lines.map((line) => [line.level, line.msg])).toEqual([1, 2, 3].map(() => [20, 'run interrupted by restart']));
  });
});
