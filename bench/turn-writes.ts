/**
 * `npx tsx bench/turn-writes.ts`: what a turn costs the database, and what schema changes would save. Each
 * variant is the current schema with one change applied after the migrations; every run stores `--turns` turns
 * (accept, then finish: user message, run, idempotency record, assistant message, memory items) round robin over
 * 100 sessions in group commits of `--batch` turns, on a fresh database file, with nothing else running. Reported
 * per turn, as medians over `--rounds` alternating rounds, each beside the current schema measured in the same
 * round: WAL frames (pages written; read back from the WAL, which is checkpointed outside the measured time) and
 * CPU time of the writes and commits. Batch 1 is a gateway at low load (every turn commits alone), larger
 * batches one under load (a commit serves the turns of an event-loop iteration).
 * Options: --turns N --batches 1,20 --rounds N --write (replaces the section in BENCHMARKS.md).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type Db } from '../memory/db.js';
import { createParts } from '../memory/store.js';
import type { TurnStore } from '../memory/turn-store.js';
import { stamp, writeSection } from './lib/report.js';
import { median, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '8000' },
    batches: { type: 'string', default: '1,20' },
    rounds: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
});

const SESSIONS = 100;
/** WAL frames are read back (and the WAL emptied) every this many batches, outside the measured time. */
const CHECKPOINT_EVERY_BATCHES = 50;

interface Variant {
  name: string;
  /** What the change is, for the table. */
  change: string;
  apply(db: Db): void;
}

/** Recreates `table` with `create` (same columns), copying its rows and indexes. */
function rebuild(db: Db, table: string, create: string): void {
  const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).join(', ');
  const indexes = db.prepare<[string], { sql: string }>("SELECT sql FROM sqlite_schema WHERE tbl_name = ? AND type = 'index' AND sql IS NOT NULL").all(table);
  db.exec(`ALTER TABLE ${table} RENAME TO old_${table}; ${create}; INSERT INTO ${table} (${columns}) SELECT ${columns} FROM old_${table}; DROP TABLE old_${table};`);
  for (const { sql } of indexes) db.exec(sql);
}

const VARIANTS: readonly Variant[] = [
  { name: 'current', change: 'the schema as shipped', apply: () => {} },
  {
    name: 'idempotency-without-rowid',
    change: '`idempotency` WITHOUT ROWID (its key is the table; no separate key index)',
    apply: (db) =>
      rebuild(db, 'idempotency', 'CREATE TABLE idempotency (key TEXT PRIMARY KEY, method TEXT NOT NULL, request_hash TEXT NOT NULL, run_id TEXT NOT NULL, status TEXT NOT NULL, response TEXT, created_at INTEGER NOT NULL, expires_at INTEGER) WITHOUT ROWID'),
  },
  { name: 'no-runs_session', change: 'no `runs_session` index (deleting a session would scan every run)', apply: (db) => db.exec('DROP INDEX runs_session') },
  { name: 'no-memory_items_created', change: 'no `memory_items_created` index (age pruning would scan every item)', apply: (db) => db.exec('DROP INDEX memory_items_created') },
  {
    name: 'sessions-before-migration-5',
    change: '`sessions` indexed as before migration 5: `sessions_updated` alone, not `sessions_live` and `sessions_agent` (`sessions.list` scanned every session)',
    apply: (db) => db.exec('DROP INDEX sessions_live; DROP INDEX sessions_agent; CREATE INDEX sessions_updated ON sessions(updated_at DESC)'),
  },
];

interface Sample {
  framesPerTurn: number;
  cpuUsPerTurn: number;
}

/** WAL frames since the last call; empties the WAL. */
function drainWal(db: Db): number {
  const [state] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  db.pragma('wal_checkpoint(TRUNCATE)');
  return state?.log ?? 0;
}

