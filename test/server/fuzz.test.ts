/**
 * Property-based fuzzing of the wire against the real CLI in a child process. Before and after the handshake
 * it sends hostile messages (see test/helpers/fuzz-frames.ts), fragmented and cut into TCP chunks at odd
 * places, and broken WebSocket framing. Properties: every message gets its response or the documented close;
 * the process never crashes; its memory after GC returns to the baseline taken after a warm-up.
 *
 * Reproduce a failure with the printed seed: FUZZ_SEED=<seed> [FUZZ_RUNS=<n>] npx vitest run test/server/fuzz.test.ts
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { CLOSES } from '../../protocol/errors.js';
import { closeReason } from '../../server/handshake.js';
import { ID_PLACEHOLDER, JsonObject, brokenFraming, expectedResponseId, hostileText, requestObject, toJsonText, withId, wireMessage, type WireMessage } from '../helpers/fuzz-frames.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { MEMORY_PROBE_NODE_ARGS, memorySample, running, spawnGateway, type MemorySample, type SpawnedGateway } from '../helpers/spawn-gateway.js';
import { ProcessSampler } from '../helpers/process-state.js';
import { answerFault, RawClient } from '../helpers/raw-client.js';
import { WireClient, messageFrames } from '../helpers/ws-wire.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
/** Runs per property; modest so `npm test` stays within its budget (FUZZ_RUNS=1000 for a long session). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
/** How much the gateway's post-GC heap + external memory may exceed its baseline after the fuzzing, in bytes. */
const MEMORY_TOLERANCE_BYTES = 8 * 1_048_576;
/**
 * RSS may stay above its baseline by this much, in bytes: after megabyte strings are freed the allocator keeps
 * some pages (measured: +30..60 MB after 200..600 runs, flat in between); the heap check above is the tight one.
 */
const RSS_TOLERANCE_BYTES = 128 * 1_048_576;
/** How long a socket with broken framing gets to be closed before we stop waiting (an incomplete frame is not an error). */
const BROKEN_FRAMING_WAIT_MS = 400;
/**
 * A property stops after this long, shrinking included (a failing run can wait 10 s per step), and counts as
 * failed if it was cut short: the counterexample found so far is reported. Scales with FUZZ_RUNS (a batch
 * after the handshake takes ~0.2 s on a busy 2-core machine).
 */
const PROPERTY_TIME_LIMIT_MS = Math.max(90_000, RUNS * 1_000);
/** Vitest's limit for one property test: the property's own limit and room to report. */
const PROPERTY_TEST_TIMEOUT_MS = PROPERTY_TIME_LIMIT_MS + 60_000;

const FUZZ_TOKEN = 'fuzz-token-0123456789';
const PREAUTH_CLOSES = [CLOSES.INVALID_FRAME_PREAUTH, CLOSES.UNPARSABLE_PREAUTH, CLOSES.PREAUTH_TOO_LARGE];
/** Close codes the WebSocket layer (ws) sends on framing it refuses, and the gateway's policy close. */
const FRAMING_CLOSE_CODES = [CLOSES.WS_PROTOCOL_ERROR.code, CLOSES.WS_INVALID_PAYLOAD.code, CLOSES.WS_MESSAGE_TOO_BIG.code, 1008];

/** Time for closes to be processed and idle session contexts to be unloaded before a memory sample, in ms. */
const SETTLE_MS = 1_500;
const limits = { numRuns: RUNS, interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS, markInterruptAsFailure: true };

let gw: SpawnedGateway;
let baseline: MemorySample;
let run = 0;

function send(client: WireClient, message: WireMessage): Promise<void> {
  return client.write(messageFrames(message.payload, { binary: message.binary, cuts: message.fragmentCuts, pingBetween: message.pingBetween }), message.tcpCuts);
}

async function challenged(): Promise<WireClient> {
  const client = await WireClient.open(gw.url);
  await client.next((m) => m.event === 'connect.challenge');
  return client;
}

