import { describe, expect, it, onTestFinished } from 'vitest';
import { openaiChunk, openaiScript, startMockOpenAI } from '../../helpers/mock-openai.js';
import { run } from '../../helpers/provider-stream.js';
import type { ModelConfig } from '../../../workers/providers/model-config.js';
import { OpenAIProvider, toOpenAIMessage } from '../../../workers/providers/openai.js';
import type { ModelRequest } from '../../../workers/providers/types.js';

const KEY = 'sk-test-openai';
const FAST = { connectMs: 5000, firstTokenMs: 5000, idleMs: 5000, runMs: 15_000 };

async function setup(config: Partial<ModelConfig> = {}, timeouts = FAST) {
  const mock = await startMockOpenAI();
  onTestFinished(() => mock.close());
  const provider = new OpenAIProvider({
    config: { id: 'primary', provider: 'openai', model: 'mock-model', baseUrl: mock.url, apiKey: KEY, ...config },
    timeouts,
  });
  onTestFinished(() => provider.close());
  return { mock, provider };
}

/** Exposes the request a provider would send, without sending it. */
class RequestProbe extends OpenAIProvider {
  spec(request: ModelRequest) {
    return this.buildRequest(request);
  }
}

describe('OpenAIProvider', () => {
  it('sends a streaming chat completion with the messages, system prompt first, and the key as bearer', async () => {
    const { mock, provider } = await setup({ maxOutputTokens: 256 });
    const messages = [
      { role: 'system' as const, content: 'You are Brainy.' },
      { role: 'user' as const, content: 'hi' },
      { role: 'assistant' as const, content: 'hello' },
      { role: 'user' as const, content: 'again' },
    ];
    await run(provider, { model: 'llama3.2', messages });
    const request = mock.requests[0]!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toEqual({
      model: 'llama3.2',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 256,
    });
    expect(mock.messages()).toEqual(messages);
  });

  it('sends no authorization header without a key (Ollama, vLLM, llama.cpp)', async () => {
    const { mock, provider } = await setup({ apiKey: undefined });
    expect((await run(provider)).text).toBe('mock reply to: hello');
    expect(mock.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('asks api.openai.com for max_completion_tokens, and lets the request override the config', () => {
    const probe = new RequestProbe({
      config: { id: 'o', provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, maxOutputTokens: 100 },
    });
    onTestFinished(() => probe.close());
    const spec = probe.spec({
      model: 'gpt-4o-mini',
      messages: [],
      signal: new AbortController().signal,
      runId: 'r',
      maxOutputTokens: 42,
    });
    expect(spec.url.href).toBe('https://api.openai.com/v1/chat/completions');
    expect(JSON.parse(spec.body)).toMatchObject({ max_completion_tokens: 42 });
    expect(JSON.parse(spec.body)).not.toHaveProperty('max_tokens');
  });

  it('maps finish_reason content_filter to refusal', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(openaiScript.stream(['I '], { finishReason: 'content_filter' }));
    const outcome = await run(provider);
    expect(outcome.text).toBe('I ');
    expect(outcome.error?.kind).toBe('refusal');
    expect(outcome.error?.message).toMatch(/content filter/);
  });

  it('maps a refusal delta to refusal, with the refusal text in the message', async () => {
    const { mock, provider } = await setup();
    const sse = [
      openaiChunk({ refusal: "I can't " }),
      openaiChunk({ refusal: 'help with that.' }),
      openaiChunk({}, 'stop'),
      'data: [DONE]\n\n',
    ].join('');
    mock.enqueue(openaiScript.raw(sse));
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('refusal');
    expect(outcome.error?.message).toBe("openai/mock-model: the model refused: I can't help with that.");
  });

  it('maps an error object inside the stream to its kind', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(
      openaiScript.raw(
        `${openaiChunk({ content: 'x' })}data: {"error":{"message":"upstream overloaded","type":"server_error"}}\n\n`,
      ),
      openaiScript.raw(
        'data: {"error":{"message":"This model\'s maximum context length is 4096 tokens","code":400}}\n\n',
      ),
    );
    const first = await run(provider);
    expect(first.text).toBe('x');
    expect(first.error?.kind).toBe('server');
    expect(first.error?.message).toMatch(/upstream overloaded/);
    expect((await run(provider)).error?.kind).toBe('context_length');
  });

  it('accepts a stream without [DONE] once a finish_reason came (older llama.cpp server)', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(openaiScript.raw(`${openaiChunk({ content: 'ok' })}${openaiChunk({}, 'length')}`));
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.events.at(-1)).toEqual({ type: 'done', stopReason: 'length' });
  });

  it('treats a body that ends before any finish as a cut connection', async () => {
    const { mock, provider } = await setup();
    mock.enqueue(openaiScript.raw(openaiChunk({ content: 'half' })));
    const outcome = await run(provider);
    expect(outcome.text).toBe('half');
    expect(outcome.error?.kind).toBe('connect');
    expect(outcome.error?.message).toMatch(/ended before the model finished/);
  });

  it('counts reasoning deltas as the first token (no first-token timeout while the model thinks)', async () => {
    const { mock, provider } = await setup({}, { ...FAST, firstTokenMs: 60, idleMs: 200 });
    const thinking = Array.from({ length: 4 }, () => openaiChunk({ reasoning_content: 'hmm' }));
    const steps = thinking.flatMap((write) => [{ write }, { delayMs: 40 }]);
    mock.enqueue({
      steps: [...steps, { write: `${openaiChunk({ content: 'answer' })}${openaiChunk({}, 'stop')}data: [DONE]\n\n` }],
    });
    const outcome = await run(provider);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('answer');
  });

  it('starts the first-token clock only on content: a role-only chunk does not count', async () => {
    const { mock, provider } = await setup({}, { ...FAST, firstTokenMs: 60 });
    mock.enqueue({ steps: [{ write: openaiChunk({ role: 'assistant', content: '' }) }, { hang: true }] });
    expect((await run(provider)).error?.message).toMatch(/no first token within 60 ms/);
  });

  it('maps a 200 response that is not an event stream to a readable error', async () => {
    const { mock, provider } = await setup();
    mock.enqueue({ headers: { 'content-type': 'text/html' }, steps: [{ write: '<html>proxy login</html>' }] });
    const outcome = await run(provider);
    expect(outcome.error?.kind).toBe('unknown');
    expect(outcome.error?.message).toBe(
      'openai/mock-model: expected an event stream, got text/html: <html>proxy login</html>',
    );
  });
});

describe('toOpenAIMessage', () => {
  it('keeps text as a string, and makes content parts (no empty text part) when there are images', () => {
    expect(toOpenAIMessage({ role: 'user', content: 'hi' })).toEqual({ role: 'user', content: 'hi' });
    const images = [{ mimeType: 'image/webp' as const, data: 'UklGRg==' }];
    expect(toOpenAIMessage({ role: 'user', content: '', images })).toEqual({
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } }],
    });
  });
});
