import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS, envName, flagName } from '../../server/config-options.js';
import { TOKEN_FILE } from '../../server/token.js';
import { RawClient, connectParams, payloadOf } from '../helpers/raw-client.js';
import { runCli, spawnGateway, type SpawnedGateway } from '../helpers/spawn-gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

const LISTENING = /^brainstem listening on /;

/** Connects, asks for health and leaves: enough traffic for the gateway to log auth and requests. */
async function exercise(gw: SpawnedGateway, token: string): Promise<void> {
  const client = await RawClient.connect(gw.url, { token });
  expect((await client.request('health', {})).ok).toBe(true);
  client.close();
  await client.waitClose();
}

/** Stops the gateway with SIGTERM and returns everything it printed. */
async function stopAndCollect(gw: SpawnedGateway): Promise<string> {
  gw.kill('SIGTERM');
  expect(await gw.exited).toEqual({ code: 0, signal: null });
  return [...gw.stdout, ...gw.stderr].join('\n');
}

describe('brainstem (CLI)', () => {
  it('prints exactly one "brainstem listening on ws://127.0.0.1:<port>" line with the real port, and logs JSON to stderr', async () => {
    const gw = await spawnGateway({ args: ['--log-level', 'info'] });
    expect(gw.port).toBeGreaterThan(0);
    expect(gw.stdout.filter((line) => LISTENING.test(line))).toEqual([`brainstem listening on ws://127.0.0.1:${gw.port}`]);
    await exercise(gw, gw.token ?? '');
    const res = await fetch(`http://127.0.0.1:${gw.port}/healthz`);
    expect(await res.json()).toEqual({ ok: true });
    await stopAndCollect(gw);
    expect(gw.stdout.filter((line) => LISTENING.test(line))).toHaveLength(1);
    for (const line of gw.stdout) expect(line.startsWith('{'), line).toBe(false);
    const logs = gw.stderr.filter((line) => line.trim() !== '');
    for (const line of logs) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(logs.map((line) => (JSON.parse(line) as { msg?: string }).msg)).toEqual(expect.arrayContaining(['gateway started', 'shutting down', 'shutdown complete']));
  });

  describe('token', () => {
    it('generates a token into <dataDir>/gateway-token with mode 0600, says where, never prints it, and reuses it on the next start', async () => {
      const gw = await spawnGateway({ args: ['--log-level', 'trace'] });
      const path = join(gw.dataDir, TOKEN_FILE);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const stored = readFileSync(path, 'utf8');
      const token = stored.trim();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(gw.token).toBe(token);
      expect(gw.stdout).toContain(`generated a gateway token; it is stored in ${path}`);
      await exercise(gw, token);
      const refused = await RawClient.open(gw.url);
      expect((await refused.request('connect', connectParams({ token: 'wrong-token' }))).ok).toBe(false);
      const printed = await stopAndCollect(gw);
      expect(gw.stderr.length).toBeGreaterThan(0);
      expect(printed).not.toContain(token);

      const again = await spawnGateway({ dataDir: gw.dataDir, args: ['--log-level', 'trace'] });
      expect(again.stdout).toContain(`using the gateway token stored in ${path}`);
      expect(readFileSync(path, 'utf8')).toBe(stored);
      await exercise(again, token);
      expect(await stopAndCollect(again)).not.toContain(token);
    });

    it('uses --token and writes no token file', async () => {
      const gw = await spawnGateway({ token: 'flag-token-0123456789', args: ['--log-level', 'debug'] });
      await exercise(gw, 'flag-token-0123456789');
      expect(() => statSync(join(gw.dataDir, TOKEN_FILE))).toThrow(/ENOENT/);
      expect(await stopAndCollect(gw)).not.toContain('flag-token-0123456789');
    });

    it('uses BRAINSTEM_TOKEN', async () => {
      const gw = await spawnGateway({ env: { BRAINSTEM_TOKEN: 'env-token-0123456789' }, args: ['--log-level', 'debug'] });
      expect(gw.token).toBe('env-token-0123456789');
      await exercise(gw, 'env-token-0123456789');
      const refused = await RawClient.open(gw.url);
      expect((await refused.request('connect', connectParams({ token: 'flag-token-0123456789' }))).ok).toBe(false);
      expect(await stopAndCollect(gw)).not.toContain('env-token-0123456789');
    });
  });

  describe('bad configuration', () => {
    const badJson = (): string[] => {
      const path = join(tempDir('brainstem-cli-'), 'bad.json');
      writeFileSync(path, '{ "port": ');
      return ['--config', path];
    };
    const unknownKey = (): string[] => {
      const path = join(tempDir('brainstem-cli-'), 'unknown.json');
      writeFileSync(path, JSON.stringify({ port: 0, colour: 'blue' }));
      return ['--config', path];
    };
    const cases: [string, () => string[], RegExp][] = [
      ['--port abc', () => ['--port', 'abc'], /^brainstem: invalid value "abc" for port \(from --port\): expected a number$/],
      ['--provider nope', () => ['--provider', 'nope'], new RegExp(`^brainstem: invalid value "nope" for provider \\(from --provider\\): expected one of ${OPTIONS.provider.values?.join(', ')}$`)],
      ['an unknown flag', () => ['--no-such-option', 'x'], /^brainstem: Unknown option '--no-such-option'\. Run with --help for the list of options\.$/],
      ['a config file that is not JSON', badJson, /^brainstem: config file .*bad\.json is not valid JSON: /],
      ['an unknown key in the config file', unknownKey, /^brainstem: config file .*unknown\.json: unknown option "colour"$/],
    ];

    it.each(cases)('exits with code 2 and a clear message on stderr for %s', async (_, args, message) => {
      const dir = tempDir('brainstem-cli-');
      const result = await runCli({ args: [...args(), '--data-dir', dir, '--workspace', join(dir, 'workspace')] });
      expect(result).toMatchObject({ code: 2, signal: null });
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stdout).not.toMatch(/listening/);
    });

    it('exits with code 2 for a bad BRAINSTEM_ variable and names it', async () => {
      const dir = tempDir('brainstem-cli-');
      const result = await runCli({ args: ['--data-dir', dir, '--workspace', join(dir, 'workspace')], env: { BRAINSTEM_MAX_CONCURRENT_RUNS: 'lots' } });
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe('brainstem: invalid value "lots" for maxConcurrentRuns (from BRAINSTEM_MAX_CONCURRENT_RUNS): expected a number');
    });
  });

  it('--help lists every option with its flag and environment variable and exits 0', async () => {
    const result = await runCli({ args: ['--help'] });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: brainstem \[options\]/);
    for (const name of Object.keys(OPTIONS)) {
      expect(result.stdout, name).toContain(flagName(name));
      expect(result.stdout, name).toContain(envName(name));
    }
  });

  describe('shutdown', () => {
    it('on SIGTERM sends shutdown, closes clients 1012 "service restart" and exits 0', async () => {
      const gw = await spawnGateway();
      const token = gw.token ?? '';
      const clients = [await RawClient.connect(gw.url, { token }), await RawClient.connect(gw.url, { token })];
      gw.kill('SIGTERM');
      for (const client of clients) {
        const shutdown = payloadOf(await client.event('shutdown'), 'shutdown');
        expect(shutdown.reason).toMatch(/SIGTERM/);
        expect(await client.waitClose()).toEqual({ code: 1012, reason: 'service restart' });
      }
      expect(await gw.exited).toEqual({ code: 0, signal: null });
    });

    it('on SIGINT shuts down the same way', async () => {
      const gw = await spawnGateway();
      const client = await RawClient.connect(gw.url, { token: gw.token ?? '' });
      gw.kill('SIGINT');
      expect(payloadOf(await client.event('shutdown'), 'shutdown').reason).toMatch(/SIGINT/);
      expect(await client.waitClose()).toEqual({ code: 1012, reason: 'service restart' });
      expect(await gw.exited).toEqual({ code: 0, signal: null });
    });
  });
});
