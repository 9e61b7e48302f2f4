/**
 * Interleavings: random sequences of what clients do to a few sessions at once — turns (`chat.send`, `agent`,
 * `sessions.send`, with repeated and conflicting idempotency keys, images, `queueMode: "interrupt"`, steps the
 * brain plans and hands to the worker pool), `sessions.steer`, aborts, resets, deletes, compactions, forgets,
 * injections, `agent.control`, reads, and a connection dropped in the middle of a request — sent over three
 * connections without waiting for the answers. Per sequence:
 * - every request is answered (`agent` twice once accepted), never with INTERNAL, and the gateway logs no error;
 * - every event matches its payload schema; in each chat/agent stream a connection saw, every run has one terminal
 *   chat event, right after its lifecycle end and with its seq, and the run's chat seqs rise;
 * - in a session nobody reset, deleted, compacted or forgot from: every run acked as started ends (agent.wait),
 *   every connection that follows the session saw it, the history holds every acked user turn once and at most
 *   one reply per run, and every message with text has its memory item.
 *
 * Reproduce a failure with the printed seed: INTERLEAVE_SEED=<seed> [INTERLEAVE_RUNS=<n>] npx vitest run test/server/interleavings.test.ts
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageText } from '../../memory/transcript-store.js';
import { EVENTS, type EventName } from '../../protocol/events.js';
import { MEMORY_QUERY_MAX_LIMIT, type MemoryItem } from '../../protocol/methods/memory.js';
import type { ChatMessage } from '../../protocol/schema.js';
import { eventValidator, formatValidationErrors } from '../../protocol/validators.js';
import { PNG_1PX } from '../helpers/images.js';
import { captureLogs, type CapturedLogs } from '../helpers/log-capture.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.js';
import { answerFault, RawClient, type Frame } from '../helpers/raw-client.js';

const SEED = Number(process.env.INTERLEAVE_SEED ?? Date.now() % 2_147_483_647);
const RUNS = Number(process.env.INTERLEAVE_RUNS ?? 40);
const SESSIONS = 3;
/** How long every request of a sequence gets to be answered, and every run to end, in ms. */
const SETTLE_MS = 15_000;

/**
 * The connections of a sequence: a memory-and-plan client and a plain OpenClaw one (both see every session's
 * stream; the plain one also follows `sessions.changed`, as the Control UI does), and a session-scoped one that
 * subscribes to the sequence's sessions.
 */
const CONNECTIONS = [
  { caps: ['memory.v1', 'agent.plan.v1'], scoped: false, sessionsChanged: false },
  { caps: [], scoped: false, sessionsChanged: true },
  { caps: ['session-scoped-events', 'memory.v1'], scoped: true, sessionsChanged: false },
] as const;

type Turn = 'chat.send' | 'agent' | 'sessions.send';
type Op =
  | { kind: 'turn'; via: Turn; image: boolean; plan: boolean; interrupt: boolean; repeat: number | undefined; sameMessage: boolean }
  | { kind: 'abort'; ofRun: number | undefined }
  | { kind: 'reset' | 'delete' | 'compact' | 'forget' | 'forget-some' | 'patch' | 'history' | 'recall' | 'inject' | 'steer' | 'describe' | 'drop' }
  | { kind: 'create' | 'sessions-abort' }
  | { kind: 'control'; action: 'pause' | 'resume' | 'stop' | 'cancel' }
  | { kind: 'wait'; ofRun: number; timeoutMs: number };
interface Step {
  op: Op;
  session: number;
  connection: number;
  /** Pause after sending, in ms (0: the next request goes out at once). */
  pauseMs: number;
}

