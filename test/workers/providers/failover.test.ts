import { describe, expect, it, onTestFinished } from 'vitest';
import { anthropicScript, startMockAnthropic } from '../../helpers/mock-anthropic.js';
import { openaiScript, startMockOpenAI } from '../../helpers/mock-openai.js';
import { drain, run, type StreamOutcome } from '../../helpers/provider-stream.js';
import { scriptedProvider } from '../../helpers/scripted-provider.js';
import { createFailoverChain, createFailoverChainFromConfigs } from '../../../workers/providers/factory.js';
import { DEFAULT_MAX_RETRY_WAIT_MS, FailoverProvider } from '../../../workers/providers/failover.js';
import { ProviderError, type ProviderErrorKind } from '../../../workers/providers/types.js';

const fail = (kind: ProviderErrorKind, retryAfterMs?: number) =>
  new ProviderError(kind, `boom (${kind})`, retryAfterMs === undefined ? {} : { retryAfterMs });

/** The events without the `model` events that name each model tried (tested on their own below). */
const flow = (outcome: StreamOutcome) => outcome.events.filter((event) => event.type !== 'model');

function chain(...providers: ReturnType<typeof scriptedProvider>[]) {
  const provider = new FailoverProvider(
    providers.map((p) => ({ provider: p, model: `${p.id}-model` })),
    { maxRetryWaitMs: 200 },
  );
  onTestFinished(() => provider.close());
  return provider;
}

