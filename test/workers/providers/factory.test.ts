import { describe, expect, it, onTestFinished } from 'vitest';
import { scriptedProvider } from '../../helpers/scripted-provider.js';
import { AnthropicProvider } from '../../../workers/providers/anthropic.js';
import { createProvider } from '../../../workers/providers/factory.js';
import {
  DEFAULT_ANTHROPIC_BASE_URL,
  DEFAULT_OPENAI_BASE_URL,
  effectiveBaseUrl,
  type ModelConfig,
  modelInfo,
  requiresApiKey,
} from '../../../workers/providers/model-config.js';
import { OpenAIProvider } from '../../../workers/providers/openai.js';

describe('createProvider', () => {
  it('builds the provider the config names, with the config id as provider id', () => {
    const openai = createProvider({ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'k' });
    const anthropic = createProvider({ id: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', apiKey: 'k' });
    onTestFinished(() => Promise.all([openai.close(), anthropic.close()]).then(() => {}));
    expect(openai).toBeInstanceOf(OpenAIProvider);
    expect(anthropic).toBeInstanceOf(AnthropicProvider);
    expect([openai.id, anthropic.id]).toEqual(['gpt', 'claude']);
  });

  it('builds `local` through the factory it is given, and says so when none is', () => {
    const local = scriptedProvider('local');
    const config: ModelConfig = { id: 'local', provider: 'local', model: 'local-echo' };
    expect(createProvider(config, { createLocal: () => local })).toBe(local);
    expect(() => createProvider(config)).toThrow(/no local provider factory/);
  });
});

describe('per-model configuration', () => {
  it('shows a model as models.list does: id, vendor model as name, provider, limits', () => {
    expect(
      modelInfo({
        id: 'fast',
        provider: 'openai',
        model: 'gpt-4o-mini',
        apiKey: 'k',
        contextWindow: 128_000,
        maxOutputTokens: 4096,
      }),
    ).toEqual({
      id: 'fast',
      name: 'gpt-4o-mini',
      provider: 'openai',
      contextWindow: 128_000,
      maxOutputTokens: 4096,
      available: true,
    });
  });

  it("needs a key for the vendors' own APIs only, unless told otherwise", () => {
    const cases: [Partial<ModelConfig> & Pick<ModelConfig, 'provider'>, boolean][] = [
      [{ provider: 'openai' }, true],
      [{ provider: 'openai', baseUrl: 'https://api.openai.com/v1/' }, true],
      [{ provider: 'openai', baseUrl: 'http://127.0.0.1:11434/v1' }, false],
      [{ provider: 'openai', baseUrl: 'https://api.groq.com/openai/v1', requiresApiKey: true }, true],
      [{ provider: 'anthropic' }, true],
      [{ provider: 'anthropic', baseUrl: 'http://localhost:4000' }, false],
      [{ provider: 'local' }, false],
    ];
    for (const [config, expected] of cases) {
      expect(requiresApiKey({ id: 'x', model: 'm', ...config }), JSON.stringify(config)).toBe(expected);
    }
  });

  it('marks a model unavailable when it needs a key it does not have', () => {
    expect(modelInfo({ id: 'a', provider: 'openai', model: 'gpt' }).available).toBe(false);
    expect(modelInfo({ id: 'b', provider: 'anthropic', model: 'claude', apiKey: '' }).available).toBe(false);
    expect(
      modelInfo({ id: 'c', provider: 'openai', model: 'llama3.2', baseUrl: 'http://localhost:11434/v1' }).available,
    ).toBe(true);
    const provider = createProvider({ id: 'd', provider: 'anthropic', model: 'claude' });
    onTestFinished(() => provider.close());
    expect(provider.models()).toEqual([{ id: 'd', name: 'claude', provider: 'anthropic', available: false }]);
  });

  it('uses the vendor default base URLs, without trailing slashes', () => {
    expect(effectiveBaseUrl({ id: 'a', provider: 'openai', model: 'm' })).toBe(DEFAULT_OPENAI_BASE_URL);
    expect(effectiveBaseUrl({ id: 'a', provider: 'anthropic', model: 'm' })).toBe(DEFAULT_ANTHROPIC_BASE_URL);
    expect(effectiveBaseUrl({ id: 'a', provider: 'openai', model: 'm', baseUrl: 'http://h:1/v1///' })).toBe(
      'http://h:1/v1',
    );
  });
});