const turnArb = fc.record({
  kind: fc.constant('turn' as const),
  via: fc.constantFrom<Turn>('chat.send', 'chat.send', 'agent', 'sessions.send'),
  image: fc.constantFrom(false, false, false, true),
  plan: fc.constantFrom(false, false, true),
  interrupt: fc.constantFrom(false, false, false, true),
  repeat: fc.option(fc.nat(), { freq: 4, nil: undefined }),
  sameMessage: fc.boolean(),
});
const kinds = <K extends string>(...names: K[]): fc.Arbitrary<{ kind: K }> => fc.record({ kind: fc.constantFrom(...names) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: turnArb },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const), ofRun: fc.option(fc.nat(), { freq: 2, nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('control' as const), action: fc.constantFrom('pause', 'resume', 'stop', 'cancel') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ofRun: fc.nat(), timeoutMs: fc.integer({ min: 0, max: 50 }) }) },
  // What changes a session under the runs (the history checks then skip it) is rarer than what reads or adds to it.
  { weight: 1, arbitrary: kinds('reset', 'delete', 'compact', 'forget', 'forget-some') },
  { weight: 6, arbitrary: kinds('patch', 'history', 'recall', 'inject', 'steer', 'describe', 'drop') },
  { weight: 2, arbitrary: kinds('create', 'sessions-abort') },
);
const stepArb: fc.Arbitrary<Step> = fc.record({
  op: opArb,
  session: fc.nat({ max: SESSIONS - 1 }),
  connection: fc.nat({ max: CONNECTIONS.length - 1 }),
  pauseMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
});

/** A turn a client sent and the gateway acked as started (or accepted): what must be found afterwards. */
interface AckedTurn {
  sessionKey: string;
  runId: string;
}

/** Errors and up in the gateway's log (pino levels: 50 error, 60 fatal). */
function loggedErrors(logs: CapturedLogs, from: number): string[] {
  return logs.lines.slice(from).filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
}

/** The gateway of the describe block running (one at a time: vitest runs a file's tests in order). */
let gw: TestGateway;
let logs: CapturedLogs;
let sequence = 0;

async function open(index: number, sessionKeys: readonly string[]): Promise<RawClient> {
  const spec = CONNECTIONS[index] as (typeof CONNECTIONS)[number];
  const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'], caps: [...spec.caps] });
  if (spec.scoped) for (const key of sessionKeys) expect((await client.request('sessions.messages.subscribe', { key })).ok).toBe(true);
  if (spec.sessionsChanged) expect((await client.request('sessions.subscribe', {})).ok).toBe(true);
  return client;
}

/** What a sequence sent and did, for the checks that follow it. */
interface Sequence {
  n: number;
  keys: string[];
  /** The open connections, by CONNECTIONS index (a dropped one is replaced). */
  clients: RawClient[];
  /** Sockets dropped in the sequence: their requests are not expected to be answered. */
  dropped: Set<RawClient>;
  /** The connections opened in their place: they may have missed runs that ended before they came. */
  late: Set<RawClient>;
  sent: { client: RawClient; id: string; method: string }[];
  turns: { sessionKey: string; runId: string; message: string; id: string; client: RawClient }[];
  /** Sessions reset, deleted, compacted or forgotten from: their history and memory are not checked. */
  touched: Set<string>;
  problems: string[];
}

/** Runs one sequence and returns what went wrong (empty when every property holds). */
async function runSequence(steps: readonly Step[]): Promise<string[]> {
  const n = ++sequence;
  const keys = Array.from({ length: SESSIONS }, (_, i) => `agent:main:il-${n}-${i}`);
  const logFrom = logs.lines.length;
  const clients = await Promise.all(CONNECTIONS.map((_, i) => open(i, keys)));
  const seq: Sequence = { n, keys, clients, dropped: new Set(), late: new Set(), sent: [], turns: [], touched: new Set(), problems: [] };
  for (const [i, step] of steps.entries()) {
    await sendStep(seq, step, i);
    if (step.pauseMs > 0) await new Promise((r) => setTimeout(r, step.pauseMs));
  }
  await checkAnswers(seq);
  const started = startedTurns(seq);
  await settle(seq, started);
  checkStreams(seq, started);
  checkEventSchemas(seq);
  await checkSessions(seq, started);
  seq.problems.push(...loggedErrors(logs, logFrom).map((line) => `logged: ${line.slice(0, 500)}`));
  for (const client of [...seq.clients, ...seq.dropped]) client.terminate();
  return seq.problems;
}