async function connected(): Promise<WireClient> {
  const client = await challenged();
  client.sendText(JSON.stringify({
    type: 'req',
    id: 'hello',
    method: 'connect',
    params: { minProtocol: 3, maxProtocol: 4, client: { id: 'test', version: '1', platform: 'fuzz', mode: 'test' }, scopes: ['operator.admin'], caps: ['memory.v1', 'agent.plan.v1'], auth: { token: FUZZ_TOKEN } },
  }));
  const [hello] = await client.responses('hello');
  if (hello?.ok !== true) throw new Error(`connect refused: ${JSON.stringify(hello)}`);
  return client;
}

/**
 * A response is well-formed: string id, boolean ok, and on failure a catalog code, a message, no stack trace —
 * and never INTERNAL: bad input must be refused by validation, not by a handler tripping over it.
 */
function expectWellFormed(res: Record<string, unknown>): void {
  expect(typeof res.id).toBe('string');
  expect(typeof res.ok).toBe('boolean');
  if (res.ok === true) return;
  expect(answerFault(res), JSON.stringify(res)).toBeUndefined();
  const error = res.error as { message?: unknown };
  expect(typeof error.message).toBe('string');
  expect(error.message).not.toMatch(/\n\s+at /);
}

const firstMessageProperty = (prefix: string) =>
  fc.asyncProperty(wireMessage, async (generated) => {
    const message = withId(generated, `${prefix}-${run++}`);
    const client = await challenged();
    try {
      await send(client, message);
      const closed = await Promise.race([client.closed, client.next((m) => m.ok === true, 5_000).then(() => undefined)]);
      const responses = client.messages.filter((m) => m.type === 'res');
      responses.forEach(expectWellFormed);
      if (closed === undefined) return; // hello-ok: a valid connect (the generator never has the token, so rare)
      if (responses.length === 0) {
        expect(PREAUTH_CLOSES.map((c) => `${c.code} ${c.reason}`)).toContain(`${closed.code} ${closed.reason}`);
      } else {
        expect(responses).toHaveLength(1);
        const res = responses[0] as { id: string; error: { message: string } };
        expect(res.id).toBe(expectedResponseId(message.payload));
        expect([1002, 1008]).toContain(closed.code);
        expect(closed.reason).toBe(closeReason(res.error.message));
      }
    } finally {
      client.destroy();
    }
  });

const openConnectionProperty = (prefix: string) =>
  fc.asyncProperty(fc.array(wireMessage, { minLength: 1, maxLength: 8 }), async (generated) => {
    const batch = generated.map((m, i) => withId(m, `${prefix}-${run}-${i}`));
    run += 1;
    const client = await connected();
    try {
      for (const message of batch) await send(client, message);
      const expected = new Map<string, number>();
      for (const message of batch) {
        const id = expectedResponseId(message.payload);
        expected.set(id, (expected.get(id) ?? 0) + 1);
      }
      for (const [id, count] of expected) await client.responses(id, count, 10_000);
      client.messages.filter((m) => m.type === 'res').forEach(expectWellFormed);
      expect(client.isClosed).toBe(false);
    } finally {
      await client.close();
    }
  });

const brokenFramingProperty = () =>
  fc.asyncProperty(fc.boolean(), brokenFraming, fc.array(fc.nat(), { maxLength: 4 }), async (afterHello, bytes, cuts) => {
    const client = afterHello ? await connected() : await challenged();
    try {
      await client.write(bytes, cuts.map((c) => c % bytes.length));
      const closed = await Promise.race([client.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), BROKEN_FRAMING_WAIT_MS))]);
      if (closed !== undefined) expect(FRAMING_CLOSE_CODES).toContain(closed.code);
      client.messages.filter((m) => m.type === 'res').forEach(expectWellFormed);
    } finally {
      client.destroy();
    }
  });

/** How long a turn with hostile text gets to be answered and finished, in ms (linear parsing takes well under 1 s). */
const HOSTILE_TURN_WAIT_MS = 10_000;

/**
 * Hostile text in a turn's message (and an injected one, a session label) is answered, and the turn finished,
 * while a `health` sent right after it is answered too: nothing that reads the text holds the event loop.
 */
