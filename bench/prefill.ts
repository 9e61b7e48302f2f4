/**
 * `npx tsx bench/prefill.ts --turns 1000000 --out DIR`: a database as a gateway leaves it after serving that many
 * turns, for `npm run bench -- --seed DIR/brainstem.db`. Every turn goes through the store's own turn writes
 * (user message, run, idempotency record, assistant message, their memory items), 1,000 to a transaction, round
 * robin over `--sessions` session keys (`agent:main:old-<n>`, none of which the load generator uses), with
 * timestamps ending now; then the full-text index catches up, as the batch writer would. The idempotency
 * records are within their TTL, so none is swept during a run.
 * Options: --turns N (default 1,000,000) --sessions N (default 10,000) --out DIR (required).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDatabase } from '../memory/db.js';
import { createParts, DATABASE_FILE } from '../memory/store.js';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '1000000' },
    sessions: { type: 'string', default: '10000' },
    out: { type: 'string' },
  },
});
if (values.out === undefined) throw new Error('--out DIR is required');
const turns = Number(values.turns);
const sessions = Number(values.sessions);
const TURNS_PER_COMMIT = 1_000;
const DAY_MS = 86_400_000;

mkdirSync(values.out, { recursive: true });
const path = `${values.out}/${DATABASE_FILE}`;
const db = openDatabase(path);
const parts = createParts(db, true);
const started = performance.now();
let now = Date.now() - turns;

const storeTurns = db.transaction((from: number, count: number) => {
  for (let i = from; i < from + count; i++) {
    const key = randomUUID();
    const sessionKey = `agent:main:old-${i % sessions}`;
    const text = `stored message ${i}: a question about the deployment, long enough to look like a real turn`;
    now += 1;
    const accepted = parts.turns.acceptWithin({ idempotencyKey: key, method: 'chat', requestHash: key, sessionKey, agentId: 'main', kind: 'chat', userMessage: { role: 'user', content: text, timestamp: now }, now });
    if (accepted.kind !== 'accepted') throw new Error(`turn ${i} not accepted`);
    parts.turns.finishWithin({
      runId: key,
      idempotencyKey: key,
      sessionKey,
      sessionId: accepted.run.sessionId,
      end: { status: 'ok', startedAt: now, endedAt: now, stopReason: 'stop' },
      assistantMessage: { role: 'assistant', content: [{ type: 'text', text: `Echo: ${text}` }], timestamp: now },
      outcome: 'ok',
      response: { runId: key, status: 'ok' },
      expiresAt: Date.now() + DAY_MS,
    });
  }
});
for (let done = 0; done < turns; done += TURNS_PER_COMMIT) {
  storeTurns(done, Math.min(TURNS_PER_COMMIT, turns - done));
  if ((done + TURNS_PER_COMMIT) % 100_000 === 0) process.stdout.write(`${done + TURNS_PER_COMMIT} turns, ${Math.round((performance.now() - started) / 1000)} s\n`);
}
const index = db.transaction(() => parts.memory.index.catchUp());
while (index() > 0);
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
process.stdout.write(`${path}: ${turns} turns over ${sessions} sessions in ${Math.round((performance.now() - started) / 1000)} s\n`);