/** Sends one step's request (without waiting for the answer, except to find ids to forget). */
async function sendStep(seq: Sequence, step: Step, i: number): Promise<void> {
  const client = seq.clients[step.connection] as RawClient;
  const key = seq.keys[step.session] as string;
  const request = (method: string, params: Record<string, unknown>): string => {
    const id = `il-${seq.n}-${i}`;
    client.send({ type: 'req', id, method, params });
    seq.sent.push({ client, id, method });
    return id;
  };
  const turnAt = (index: number | undefined): Sequence['turns'][number] | undefined =>
    index === undefined || seq.turns.length === 0 ? undefined : seq.turns[index % seq.turns.length];
  const runIdAt = (index: number | undefined): string | undefined => turnAt(index)?.runId;
  const { op } = step;
  if (['reset', 'delete', 'compact', 'forget', 'forget-some'].includes(op.kind)) seq.touched.add(key);
  switch (op.kind) {
    case 'turn': {
      const earlier = turnAt(op.repeat);
      const sessionKey = earlier?.sessionKey ?? key;
      const runId = earlier?.runId ?? `il-${seq.n}-run-${i}`;
      // A message that lists steps makes the brain plan them and run them on the worker pool (the local provider plans by rules).
      const steps = op.plan ? `:\n1. research the notes\n2. then draft the answer\n3. status report` : '';
      const message = earlier !== undefined && op.sameMessage ? earlier.message : `turn ${i} of sequence ${seq.n}${steps}`;
      const target = op.via === 'sessions.send' ? { key: sessionKey } : { sessionKey };
      const params: Record<string, unknown> = { ...target, message, idempotencyKey: runId };
      if (op.interrupt && op.via === 'chat.send') params.queueMode = 'interrupt';
      if (op.image && op.via !== 'sessions.send') params.attachments = [{ type: 'image', mimeType: 'image/png', content: PNG_1PX }];
      seq.turns.push({ sessionKey, runId, message, id: request(op.via, params), client });
      return;
    }
    case 'abort': {
      const runId = runIdAt(op.ofRun);
      request('chat.abort', { sessionKey: key, ...(runId === undefined ? {} : { runId }) });
      return;
    }
    case 'control':
      request('agent.control', { action: op.action, sessionKey: key });
      return;
    case 'wait':
      request('agent.wait', { runId: runIdAt(op.ofRun) ?? 'none', timeoutMs: op.timeoutMs });
      return;
    case 'reset':
      request('sessions.reset', { key });
      return;
    case 'delete':
      request('sessions.delete', { key, deleteTranscript: i % 2 === 0 });
      return;
    case 'compact':
      request('sessions.compact', { key, maxLines: 2 });
      return;
    case 'forget':
      request('memory.forget', { sessionKey: key });
      return;
    case 'forget-some': {
      // What a memory tool does: query, then forget what it found.
      const res = await client.request('memory.query', { sessionKey: key, limit: 2 });
      const ids = res.ok === true ? (res.payload as { items: MemoryItem[] }).items.map((item) => item.id) : [];
      if (ids.length > 0) request('memory.forget', { ids });
      return;
    }
    case 'patch':
      request('sessions.patch', { key, label: i % 2 === 0 ? `label ${i}` : null });
      return;
    case 'history':
      request('chat.history', { sessionKey: key, limit: 50 });
      return;
    case 'recall':
      request('memory.recall', { topic: 'turn sequence', sessionKey: key });
      return;
    case 'inject':
      request('chat.inject', { sessionKey: key, message: `injected ${i}` });
      return;
    case 'steer':
      request('sessions.steer', { key, message: `steer ${i}` });
      return;
    case 'describe':
      request('sessions.describe', { key });
      return;
    case 'create':
      // Adopts the existing key and starts a turn with the message, as the Control UI's new-session page does.
      request('sessions.create', { key, message: `created ${i}`, idempotencyKey: `il-${seq.n}-create-${i}` });
      return;
    case 'sessions-abort':
      request('sessions.abort', { key, clearQueued: i % 2 === 0 });
      return;
    case 'drop': {
      // A turn sent and the socket dropped at once: it may or may not be stored, but the gateway must carry on.
      request('chat.send', { sessionKey: key, message: `dropped ${i}`, idempotencyKey: `il-${seq.n}-drop-${i}` });
      client.terminate();
      seq.dropped.add(client);
      const replacement = await open(step.connection, seq.keys);
      seq.late.add(replacement);
      seq.clients[step.connection] = replacement;
      return;
    }
  }
}

