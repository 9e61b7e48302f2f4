import { AnthropicProvider } from './anthropic.js';
import { type FailoverLink, type FailoverOptions, FailoverProvider } from './failover.js';
import type { HttpAgents } from './http-call.js';
import type { HttpProviderOptions, ProviderWarning } from './http-provider.js';
import type { ModelConfig } from './model-config.js';
import { OpenAIProvider } from './openai.js';
import type { ProviderTimeouts } from './stream-guard.js';
import type { ModelProvider } from './types.js';

/** What providers get from whoever builds them (the run manager, from config). */
export interface ProviderDeps {
  /** Overrides of DEFAULT_PROVIDER_TIMEOUTS, in ms, for every HTTP provider built with these deps. */
  timeouts?: Partial<ProviderTimeouts>;
  /** Told about skipped malformed stream events (log them). Default: ignored. */
  onWarning?: (warning: ProviderWarning) => void;
  /** Shared keep-alive agents, owned by the caller; default: each provider owns its own. */
  agents?: HttpAgents;
  /** Builds the offline `local` provider; needed only for configs with `provider: 'local'`. */
  createLocal?: (config: ModelConfig) => ModelProvider;
}

/** Builds the provider for one configured model. Its `id` is `config.id`; the caller owns it (`close()`). */
export function createProvider(config: ModelConfig, deps: ProviderDeps = {}): ModelProvider {
  switch (config.provider) {
    case 'openai':
      return new OpenAIProvider(httpOptions(config, deps));
    case 'anthropic':
      return new AnthropicProvider(httpOptions(config, deps));
    case 'local':
      if (deps.createLocal === undefined) throw new Error(`model '${config.id}': no local provider factory given`);
      return deps.createLocal(config);
  }
}

/** A failover chain over already-built providers, in order of preference. See FailoverProvider. */
export function createFailoverChain(links: FailoverLink[], options: FailoverOptions = {}): ModelProvider {
  return new FailoverProvider(links, options);
}

/** Builds one provider per config and chains them in the given order; the chain owns them. */
export function createFailoverChainFromConfigs(
  configs: ModelConfig[],
  deps: ProviderDeps = {},
  options: FailoverOptions = {},
): ModelProvider {
  const links = configs.map((config) => ({
    provider: createProvider(config, deps),
    model: config.model,
    label: config.id,
  }));
  return createFailoverChain(links, options);
}

function httpOptions(config: ModelConfig, deps: ProviderDeps): HttpProviderOptions {
  const options: HttpProviderOptions = { config };
  if (deps.timeouts !== undefined) options.timeouts = deps.timeouts;
  if (deps.onWarning !== undefined) options.onWarning = deps.onWarning;
  if (deps.agents !== undefined) options.agents = deps.agents;
  return options;
}