const hostileTextProperty = () =>
  fc.asyncProperty(hostileText, fc.constantFrom('chat.send', 'agent', 'chat.inject', 'sessions.patch'), async (text, method) => {
    const id = `hostile-${run++}`;
    const sessionKey = `hostile-${run % 4}`;
    const params = {
      'chat.send': { sessionKey, message: text, idempotencyKey: id },
      agent: { sessionKey, message: text, idempotencyKey: id },
      'chat.inject': { sessionKey, message: text },
      'sessions.patch': { key: sessionKey, label: text },
    }[method];
    const client = await connected();
    try {
      client.sendText(JSON.stringify({ type: 'req', id, method, params }));
      client.sendText(JSON.stringify({ type: 'req', id: `${id}-health`, method: 'health' }));
      const [res] = await client.responses(id, 1, HOSTILE_TURN_WAIT_MS);
      expectWellFormed(res as Record<string, unknown>);
      await client.responses(`${id}-health`, 1, HOSTILE_TURN_WAIT_MS);
      if ((method === 'chat.send' || method === 'agent') && res?.ok === true) {
        const ended = (m: Record<string, unknown>): boolean => {
          const payload = m.payload as { runId?: string; state?: string } | undefined;
          return m.event === 'chat' && payload?.runId === id && payload.state !== 'delta';
        };
        await client.next(ended, HOSTILE_TURN_WAIT_MS);
      }
    } finally {
      await client.close();
    }
  });

let sampler: ProcessSampler | undefined;

/** What the gateway logged (warnings and up) and what its process did in the last 10 s. */
function printGatewayLog(): void {
  if (gw === undefined) return;
  console.log(`gateway stderr (last 30 lines; running: ${running(gw)}):\n${gw.stderr.slice(-30).join('\n')}`);
  console.log(`gateway process, every 250 ms:\n${sampler?.lines().join('\n') ?? '(no samples)'}`);
}

