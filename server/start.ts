/**
 * Starting the gateway for the CLI: token, store, identity, model provider, gateway, signal handling.
 * Imported by cli.ts only after the configuration is valid, so `--help` and config errors stay fast.
 */
import type { Logger } from 'pino';
import { openStore, type Store } from '../memory/store.js';
import { createIdentityService, ensureWorkspace, type IdentityService } from '../identity/index.js';
import type { ModelProvider } from '../workers/providers/types.js';
import { createGateway, type Gateway } from './app.js';
import type { Config } from './config-options.js';
import { createModelSetup } from './model-provider.js';
import { createLogger } from './logger.js';
import { ensureToken } from './token.js';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function resolveToken(config: Config): string | undefined {
  if (config.authMode === 'none') {
    say('auth is off (authMode none, loopback only)');
    return undefined;
  }
  if (config.token !== undefined) return config.token;
  const stored = ensureToken(config.dataDir);
  say(stored.generated ? `generated a gateway token; it is stored in ${stored.path}` : `using the gateway token stored in ${stored.path}`);
  return stored.token;
}

/** Starts the gateway with a validated configuration; resolves once it listens. */
export async function start(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const token = resolveToken(config);
  const store = openStore(config.dataDir, logger, { indexMemory: config.memoryV1, retryIntervalMs: config.memoryDbRetryIntervalMs });
  if (ensureWorkspace(config.workspace, logger)) say(`created the workspace ${config.workspace} with example identity files (SOUL.md, AGENT.md, IDENTITY.md, USER.md)`);
  const identity = createIdentityService({ workspace: config.workspace, logger: logger.child({ component: 'identity' }) });
  const { provider, models } = createModelSetup(config, logger.child({ component: 'provider' }));
  const gateway = await createGateway({ config, logger, store, provider, models, identity, token });
  const { url } = await gateway.listen();
  // Before the listening line: whoever reads it may send SIGTERM at once and must get a graceful stop.
  handleSignals(gateway, { store, identity, provider }, logger);
  say(`brainstem listening on ${url}`);
  logger.info({ url, provider: provider.id, dataDir: config.dataDir }, 'gateway started');
}

function handleSignals(gateway: Gateway, owned: { store: Store; identity: IdentityService; provider: ModelProvider }, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void (async () => {
      try {
        await gateway.close(`received ${signal}`);
        await owned.provider.close();
        await owned.identity.close();
        owned.store.close();
        logger.info('shutdown complete');
        logger.flush();
        process.exitCode = 0;
      } catch (err) {
        logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
      } finally {
        setTimeout(() => process.exit(), 100).unref();
      }
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
