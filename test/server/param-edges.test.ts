/**
 * Every parameter of every method at the edges of what its schema allows, and past them: each request gets a
 * well-formed answer, never INTERNAL (a handler tripping over a value that validation let through), and the
 * gateway goes on serving. Exhaustive where the fuzzer (fuzz.test.ts) samples: a `memory.query` `since` past the
 * last time a MemoryID can hold was answered INTERNAL, and 800 fuzzer runs did not send one.
 */
import { describe, expect, it } from 'vitest';
import { ConnectParams } from '../../protocol/methods/connect.js';
import { METHOD_NAMES } from '../../protocol/registry.js';
import { JsonObject, paramKeys, toJsonText, VALID_PARAMS, type Json } from '../helpers/fuzz-frames.js';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { answerFault, RawClient, type Frame } from '../helpers/raw-client.js';

const EDGES: readonly Json[] = [
  0,
  -1,
  0.5,
  2 ** 31,
  2 ** 48,
  Number.MAX_SAFE_INTEGER,
  1e21,
  '',
  ' ',
  '\u0000',
  '\ud800',
  '😀'.repeat(1_000),
  'x'.repeat(100_000),
  [],
  [''],
  [Number.MAX_SAFE_INTEGER],
  ['x'.repeat(100_000)],
  Array.from({ length: 1_000 }, (_, i) => `item-${i}`),
  new JsonObject([]),
  new JsonObject([['__proto__', new JsonObject([['polluted', true]])], ['constructor', 1]]),
  null,
  true,
];

/** `agent.wait` and the like wait as long as they are told: edges of a wait are sent with a short one instead. */
function tame(key: string, value: Json): Json {
  return key === 'timeoutMs' && typeof value === 'number' && value > 50 ? 50 : value;
}

describe('every parameter at its edges', () => {
  it('is answered, well-formed and never INTERNAL, for every method', async () => {
    const gw = await startTestGateway();
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN, scopes: ['operator.admin'], caps: ['memory.v1', 'agent.plan.v1'] });
    const failures: string[] = [];
    let sent = 0;
    for (const method of METHOD_NAMES) {
      const base = VALID_PARAMS[method]?.() ?? new JsonObject([]);
      for (const key of paramKeys(method)) {
        for (const edge of EDGES) {
          const params = base.with(key, tame(key, edge));
          const id = `e-${sent++}`;
          client.send(`{"type":"req","id":"${id}","method":"${method}","params":${toJsonText(params)}}`);
          const res: Frame = await client.next((f) => f.type === 'res' && f.id === id, { timeoutMs: 10_000 });
          const fault = answerFault(res);
          if (fault !== undefined) failures.push(`${method} ${key}=${toJsonText(edge).slice(0, 40)}: ${fault.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(1_000);
    expect((await client.request('health')).ok).toBe(true);
  });

  it('is answered, well-formed and never INTERNAL, for every field of connect (the client, auth and device ones too)', async () => {
    const gw = await startTestGateway();
    const client = new JsonObject([['id', 'test'], ['version', '1.0.0'], ['platform', 'linux'], ['mode', 'test']]);
    const base = new JsonObject([['minProtocol', 3], ['maxProtocol', 4], ['client', client], ['scopes', ['operator.admin']], ['auth', new JsonObject([['token', TEST_TOKEN]])]]);
    const nested = ConnectParams.properties as Record<string, { properties?: Record<string, unknown> }>;
    const paths = Object.entries(nested).flatMap(([key, schema]) => [[key], ...Object.keys(schema.properties ?? {}).map((child) => [key, child])]);
    const failures: string[] = [];
    for (const [key, child] of paths as [string, string | undefined][]) {
      for (const edge of EDGES) {
        const inner = base.get(key);
        const value = child === undefined ? edge : (inner instanceof JsonObject ? inner : new JsonObject([])).with(child, edge);
        const raw = await RawClient.open(gw.url);
        raw.send(`{"type":"req","id":"c","method":"connect","params":${toJsonText(base.with(key, value))}}`);
        const res = await Promise.race([raw.next((f) => f.type === 'res', { timeoutMs: 10_000 }), raw.closed.then(() => undefined)]);
        const fault = res === undefined ? undefined : answerFault(res);
        if (fault !== undefined) failures.push(`${key}${child === undefined ? '' : `.${child}`}=${toJsonText(edge).slice(0, 40)}: ${fault.slice(0, 200)}`);
        raw.terminate();
      }
    }
    expect(failures).toEqual([]);
    expect(paths.length).toBeGreaterThan(30);
    const after = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    expect((await after.request('health')).ok).toBe(true);
  });
});