describe('FailoverProvider', () => {
  it('waits up to 5 s for a Retry-After by default', () => {
    expect(DEFAULT_MAX_RETRY_WAIT_MS).toBe(5_000);
  });

  it.each(['connect', 'server', 'timeout', 'rate_limit'] as const)(
    'moves to the next model on %s before any text, and says so in a status event',
    async (kind) => {
      const primary = scriptedProvider('primary', [{ error: fail(kind) }]);
      const fallback = scriptedProvider('fallback');
      const outcome = await run(chain(primary, fallback));
      expect(outcome.error).toBeUndefined();
      expect(flow(outcome)).toEqual([
        {
          type: 'status',
          phase: 'failover',
          detail: { from: 'primary', to: 'fallback', reason: kind, message: `boom (${kind})` },
        },
        { type: 'text', text: 'ok from fallback' },
        { type: 'usage', usage: { input: 1, output: 1, totalTokens: 2 } },
        { type: 'done', stopReason: 'stop' },
      ]);
      expect(fallback.requests).toHaveLength(1);
    },
  );

  it('starts at the model the request names (configured id, vendor model or provider/model), then the others in order', async () => {
    for (const name of ['fallback', 'fallback-model', 'scripted/fallback-model']) {
      const primary = scriptedProvider('primary');
      const fallback = scriptedProvider('fallback', [{ error: fail('server') }]);
      const local = scriptedProvider('local');
      const outcome = await run(chain(primary, fallback, local), { model: name });
      expect(outcome.events.filter((e) => e.type === 'model').map((e) => (e.type === 'model' ? e.id : ''))).toEqual(['fallback', 'primary']);
      expect(outcome.text).toBe('ok from primary');
      expect(local.requests).toHaveLength(0);
    }
    // A name the chain does not know leaves the configured order.
    const primary = scriptedProvider('primary');
    const outcome = await run(chain(primary, scriptedProvider('fallback')), { model: 'gpt-unknown' });
    expect(outcome.text).toBe('ok from primary');
    expect(primary.requests[0]?.model).toBe('primary-model');
  });

  it('names each model it tries in a model event, before that model answers', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('server') }]);
    const fallback = scriptedProvider('fallback');
    const outcome = await run(chain(primary, fallback));
    expect(outcome.events.map((e) => e.type)).toEqual(['model', 'status', 'model', 'text', 'usage', 'done']);
    expect(outcome.events.filter((e) => e.type === 'model')).toEqual([
      { type: 'model', id: 'primary', model: 'primary-model', provider: 'scripted' },
      { type: 'model', id: 'fallback', model: 'fallback-model', provider: 'scripted' },
    ]);
  });

  it.each(['context_length', 'refusal', 'unknown'] as const)('does not fail over on %s', async (kind) => {
    const primary = scriptedProvider('primary', [{ error: fail(kind) }]);
    const fallback = scriptedProvider('fallback');
    const outcome = await run(chain(primary, fallback));
    expect(outcome.error?.kind).toBe(kind);
    expect(fallback.requests).toHaveLength(0);
    expect(outcome.events.filter((e) => e.type === 'status')).toEqual([]);
  });

  it('does not retry a failure after output started: the partial text stays and the error ends the run', async () => {
    const primary = scriptedProvider('primary', [{ texts: ['Half an ', 'answer'], error: fail('server') }]);
    const fallback = scriptedProvider('fallback');
    const outcome = await run(chain(primary, fallback));
    expect(outcome.text).toBe('Half an answer');
    expect(outcome.error?.kind).toBe('server');
    expect(fallback.requests).toHaveLength(0);
  });

  it('asks each model for its own model id, whatever the request said', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('connect') }]);
    const fallback = scriptedProvider('fallback');
    await run(chain(primary, fallback), { model: 'ignored', runId: 'run-7' });
    expect(primary.requests[0]).toMatchObject({ model: 'primary-model', runId: 'run-7' });
    expect(fallback.requests[0]).toMatchObject({ model: 'fallback-model', runId: 'run-7' });
  });

  it('waits out a short Retry-After and tries the same model once more', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('rate_limit', 80) }]);
    const fallback = scriptedProvider('fallback');
    const started = performance.now();
    const outcome = await run(chain(primary, fallback));
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(outcome.text).toBe('ok from primary');
    expect(flow(outcome)[0]).toEqual({
      type: 'status',
      phase: 'retry',
      detail: { model: 'primary', reason: 'rate_limit', retryAfterMs: 80, message: 'boom (rate_limit)' },
    });
    expect(primary.requests).toHaveLength(2);
    expect(fallback.requests).toHaveLength(0);
  });

  it('skips to the next model at once when the Retry-After is longer than the maximum wait', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('rate_limit', 60_000) }]);
    const fallback = scriptedProvider('fallback');
    const started = performance.now();
    const outcome = await run(chain(primary, fallback));
    expect(performance.now() - started).toBeLessThan(100);
    expect(flow(outcome)[0]).toEqual({
      type: 'status',
      phase: 'failover',
      detail: {
        from: 'primary',
        to: 'fallback',
        reason: 'rate_limit',
        retryAfterMs: 60_000,
        message: 'boom (rate_limit)',
      },
    });
    expect(outcome.text).toBe('ok from fallback');
  });

  it('retries a model at most once, then moves on', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('rate_limit', 10) }, { error: fail('rate_limit', 10) }]);
    const fallback = scriptedProvider('fallback');
    const outcome = await run(chain(primary, fallback));
    expect(outcome.events.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.phase)).toEqual([
      'retry',
      'failover',
    ]);
    expect(primary.requests).toHaveLength(2);
    expect(outcome.text).toBe('ok from fallback');
  });

  it('walks the whole chain (primary → fallback → local) and throws the last error when all fail', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('connect') }]);
    const fallback = scriptedProvider('fallback', [{ error: fail('server') }]);
    const local = scriptedProvider('local', [{ error: fail('timeout') }]);
    const outcome = await run(chain(primary, fallback, local));
    expect(flow(outcome).map((e) => e.type === 'status' && e.detail)).toEqual([
      { from: 'primary', to: 'fallback', reason: 'connect', message: 'boom (connect)' },
      { from: 'fallback', to: 'local', reason: 'server', message: 'boom (server)' },
    ]);
    expect(outcome.error?.kind).toBe('timeout');
  });

  it('stops at once when aborted during a Retry-After wait, and calls nothing else', async () => {
    const primary = scriptedProvider('primary', [{ error: fail('rate_limit', 150) }]);
    const fallback = scriptedProvider('fallback');
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    const outcome = await run(chain(primary, fallback), { signal: controller.signal });
    expect(outcome.error?.kind).toBe('aborted');
    expect(performance.now() - started).toBeLessThan(100);
    expect(primary.requests).toHaveLength(1);
    expect(fallback.requests).toHaveLength(0);
  });

  it('does not fail over an abort', async () => {
    const primary = scriptedProvider('primary', [{ texts: ['slow'], delayMs: 500 }]);
    const fallback = scriptedProvider('fallback');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const outcome = await run(chain(primary, fallback), { signal: controller.signal });
    expect(outcome.error?.kind).toBe('aborted');
    expect(fallback.requests).toHaveLength(0);
  });

  it("lists every link's models once, and close() closes every link", async () => {
    const primary = scriptedProvider('primary');
    const fallback = scriptedProvider('fallback');
    const provider = createFailoverChain([
      { provider: primary, model: 'a' },
      { provider: fallback, model: 'b' },
      { provider: primary, model: 'c', label: 'primary-again' },
    ]);
    expect(provider.models().map((m) => m.id)).toEqual(['primary', 'fallback']);
    await provider.close();
    await provider.close();
    expect(primary.closeCalls).toBeGreaterThanOrEqual(1);
    expect(fallback.closeCalls).toBeGreaterThanOrEqual(1);
  });

  it('refuses an empty chain', () => {
    expect(() => createFailoverChain([])).toThrow(/at least one model/);
  });
});