/** Every request answered (`agent`: accepted, then its final), well-formed and never INTERNAL. */
async function checkAnswers(seq: Sequence): Promise<void> {
  for (const { client, id, method } of seq.sent) {
    if (seq.dropped.has(client)) continue;
    const first = await client.next((f) => f.type === 'res' && f.id === id, { timeoutMs: SETTLE_MS }).catch(() => undefined);
    if (first === undefined) {
      seq.problems.push(`${method} ${id}: no answer`);
      continue;
    }
    const fault = answerFault(first);
    if (fault !== undefined) seq.problems.push(`${method} ${id}: ${fault}`);
    const accepted = method === 'agent' && first.ok === true && (first.payload as { status?: string }).status === 'accepted';
    if (!accepted) continue;
    const final = await client.next((f) => f.type === 'res' && f.id === id && f !== first, { timeoutMs: SETTLE_MS }).catch(() => undefined);
    if (final === undefined) seq.problems.push(`agent ${id}: no final answer`);
  }
}

/** Turns acked as started (or accepted) in sessions nobody touched, over connections still open. */
function startedTurns(seq: Sequence): AckedTurn[] {
  const status = (turn: Sequence['turns'][number]): unknown =>
    (turn.client.frames.find((f) => f.type === 'res' && f.id === turn.id)?.payload as { status?: string } | undefined)?.status;
  return seq.turns
    .filter((turn) => !seq.dropped.has(turn.client) && !seq.touched.has(turn.sessionKey))
    .filter((turn) => status(turn) === 'started' || status(turn) === 'accepted')
    .map(({ sessionKey, runId }) => ({ sessionKey, runId }));
}

const isTerminalChat = (f: Frame): boolean => f.event === 'chat' && !['delta', 'status'].includes((f.payload as { state: string }).state);

/**
 * Lets paused runs go, checks that every started run ends (agent.wait), then waits until the gateway is quiet:
 * no session has an open run, and every run a connection saw start has ended there (touched sessions too).
 */
