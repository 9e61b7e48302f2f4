import { describe, expect, it, onTestFinished } from 'vitest';
import { anthropicEvent, anthropicScript, startMockAnthropic } from '../../helpers/mock-anthropic.js';
import { run } from '../../helpers/provider-stream.js';
import {
  ANTHROPIC_API_VERSION,
  AnthropicProvider,
  DEFAULT_ANTHROPIC_MAX_OUTPUT_TOKENS,
  toAnthropicMessages,
} from '../../../workers/providers/anthropic.js';
import type { ModelConfig } from '../../../workers/providers/model-config.js';

const KEY = 'sk-ant-test';
const FAST = { connectMs: 5000, firstTokenMs: 5000, idleMs: 5000, runMs: 15_000 };

async function setup(config: Partial<ModelConfig> = {}) {
  const mock = await startMockAnthropic();
  onTestFinished(() => mock.close());
  const provider = new AnthropicProvider({
    config: { id: 'claude', provider: 'anthropic', model: 'claude-test', baseUrl: mock.url, apiKey: KEY, ...config },
    timeouts: FAST,
  });
  onTestFinished(() => provider.close());
  return { mock, provider };
}

const start = anthropicEvent({
  type: 'message_start',
  message: { id: 'm', usage: { input_tokens: 5, output_tokens: 1 } },
});
const text = (t: string) =>
  anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } });
const stop = (reason: string) =>
  anthropicEvent({ type: 'message_delta', delta: { stop_reason: reason }, usage: { output_tokens: 3 } });
const end = anthropicEvent({ type: 'message_stop' });

describe('AnthropicProvider', () => {
  it('puts the system prompt in `system`, the turns in `messages`, and sends the key and version headers', async () => {
    const { mock, provider } = await setup();
    const outcome = await run(provider, {
      messages: [
        { role: 'system', content: 'You are Brainy.' },
        { role: 'system', content: 'User is Ada.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(outcome.text).toBe('mock reply to: hi');
    const request = mock.requests[0]!;
    expect(request.path).toBe('/v1/messages');
    expect(request.headers['x-api-key']).toBe(KEY);
    expect(request.headers['anthropic-version']).toBe(ANTHROPIC_API_VERSION);
    expect(request.body).toEqual({
      model: 'mock-model',
      max_tokens: DEFAULT_ANTHROPIC_MAX_OUTPUT_TOKENS,
      system: 'You are Brainy.\n\nUser is Ada.',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(mock.system()).toBe('You are Brainy.\n\nUser is Ada.');
  });

  it('takes max_tokens from the request, else from the config', async () => {
    const { mock, provider } = await setup({ maxOutputTokens: 300 });
    await run(provider);
    await run(provider, { maxOutputTokens: 7 });
    expect(mock.requests.map((r) => r.body?.max_tokens)).toEqual([300, 7]);
  });

  it('reports usage with cached prompt tokens counted as input', async () => {
    const { mock, provider } = await setup();
    const cachedStart = anthropicEvent({
      type: 'message_start',
      message: {
        usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 },
      },
    });
    mock.enqueue(anthropicScript.raw(cachedStart + text('ok') + stop('end_turn') + end));
    expect((await run(provider)).usage).toEqual({ input: 125, output: 3, totalTokens: 128 });
  });

  it('normalizes stop reasons: max_tokens → length, tool_use → tool_calls', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(
      anthropicScript.raw(start + text('a') + stop('max_tokens') + end),
      anthropicScript.raw(start + stop('tool_use') + end),
    );
    expect((await run(provider)).stopReason).toBe('length');
    expect((await run(provider)).stopReason).toBe('tool_calls');
  });

  it('maps stop_reason refusal to refusal', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(anthropicScript.raw(start + text('I will not') + stop('refusal') + end));
    const outcome = await run(provider);
    expect(outcome.text).toBe('I will not');
    expect(outcome.error?.kind).toBe('refusal');
  });

  it('maps in-stream error events by type: overloaded → server, rate limit → rate_limit, prompt too long → context_length', async () => {
    const { mock, provider } = await setup();
    const error = (type: string, message: string) => anthropicEvent({ type: 'error', error: { type, message } });
    mock.enqueue(
      anthropicScript.raw(start + text('par') + error('overloaded_error', 'Overloaded')),
      anthropicScript.raw(start + error('rate_limit_error', 'slow down')),
      anthropicScript.raw(start + error('invalid_request_error', 'prompt is too long: 300000 tokens > 200000 maximum')),
    );
    const overloaded = await run(provider);
    expect(overloaded.text).toBe('par');
    expect(overloaded.error).toMatchObject({ kind: 'server', status: 529 });
    expect(overloaded.error?.message).toBe(
      'anthropic/mock-model: server error (HTTP 529): overloaded_error: Overloaded',
    );
    expect((await run(provider)).error?.kind).toBe('rate_limit');
    expect((await run(provider)).error?.kind).toBe('context_length');
  });

  it('fails as unknown on an unreadable error event', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(anthropicScript.raw(`${start}event: error\ndata: {"type":"error","err\n\n`));
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('unknown');
    expect(outcome.error?.message).toMatch(/unreadable error event/);
  });

  it('maps HTTP 529 overloaded to server and 413 to context_length', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(
      anthropicScript.overloaded(),
      anthropicScript.error(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes'),
    );
    expect((await run(provider)).error).toMatchObject({ kind: 'server', status: 529 });
    expect((await run(provider)).error?.kind).toBe('context_length');
  });

  it('treats a stream cut before message_stop and without a stop reason as a cut connection', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(anthropicScript.raw(start + text('half')));
    const outcome = await run(provider);
    expect(outcome.text).toBe('half');
    expect(outcome.error?.kind).toBe('connect');
  });
});

describe('toAnthropicMessages', () => {
  it('merges consecutive turns of one role and drops empty ones', () => {
    expect(
      toAnthropicMessages([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: '' },
        { role: 'system', content: 'late system' },
        { role: 'assistant', content: 'c' },
      ]),
    ).toEqual({
      system: 'late system',
      messages: [
        { role: 'user', content: 'a\n\nb' },
        { role: 'assistant', content: 'c' },
      ],
    });
  });

  it('puts a message\'s images before its text as base64 image blocks, merging with a neighbour of its role', () => {
    const png = { mimeType: 'image/png' as const, data: 'AAAA' };
    expect(
      toAnthropicMessages([
        { role: 'user', content: 'earlier' },
        { role: 'user', content: 'look', images: [png] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: '', images: [png] },
      ]).messages,
    ).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'earlier' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          { type: 'text', text: 'look' },
        ],
      },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
    ]);
  });
});