describe('fuzzing the wire (gateway in a child process)', () => {
  beforeAll(async () => {
    console.log(`fuzz seed ${SEED}, ${RUNS} runs per property (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`);
    gw = await spawnGateway({
      token: FUZZ_TOKEN,
      killAfterTest: false,
      nodeArgs: MEMORY_PROBE_NODE_ARGS,
      // Session contexts stay in RAM until idle for twice memoryStaleAfterMs (2 h by default): with short times the
      // memory manager unloads the fuzzer's many sessions within a second, so memory can return to its baseline.
      args: ['--log-level', 'warn', '--agent-wait-default-ms', '100', '--memory-stale-after-ms', '200', '--memory-manager-interval-ms', '100'],
    });
    if (gw.child.pid !== undefined) sampler = new ProcessSampler(gw.child.pid);
    // Warm-up: one real turn (the tokenizer loads on the first one), JIT, lazily built validators, prepared
    // statements, first sessions — then the baseline.
    const client = await connected();
    client.sendText(JSON.stringify({ type: 'req', id: 'warm-up', method: 'chat.send', params: { sessionKey: 'warm-up', message: 'warming up', idempotencyKey: 'warm-up' } }));
    await client.next((m) => m.event === 'chat' && (m.payload as { state?: string }).state === 'final');
    await client.close();
    const warm = { seed: SEED ^ 0x5bd1e995, numRuns: 5, endOnFailure: true };
    try {
      await fc.assert(firstMessageProperty('warm'), warm);
      await fc.assert(openConnectionProperty('warm'), warm);
      await fc.assert(brokenFramingProperty(), warm);
    } catch (err) {
      printGatewayLog();
      throw err;
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    baseline = await memorySample(gw);
  }, 120_000);

  // A failure shows what the gateway logged (warnings and up), for the rare one not reproduced on demand.
  beforeEach(() => onTestFailed(printGatewayLog));

  afterAll(async () => {
    sampler?.stop();
    if (gw === undefined) return;
    if (running(gw)) {
      gw.kill('SIGKILL');
      await gw.exited;
    }
    rmSync(gw.dataDir, { recursive: true, force: true });
  });

  it('answers or closes as documented when the first message is hostile', async () => {
    await fc.assert(firstMessageProperty('first'), { ...limits, seed: SEED });
    expect(running(gw)).toBe(true);
  }, PROPERTY_TEST_TIMEOUT_MS);

  it('answers every message after the handshake, with its own id or "invalid", and stays open', async () => {
    await fc.assert(openConnectionProperty('open'), { ...limits, seed: SEED + 1 });
    expect(running(gw)).toBe(true);
  }, PROPERTY_TEST_TIMEOUT_MS);

  it('closes broken WebSocket framing with a WebSocket close code, before and after the handshake', async () => {
    await fc.assert(brokenFramingProperty(), { ...limits, seed: SEED + 2 });
    expect(running(gw)).toBe(true);
  }, PROPERTY_TEST_TIMEOUT_MS);

  it('answers hostile text (long runs that make parsers backtrack) and finishes its turn, while still answering others', async () => {
    await fc.assert(hostileTextProperty(), { ...limits, seed: SEED + 4 });
    expect(running(gw)).toBe(true);
  }, PROPERTY_TEST_TIMEOUT_MS);

  it('refuses a message over maxPayloadBytes after the handshake with 1009, on its header alone', async () => {
    const client = await connected();
    // Only the header and a little payload: the length announced is enough to refuse it, nothing is buffered.
    const frame = messageFrames(Buffer.alloc(26_214_401, 0x20));
    await client.write(frame.subarray(0, 1_024));
    expect(await client.closed).toEqual({ code: CLOSES.WS_MESSAGE_TOO_BIG.code, reason: CLOSES.WS_MESSAGE_TOO_BIG.reason });
  }, 60_000);

  it('never crashed, still serves, and its memory is back to its baseline', async () => {
    expect(running(gw)).toBe(true);
    const client = await RawClient.connect(gw.url, { token: FUZZ_TOKEN });
    expect((await client.request('health', {})).ok).toBe(true);
    client.close();
    await client.waitClose();
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = await memorySample(gw);
    const grew = after.heapUsed + after.external - (baseline.heapUsed + baseline.external);
    console.log(`fuzz memory: heap ${mb(baseline.heapUsed)} -> ${mb(after.heapUsed)} MB, external ${mb(baseline.external)} -> ${mb(after.external)} MB, rss ${mb(baseline.rss)} -> ${mb(after.rss)} MB`);
    expect(grew).toBeLessThan(MEMORY_TOLERANCE_BYTES);
    expect(after.rss - baseline.rss).toBeLessThan(RSS_TOLERANCE_BYTES);
    expect(gw.stderr.join('\n')).not.toMatch(/uncaught|unhandled|handler failed/i);
  }, 60_000);
});

function mb(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}

describe('prototype-pollution keys (gateway in this process, so its globals can be inspected)', () => {
  it('never reach Object.prototype, whatever frame carries them', async () => {
    const local = await startTestGateway({ config: { agentWaitDefaultMs: 100 } });
    const client = await RawClient.connect(local.url, { token: TEST_TOKEN, scopes: ['operator.admin'] });
    const polluting = fc.tuple(requestObject, fc.constantFrom('__proto__', 'constructor', 'prototype')).map(([frame, key]) => {
      const marker = new JsonObject([['polluted', true], ['prototype', new JsonObject([['polluted', true]])]]);
      const params = frame.get('params');
      const withKey = params instanceof JsonObject ? frame.with('params', new JsonObject([...params.entries, [key, marker]])) : frame;
      return new JsonObject([...withKey.entries, [key, marker]]);
    }).filter((frame) => toJsonText(frame).length < 100_000); // huge strings are the other tests' business; here they only cost time
    let n = 0;
    await fc.assert(
      fc.asyncProperty(polluting, async (frame) => {
        const id = `pp-${n++}`;
        const text = toJsonText(frame).split(JSON.stringify(ID_PLACEHOLDER)).join(JSON.stringify(id));
        client.send(text);
        await client.next((f) => f.type === 'res' && (f.id === expectedResponseId(Buffer.from(text))));
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
        expect((Object.prototype as { polluted?: unknown }).polluted).toBeUndefined();
      }),
      { ...limits, seed: SEED + 3 },
    );
  }, PROPERTY_TEST_TIMEOUT_MS);
});