describe('failover chain over the real providers and mock servers', () => {
  async function mocks() {
    const openai = await startMockOpenAI();
    onTestFinished(() => openai.close());
    const anthropic = await startMockAnthropic();
    onTestFinished(() => anthropic.close());
    const provider = createFailoverChainFromConfigs(
      [
        { id: 'primary', provider: 'openai', model: 'gpt-mock', baseUrl: openai.url, apiKey: 'k1' },
        { id: 'fallback', provider: 'anthropic', model: 'claude-mock', baseUrl: anthropic.url, apiKey: 'k2' },
      ],
      { timeouts: { connectMs: 1000, firstTokenMs: 400, idleMs: 1000, runMs: 5000 } },
      { maxRetryWaitMs: 1500 },
    );
    onTestFinished(() => provider.close());
    return { openai, anthropic, provider };
  }

  it('answers from the fallback when the primary returns 500, with the same conversation', async () => {
    const { openai, anthropic, provider } = await mocks();
    openai.enqueue(openaiScript.error(500, { message: 'oops', type: 'server_error' }));
    const outcome = await run(provider, {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(flow(outcome)[0]).toMatchObject({
      type: 'status',
      phase: 'failover',
      detail: { from: 'primary', to: 'fallback', reason: 'server' },
    });
    expect(outcome.text).toBe('mock reply to: hi');
    expect(anthropic.system()).toBe('Be brief.');
    expect(anthropic.requests[0]?.body?.model).toBe('claude-mock');
    expect(openai.requests[0]?.body?.model).toBe('gpt-mock');
  });

  it('honours a real Retry-After header: waits 1 s and asks the primary again', async () => {
    const { openai, anthropic, provider } = await mocks();
    openai.enqueue(openaiScript.rateLimited('1'));
    const started = performance.now();
    const outcome = await run(provider);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(flow(outcome)[0]).toMatchObject({
      type: 'status',
      phase: 'retry',
      detail: { model: 'primary', retryAfterMs: 1000 },
    });
    expect(outcome.text).toBe('mock reply to: hello');
    expect(openai.requests).toHaveLength(2);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('fails over on a slow first token and on a connection dropped before any text', async () => {
    const { openai, anthropic, provider } = await mocks();
    openai.enqueue(
      openaiScript.stream(['late'], { firstDelayMs: 2000 }),
      openaiScript.raw(': hi\n\n', { then: 'drop' }),
    );
    const slow = await run(provider);
    expect(flow(slow)[0]).toMatchObject({ detail: { reason: 'timeout' } });
    expect(slow.text).toBe('mock reply to: hello');
    await openai.requests[0]!.closed;
    const dropped = await run(provider);
    expect(flow(dropped)[0]).toMatchObject({ detail: { reason: 'connect' } });
    expect(anthropic.requests).toHaveLength(2);
  });

  it('keeps the partial answer and ends with the error when the primary drops after output', async () => {
    const { openai, anthropic, provider } = await mocks();
    anthropic.enqueue(anthropicScript.overloaded());
    openai.enqueue(openaiScript.stream(['partial ', 'answer'], { then: 'drop' }));
    const outcome = await drain(
      provider.stream({
        model: 'x',
        messages: [{ role: 'user', content: 'q' }],
        signal: new AbortController().signal,
        runId: 'r',
      }),
    );
    expect(outcome.text).toBe('partial answer');
    expect(outcome.error?.kind).toBe('connect');
    expect(anthropic.requests).toHaveLength(0);
  });
});
