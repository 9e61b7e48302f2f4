/** An in-process gateway on 127.0.0.1 port 0 with a temp data dir; closed when the test finishes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { onTestFinished } from 'vitest';
import { createGateway, type Gateway } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import type { Config, OptionName } from '../../server/config-options.js';
import { openStore, type Store, type StoreOptions } from '../../memory/store.js';
import { fixedIdentity } from './fixed-identity.js';
import type { IdentityService } from '../../identity/types.js';
import { createModelSetup } from '../../server/model-provider.js';
import type { ModelProvider } from '../../workers/providers/types.js';

export const TEST_TOKEN = 'test-token-0123456789';

export interface TestGatewayOptions {
  /** Reuse a data dir (restart tests); a fresh temp dir otherwise. */
  dataDir?: string;
  config?: Partial<Record<OptionName, unknown>>;
  /** Default: built from the config as the CLI does (server/model-provider.ts); `local` unless configured. */
  provider?: ModelProvider;
  /** Default: a silent pino logger (or at `config.logLevel`). */
  logger?: Logger;
  identity?: IdentityService;
  /** `null`: auth off. */
  token?: string | null;
  /** Store options (e.g. an `open` hook that injects database faults). */
  storeOptions?: Omit<StoreOptions, 'logger'>;
  /** Register close with onTestFinished (default true); false for beforeAll-scoped gateways. */
  autoClose?: boolean;
}

export interface TestGateway {
  url: string;
  port: number;
  token: string | undefined;
  dataDir: string;
  config: Config;
  gateway: Gateway;
  store: Store;
  /** Closes the gateway, then the store and provider; safe to call twice. Keeps the data dir if it was given. */
  close(): Promise<void>;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'brainstem-gw-'));
  const token = options.token === null ? undefined : (options.token ?? TEST_TOKEN);
  const config = loadConfig({
    overrides: { port: 0, dataDir, logLevel: 'silent', ...(token === undefined ? { authMode: 'none' } : {}), ...options.config },
  });
  const logger = options.logger ?? pino({ level: config.logLevel });
  const store = openStore(dataDir, undefined, { indexMemory: config.memoryV1, retryIntervalMs: config.memoryDbRetryIntervalMs, ...options.storeOptions });
  const setup = options.provider === undefined ? createModelSetup(config, logger) : undefined;
  const provider = options.provider ?? (setup as { provider: ModelProvider }).provider;
  const identity = options.identity ?? fixedIdentity();
  const models = setup === undefined ? {} : { models: setup.models };
  let gateway: Gateway;
  try {
    gateway = await createGateway({ config, logger, store, provider, ...models, identity, token, validateResults: true });
  } catch (err) {
    store.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { url, port } = await gateway.listen();
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await gateway.close('test finished');
      await provider.close();
      await identity.close();
      store.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    })());
  if (options.autoClose !== false) onTestFinished(close);
  return { url, port, token, dataDir, config, gateway, store, close };
}