function storeTurns(turns: TurnStore, db: Db, count: number, batch: number): Sample {
  const keys = Array.from({ length: count }, () => randomUUID());
  const commit = (fn: () => void): void => db.transaction(fn)();
  drainWal(db);
  let frames = 0;
  let cpuUs = 0;
  for (let b = 0; b * batch < count; b++) {
    const now = Date.now();
    const started = process.cpuUsage();
    const accepted: { key: string; sessionKey: string; sessionId: string }[] = [];
    commit(() => {
      for (let i = b * batch; i < Math.min(count, (b + 1) * batch); i++) {
        const key = keys[i] as string;
        const userMessage = { role: 'user' as const, content: 'hello brainstem, this is one benchmark turn', timestamp: now };
        const result = turns.acceptWithin({ idempotencyKey: key, method: 'chat.send', requestHash: key, sessionKey: `agent:main:s${i % SESSIONS}`, agentId: 'main', kind: 'chat', userMessage, now });
        if (result.kind === 'accepted') accepted.push({ key, sessionKey: result.session.key, sessionId: result.session.sessionId });
      }
    });
    commit(() => {
      for (const { key, sessionKey, sessionId } of accepted) {
        turns.finishWithin({
          runId: key,
          idempotencyKey: key,
          sessionKey,
          sessionId,
          end: { status: 'ok', startedAt: now, endedAt: now, usage: { input: 10, output: 12 } },
          assistantMessage: { role: 'assistant', content: [{ type: 'text', text: 'Echo (offline local model): hello brainstem, this is one benchmark turn' }], timestamp: now },
          outcome: 'ok',
          response: { runId: key, status: 'ok' },
          expiresAt: now + 86_400_000,
        });
      }
    });
    const used = process.cpuUsage(started);
    cpuUs += used.user + used.system;
    if (b % CHECKPOINT_EVERY_BATCHES === CHECKPOINT_EVERY_BATCHES - 1) frames += drainWal(db);
  }
  frames += drainWal(db);
  return { framesPerTurn: frames / count, cpuUsPerTurn: cpuUs / count };
}

function measure(variant: Variant, count: number, batch: number): Sample {
  const dir = mkdtempSync(join(tmpdir(), 'brainstem-turn-writes-'));
  const db = openDatabase(join(dir, 'bench.db'));
  try {
    // Checkpoints happen in drainWal only, between measured batches.
    db.pragma('wal_autocheckpoint = 0');
    variant.apply(db);
    return storeTurns(createParts(db, true).turns, db, count, batch);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const count = Number(values.turns);
  const rounds = Number(values.rounds);
  const batches = values.batches.split(',').map(Number);
  const lines = [
    stamp(`npx tsx bench/turn-writes.ts --turns ${count} --batches ${batches.join(',')} --rounds ${rounds}`),
    '',
    `${count} turns over ${SESSIONS} sessions per run, memory on (every message also a memory item), medians of ${rounds} rounds; the ratio is to the current schema in the same rounds.`,
    '',
    '| change | turns per commit | WAL frames per turn | ratio | CPU per turn (µs) | ratio |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const batch of batches) {
    const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so that no variant always runs first (cold) or last.
      const order = r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const sample = measure(variant, count, batch);
        samples.get(variant.name)?.push(sample);
        process.stdout.write(`  batch ${batch} round ${r + 1} ${variant.name}: ${round(sample.framesPerTurn, 1)} frames, ${round(sample.cpuUsPerTurn, 1)} µs per turn\n`);
      }
    }
    const mid = (name: string, key: keyof Sample): number => median((samples.get(name) ?? []).map((s) => s[key]));
    for (const variant of VARIANTS) {
      const frames = mid(variant.name, 'framesPerTurn');
      const cpu = mid(variant.name, 'cpuUsPerTurn');
      const ratio = (value: number, key: keyof Sample): string => (variant.name === 'current' ? '–' : `${round(value / mid('current', key), 2)}×`);
      lines.push(`| ${variant.change} | ${batch} | ${round(frames, 1)} | ${ratio(frames, 'framesPerTurn')} | ${round(cpu, 0)} | ${ratio(cpu, 'cpuUsPerTurn')} |`);
    }
  }
  const body = lines.join('\n');
  process.stdout.write(`\n${body}\n`);
  if (values.write) writeSection('turn-writes', 'Turn writes: what the schema costs', body);
}

main();
