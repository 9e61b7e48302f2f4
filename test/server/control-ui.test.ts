import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestGateway, TEST_TOKEN } from '../helpers/gateway.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';

function uiBuild(): string {
  const dir = tempDir('brainstem-ui-');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>control ui</title>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  return dir;
}

describe('Control UI hosting (controlUiDir)', () => {
  it('serves the UI build on the gateway port, index.html for browser routes, and keeps the WebSocket on /', async () => {
    const gw = await startTestGateway({ config: { controlUiDir: uiBuild() } });
    const base = `http://127.0.0.1:${gw.port}`;
    const index = await fetch(`${base}/`);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('<title>control ui</title>');
    expect(await (await fetch(`${base}/assets/app.js`)).text()).toBe('console.log(1)');
    const route = await fetch(`${base}/chat/main`, { headers: { accept: 'text/html' } });
    expect(await route.text()).toContain('<title>control ui</title>');
    expect((await fetch(`${base}/nothing.json`)).status).toBe(404);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });
    const config = (await (await fetch(`${base}/control-ui-config.json`)).json()) as { assistantName: string };
    expect(config.assistantName).toBe('brainstem');
    const client = await RawClient.connect(gw.url, { token: TEST_TOKEN });
    expect((await client.request('health', {})).ok).toBe(true);
  });

  it('refuses to start when the folder has no index.html', async () => {
    await expect(startTestGateway({ config: { controlUiDir: tempDir('brainstem-empty-') } })).rejects.toThrow(/no index.html/);
  });
});