async function settle(seq: Sequence, started: readonly AckedTurn[]): Promise<void> {
  const waiter = seq.clients[0] as RawClient;
  for (const key of seq.keys) await waiter.request('agent.control', { action: 'resume', sessionKey: key });
  for (const { runId } of started) {
    const res = await waiter.request('agent.wait', { runId, timeoutMs: SETTLE_MS });
    const status = (res.payload as { status?: string } | undefined)?.status;
    if (res.ok !== true || status === 'timeout' || status === 'pending') seq.problems.push(`run ${runId} did not end: ${JSON.stringify(res)}`);
  }
  const ours = (f: Frame): boolean => seq.keys.includes(String((f.payload as { sessionKey?: string }).sessionKey));
  const unended = (): string[] =>
    seq.clients.flatMap((client, index) => {
      const ended = new Set(client.events('chat').filter((f) => ours(f) && isTerminalChat(f)).map((f) => (f.payload as { runId: string }).runId));
      const begun = client.events('agent').filter(ours).map((f) => (f.payload as { runId: string }).runId);
      return begun.filter((runId) => !ended.has(runId)).map((runId) => `${runId} on connection ${index}`);
    });
  const openRuns = async (): Promise<boolean> => {
    for (const key of seq.keys) {
      const res = await waiter.request('sessions.describe', { key });
      if (res.ok === true && (res.payload as { session: { hasActiveRun: boolean } }).session.hasActiveRun) return true;
    }
    return false;
  };
  const quietBy = Date.now() + SETTLE_MS;
  while ((await openRuns()) || unended().length > 0) {
    if (Date.now() > quietBy) {
      seq.problems.push(`not quiet after ${SETTLE_MS} ms: runs not ended ${JSON.stringify(unended())}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each connection's chat/agent streams: one terminal chat event per run, right after its lifecycle end and with its seq, chat seqs rising. */
function checkStreams(seq: Sequence, started: readonly AckedTurn[]): void {
  for (const [index, client] of [...seq.clients, ...seq.dropped].entries()) {
    const byRun = new Map<string, Frame[]>();
    for (const frame of client.events()) {
      const payload = frame.payload as { runId: string; sessionKey?: string };
      const ours = payload.sessionKey !== undefined && seq.keys.includes(payload.sessionKey);
      if ((frame.event === 'chat' || frame.event === 'agent') && ours) byRun.set(payload.runId, [...(byRun.get(payload.runId) ?? []), frame]);
    }
    const problem = (runId: string, what: string): number => seq.problems.push(`connection ${index}, run ${runId}: ${what}`);
    for (const [runId, frames] of byRun) {
      const chat = frames.filter((f) => f.event === 'chat');
      const terminal = chat.filter(isTerminalChat);
      const seqs = chat.map((f) => (f.payload as { seq: number }).seq);
      if (seq.dropped.has(client) && terminal.length === 0) continue; // cut off before the run ended
      const states = chat.map((f) => (f.payload as { state: string }).state);
      if (terminal.length !== 1 || chat.at(-1) !== terminal[0]) problem(runId, `chat states ${JSON.stringify(states)}`);
      if (seqs.some((s, i) => i > 0 && s <= (seqs[i - 1] as number))) problem(runId, `chat seqs ${JSON.stringify(seqs)}`);
      if (!frames.some((f) => f.event === 'agent')) continue; // chat.inject: a lone final, no run
      const end = frames.at(-2);
      const endsRun = end?.event === 'agent' && ['end', 'error'].includes(String((end.payload as { data: { phase?: string } }).data.phase));
      if (!endsRun || (frames.at(-1)?.payload as { seq: number }).seq !== (end.payload as { seq: number }).seq) {
        const order = frames.map((f) => [f.event, (f.payload as { seq: number }).seq]);
        problem(runId, `does not end with its lifecycle end, then the terminal chat event with its seq: ${JSON.stringify(order)}`);
      }
    }
    if (seq.dropped.has(client) || seq.late.has(client)) continue;
    for (const { runId } of started) if (!byRun.has(runId)) seq.problems.push(`connection ${index} saw nothing of run ${runId}`);
  }
}

/** Every event every connection received matches its payload schema (what a typed client would parse). */
function checkEventSchemas(seq: Sequence): void {
  for (const client of [...seq.clients, ...seq.dropped]) {
    for (const frame of client.events()) {
      const name = frame.event as EventName;
      if (!(name in EVENTS)) {
        seq.problems.push(`unknown event ${String(frame.event)}`);
        continue;
      }
      const validate = eventValidator(name);
      if (validate(frame.payload)) continue;
      seq.problems.push(`${name} payload does not match its schema (${formatValidationErrors(validate.errors)}): ${JSON.stringify(frame.payload).slice(0, 300)}`);
    }
  }
}

/** Untouched sessions: every acked user turn stored once, at most one reply per run, a memory item for every message with text. */
async function checkSessions(seq: Sequence, started: readonly AckedTurn[]): Promise<void> {
  const reader = seq.clients[0] as RawClient;
  for (const key of seq.keys.filter((k) => !seq.touched.has(k))) {
    const res = await reader.request('chat.history', { sessionKey: key, limit: 1000 });
    if (res.ok !== true) {
      seq.problems.push(`chat.history ${key}: ${JSON.stringify(res.error)}`);
      continue;
    }
    const messages = (res.payload as { messages: (ChatMessage & { __openclaw: { id: string; runId?: string } })[] }).messages;
    for (const { runId } of started.filter((turn) => turn.sessionKey === key)) {
      const users = messages.filter((m) => m.role === 'user' && m.__openclaw.runId === runId).length;
      if (users !== 1) seq.problems.push(`${key}: ${users} user messages of run ${runId}`);
    }
    const replies = messages.filter((m) => m.role === 'assistant' && m.__openclaw.runId !== undefined).map((m) => m.__openclaw.runId);
    if (new Set(replies).size !== replies.length) seq.problems.push(`${key}: two replies of one run: ${JSON.stringify(replies)}`);
    if (!gw.config.memoryV1) continue; // memory off: the plain gateway keeps no memory items
    const items = await memoryItems(seq, reader, key);
    for (const message of messages) {
      const text = messageText(message);
      if (text === '' || (message.role !== 'user' && message.role !== 'assistant')) continue;
      // A turn the memory manager summarized is shown as a tombstone (its text held by the summary).
      const item = items.get(message.__openclaw.id);
      const summarized = item?.kind === 'tombstone' && item.state === 'summarized' && item.summarizedBy !== undefined;
      if (item?.text !== text && !summarized) seq.problems.push(`${key}: message ${message.__openclaw.id} (${message.role}) has no memory item with its text: ${JSON.stringify(item)}`);
    }
  }
}

/** Every memory item of a session, by id (all pages of memory.query). */
async function memoryItems(seq: Sequence, reader: RawClient, key: string): Promise<Map<string, MemoryItem>> {
  const items = new Map<string, MemoryItem>();
  let cursor: string | undefined;
  do {
    const res = await reader.request('memory.query', { sessionKey: key, limit: MEMORY_QUERY_MAX_LIMIT, ...(cursor === undefined ? {} : { cursor }) });
    if (res.ok !== true) {
      seq.problems.push(`memory.query ${key}: ${JSON.stringify(res.error)}`);
      break;
    }
    const page = res.payload as { items: MemoryItem[]; nextCursor?: string };
    for (const item of page.items) items.set(item.id, item);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return items;
}

/**
 * Gateways the sequences run against: streaming as fast as it goes; small contexts that a memory manager summarizes
 * every 10 ms while the runs go on; one run at a time with queues so short that turns are refused QUEUE_FULL; and
 * memory off (the plain gateway: no memory items to check).
 */
const SETUPS = [
  { name: 'runs streaming', config: { localChunkDelayMs: 1, chatDeltaIntervalMs: 0 } },
  {
    name: 'a busy memory manager',
    config: {
      localChunkDelayMs: 0,
      chatDeltaIntervalMs: 0,
      memoryMaxItems: 6,
      memoryKeepRecentItems: 1,
      memoryManagerIntervalMs: 10,
      memorySnapshotIntervalMs: 10,
      memoryStaleAfterMs: 50,
    },
  },
  {
    name: 'tight queues',
    config: { localChunkDelayMs: 2, chatDeltaIntervalMs: 0, maxConcurrentRuns: 1, maxQueuedTurnsPerSession: 2, maxQueuedRuns: 4 },
  },
  { name: 'memory off', config: { localChunkDelayMs: 1, chatDeltaIntervalMs: 0, memoryV1: false } },
];

describe.each(SETUPS)('interleaved requests over three connections, $name', ({ config }) => {
  beforeAll(async () => {
    console.log(`interleavings seed ${SEED}, ${RUNS} sequences (replay: INTERLEAVE_SEED=${SEED} INTERLEAVE_RUNS=${RUNS})`);
    logs = captureLogs('warn');
    gw = await startTestGateway({ logger: logs.logger, autoClose: false, config });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('answers everything, ends every run once and keeps every acked turn', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 60, size: 'medium' }), async (steps) => {
        const problems = await runSequence(steps);
        expect(problems, JSON.stringify(steps)).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true },
    );
  }, 180_000);
});
