import { describe, expect, it } from 'vitest';
import { countTokens } from '../../memory/tokens.js';
import { splitIntoChunks } from '../../workers/providers/chunks.js';
import { LOCAL_CHUNKS, LOCAL_MODEL_ID, LOCAL_REPLY_PREFIX, createLocalProvider } from '../../workers/providers/local.js';
import type { ModelMessage, ModelStreamEvent } from '../../workers/providers/types.js';

function request(messages: ModelMessage[], signal: AbortSignal = new AbortController().signal) {
  return { model: LOCAL_MODEL_ID, messages, signal, runId: 'run-1' };
}

async function collect(stream: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const events: ModelStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const texts = (events: ModelStreamEvent[]): string[] => events.flatMap((e) => (e.type === 'text' ? [e.text] : []));

const CONVERSATION: ModelMessage[] = [
  { role: 'system', content: 'You are brainstem.' },
  { role: 'user', content: 'first question' },
  { role: 'assistant', content: 'first answer' },
  { role: 'user', content: 'please repeat these seven words back now' },
];

describe('local provider', () => {
  it('echoes the last user message with a prefix that says it is an offline echo', async () => {
    const events = await collect(createLocalProvider().stream(request(CONVERSATION)));
    expect(LOCAL_REPLY_PREFIX).toMatch(/offline/i);
    expect(texts(events).join('')).toBe(`${LOCAL_REPLY_PREFIX}please repeat these seven words back now`);
  });

  it('streams several chunks that join to the reply, then usage, then done', async () => {
    const events = await collect(createLocalProvider().stream(request(CONVERSATION)));
    const chunks = texts(events);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThanOrEqual(LOCAL_CHUNKS);
    expect(events.slice(chunks.length).map((e) => e.type)).toEqual(['usage', 'done']);
    expect(events.at(-1)).toEqual({ type: 'done', stopReason: 'stop' });
  });

  it('is deterministic: the same request streams the same chunks', async () => {
    const provider = createLocalProvider();
    const first = await collect(provider.stream(request(CONVERSATION)));
    const second = await collect(provider.stream(request(CONVERSATION)));
    expect(second).toEqual(first);
  });

  it('reports usage in tokens: the prompt counted by the tokenizer, and the reply', async () => {
    const events = await collect(createLocalProvider().stream(request(CONVERSATION)));
    const usage = events.find((e) => e.type === 'usage');
    const input = CONVERSATION.reduce((n, m) => n + countTokens(m.content), 0);
    const output = countTokens(texts(events).join(''));
    expect(usage).toEqual({ type: 'usage', usage: { input, output, totalTokens: input + output } });
  });

  it('takes the caller\'s count of the prompt tokens when it has one', async () => {
    const events = await collect(createLocalProvider().stream({ ...request(CONVERSATION), promptTokens: 1234 }));
    const usage = events.find((e) => e.type === 'usage');
    expect(usage?.type === 'usage' && usage.usage.input).toBe(1234);
  });

  it('answers an empty or blank message, and a request with no user message, with "(empty message)"', async () => {
    const provider = createLocalProvider();
    for (const messages of [[{ role: 'user', content: '' }], [{ role: 'user', content: '  \n ' }], [{ role: 'system', content: 'only system' }]] as ModelMessage[][]) {
      const events = await collect(provider.stream(request(messages)));
      expect(texts(events).join(''), JSON.stringify(messages)).toBe(`${LOCAL_REPLY_PREFIX}(empty message)`);
      expect(events.at(-1)).toEqual({ type: 'done', stopReason: 'stop' });
    }
  });

  it('waits chunkDelayMs between chunks', async () => {
    const started = performance.now();
    await collect(createLocalProvider({ chunkDelayMs: 30 }).stream(request([{ role: 'user', content: 'one two three four five six' }])));
    expect(performance.now() - started).toBeGreaterThanOrEqual(30 * LOCAL_CHUNKS - 5);
  });

  it('stops promptly when aborted during a chunk delay', async () => {
    const controller = new AbortController();
    const stream = createLocalProvider({ chunkDelayMs: 5_000 }).stream(request(CONVERSATION, controller.signal));
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('run aborted')), 20);
    await expect(collect(stream)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('stops after the chunk in progress when aborted between chunks, without usage or done', async () => {
    const controller = new AbortController();
    const seen: ModelStreamEvent[] = [];
    const iterate = async (): Promise<void> => {
      for await (const event of createLocalProvider().stream(request(CONVERSATION, controller.signal))) {
        seen.push(event);
        controller.abort(new Error('run aborted'));
      }
    };
    await expect(iterate()).rejects.toThrow('run aborted');
    expect(seen.map((e) => e.type)).toEqual(['text']);
  });

  it('yields nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    const seen: ModelStreamEvent[] = [];
    const iterate = async (): Promise<void> => {
      for await (const event of createLocalProvider().stream(request(CONVERSATION, controller.signal))) seen.push(event);
    };
    await expect(iterate()).rejects.toThrow('too late');
    expect(seen).toEqual([]);
  });

  it('lists its one offline model as available', () => {
    expect(createLocalProvider().models()).toEqual([expect.objectContaining({ id: LOCAL_MODEL_ID, provider: 'local', available: true })]);
  });

  it('closes safely twice', async () => {
    const provider = createLocalProvider();
    await provider.close();
    await expect(provider.close()).resolves.toBeUndefined();
  });
});

describe('splitIntoChunks', () => {
  it('splits at word boundaries into at most the given number of pieces that join back to the text', () => {
    const text = 'Echo (offline local model): a b c d e f g';
    for (const parts of [1, 2, 3, 4, 7, 50]) {
      const chunks = splitIntoChunks(text, parts);
      expect(chunks.join(''), `parts=${parts}`).toBe(text);
      expect(chunks.length, `parts=${parts}`).toBeLessThanOrEqual(parts);
      for (const chunk of chunks.slice(0, -1)) expect(chunk, `parts=${parts}`).toMatch(/\s$/);
    }
  });

  it('keeps a single word whole', () => {
    expect(splitIntoChunks('word', 4)).toEqual(['word']);
    expect(splitIntoChunks('', 4)).toEqual(['']);
  });

  it('cuts a long text into pieces of about equal length', () => {
    const text = Array.from({ length: 5_000 }, (_, i) => `w${i}${i % 10 === 9 ? '\n' : ' '}`).join('');
    const chunks = splitIntoChunks(text, 4);
    expect(chunks.join('')).toBe(text);
    expect(chunks).toHaveLength(4);
    for (const chunk of chunks) expect(Math.abs(chunk.length - text.length / 4)).toBeLessThan(10);
  });

  it('leaves no empty piece when the text ends in whitespace', () => {
    expect(splitIntoChunks('a b ', 4)).toEqual(['a ', 'b ']);
  });
});

