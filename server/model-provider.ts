/**
 * Builds the model provider from the configuration: one provider per configured model, chained for failover
 * when there is more than one. Models that lack a required API key are left out of the chain (and shown as
 * unavailable nowhere else); the offline `local` provider never needs one.
 */
import type { Logger } from 'pino';
import { createFailoverChain, createProvider } from '../workers/providers/factory.js';
import { createLocalProvider } from '../workers/providers/local.js';
import { modelInfo, type ModelConfig } from '../workers/providers/model-config.js';
import type { ModelProvider } from '../workers/providers/types.js';
import { ConfigError, modelChain } from './config.js';
import type { Config } from './config-options.js';

export function createModelProvider(config: Config, logger: Logger): ModelProvider {
  const deps = {
    timeouts: { connectMs: config.providerConnectTimeoutMs, firstTokenMs: config.providerFirstTokenTimeoutMs, idleMs: config.providerIdleTimeoutMs, runMs: config.runTimeoutMs },
    onWarning: (warning: { providerId: string; runId: string; code: string; message: string }) => logger.warn(warning, 'model stream warning'),
    createLocal: () => createLocalProvider({ chunkDelayMs: config.localChunkDelayMs }),
  };
  const configured: ModelConfig[] = modelChain(config);
  const usable = configured.filter((model) => {
    const available = modelInfo(model).available;
    if (!available) logger.warn({ model: model.id, provider: model.provider }, 'model left out: it needs an API key and none is configured');
    return available;
  });
  if (usable.length === 0) {
    throw new ConfigError(`no usable model: ${configured.map((m) => m.id).join(', ')} need an API key (set openaiApiKey / anthropicApiKey or OPENAI_API_KEY / ANTHROPIC_API_KEY)`);
  }
  const providers = usable.map((model) => ({ provider: createProvider(model, deps), model: model.model, label: model.id }));
  if (providers.length === 1) return (providers[0] as { provider: ModelProvider }).provider;
  return createFailoverChain(providers, { id: 'failover' });
}
