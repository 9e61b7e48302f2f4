/**
 * A gateway whose models point at mock vendor servers on 127.0.0.1, built from config the way the CLI builds
 * it (`models` option → server/model-provider.ts → failover chain), with a connected client.
 */
import { onTestFinished } from 'vitest';
import type { Logger } from 'pino';
import type { OptionName } from '../../server/config-options.js';
import type { ModelEntry } from '../../server/config-options.js';
import type { IdentityService } from '../../identity/types.js';
import { startTestGateway, TEST_TOKEN, type TestGateway } from './gateway.js';
import type { MockHttpServer } from './mock-http-server.js';
import { TEST_KEY, type Vendor } from './provider-vendors.js';
import { RawClient } from './raw-client.js';

export type VendorMock = MockHttpServer & { url: string };

/** Provider timeouts for wire tests: long enough for a loaded 2-core machine, in ms. */
export const WIRE_TIMEOUTS = { providerConnectTimeoutMs: 5_000, providerFirstTokenTimeoutMs: 5_000, providerIdleTimeoutMs: 5_000 };

/** Starts the vendor's mock server; closed when the test finishes. */
export async function startVendorMock(vendor: Vendor): Promise<VendorMock> {
  const mock = await vendor.start();
  onTestFinished(() => mock.close());
  return mock;
}

/** A `models` entry for a model served by `mock`: vendor model id `<id>-model`, key TEST_KEY. */
export function modelOn(vendor: Vendor, mock: VendorMock, id: string, extra: Partial<ModelEntry> = {}): ModelEntry {
  return { id, provider: vendor.name, model: `${id}-model`, baseUrl: mock.url, apiKey: TEST_KEY, ...extra };
}

export interface ModelGatewayOptions {
  config?: Partial<Record<OptionName, unknown>>;
  identity?: IdentityService;
  logger?: Logger;
}

/** A gateway configured with `models` (in failover order) and a client connected to it. */
export async function startModelGateway(
  models: ModelEntry[],
  options: ModelGatewayOptions = {},
): Promise<{ gw: TestGateway; client: RawClient }> {
  const gw = await startTestGateway({
    config: { ...WIRE_TIMEOUTS, models, ...options.config },
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
  return { gw, client };
}
