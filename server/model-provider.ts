/**
 * Builds the model provider from the configuration: one provider per configured model, behind a failover chain
 * (a chain of one for a single model). Every model is treated alike that way: each call asks for the model's
 * own vendor id, a short Retry-After is waited out and the model tried once more, and the chain names the
 * model that answers (the transcript records it). Models that lack a required API key are left out of the
 * chain, and `models.list` still shows them, as unavailable; the offline `local` provider never needs a key.
 */
import type { Logger } from 'pino';
import { createFailoverChain, createProvider } from '../workers/providers/factory.js';
import { createLocalProvider } from '../workers/providers/local.js';
import { modelInfo, type ModelConfig } from '../workers/providers/model-config.js';
import type { ModelInfo, ModelProvider } from '../workers/providers/types.js';
import { ConfigError, modelChain } from './config.js';
import type { Config } from './config-options.js';

export interface ModelSetup {
  /** The failover chain over the usable models; the caller owns it (`close()`). */
  provider: ModelProvider;
  /** Every configured model in failover order, for `models.list`; `available: false` for the ones left out. */
  models: ModelInfo[];
}

export function createModelSetup(config: Config, logger: Logger): ModelSetup {
  const deps = {
    timeouts: { connectMs: config.providerConnectTimeoutMs, firstTokenMs: config.providerFirstTokenTimeoutMs, idleMs: config.providerIdleTimeoutMs, runMs: config.runTimeoutMs },
    onWarning: (warning: { providerId: string; runId: string; code: string; message: string }) => logger.warn(warning, 'model stream warning'),
    createLocal: () => createLocalProvider({ chunkDelayMs: config.localChunkDelayMs }),
  };
  const configured: ModelConfig[] = modelChain(config);
  const models = configured.map(modelInfo);
  const usable = configured.filter((model, i) => {
    const available = models[i]?.available === true;
    if (!available) logger.warn({ model: model.id, provider: model.provider }, 'model left out: it needs an API key and none is configured');
    return available;
  });
  if (usable.length === 0) {
    throw new ConfigError(`no usable model: ${configured.map((m) => m.id).join(', ')} need an API key (set openaiApiKey / anthropicApiKey or OPENAI_API_KEY / ANTHROPIC_API_KEY)`);
  }
  const links = usable.map((model) => ({ provider: createProvider(model, deps), model: model.model, label: model.id }));
  return { provider: createFailoverChain(links, { id: 'failover' }), models };
}
