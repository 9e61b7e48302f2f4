import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, effectiveModel, loadConfig } from '../../server/config.js';
import { OPTIONS, envName, flagName, type OptionName } from '../../server/config-options.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A JSON config file in a temp dir; returns its path. */
function configFile(content: unknown): string {
  const path = join(tempDir('brainstem-config-'), 'brainstem.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('applies every documented default when nothing is given', () => {
      const config = loadConfig();
      for (const name of Object.keys(OPTIONS) as OptionName[]) expect(config[name], name).toEqual(OPTIONS[name].default);
    });

    it('listens on 127.0.0.1:18789 with token auth, data in ./data and the local provider', () => {
      expect(loadConfig()).toMatchObject({
        host: '127.0.0.1',
        port: 18789,
        authMode: 'token',
        dataDir: './data',
        workspace: './workspace',
        provider: 'local',
        token: undefined,
      });
    });

    it('does not read process.env unless it is passed in', () => {
      const saved = process.env.BRAINSTEM_PORT;
      process.env.BRAINSTEM_PORT = '4444';
      try {
        expect(loadConfig().port).toBe(18789);
      } finally {
        if (saved === undefined) delete process.env.BRAINSTEM_PORT;
        else process.env.BRAINSTEM_PORT = saved;
      }
    });
  });

  describe('precedence', () => {
    it('takes a flag over the environment over the file over the default, option by option', () => {
      const path = configFile({ port: 1001, model: 'file-model', logLevel: 'warn', maxConcurrentRuns: 3 });
      const config = loadConfig({
        argv: ['--config', path, '--port', '3003'],
        env: { BRAINSTEM_PORT: '2002', BRAINSTEM_MODEL: 'env-model' },
      });
      expect(config).toMatchObject({ port: 3003, model: 'env-model', logLevel: 'warn', maxConcurrentRuns: 3, host: '127.0.0.1' });
    });

    it('uses the file when neither flag nor environment sets an option', () => {
      const path = configFile({ port: 1001, dataDir: '/srv/brainstem', provider: 'openai', localChunkDelayMs: 7 });
      expect(loadConfig({ argv: ['--config', path] })).toMatchObject({ port: 1001, dataDir: '/srv/brainstem', provider: 'openai', localChunkDelayMs: 7 });
    });

    it('finds the config file through BRAINSTEM_CONFIG, and --config wins over it', () => {
      const fromEnv = configFile({ port: 1111 });
      const fromFlag = configFile({ port: 2222 });
      expect(loadConfig({ env: { BRAINSTEM_CONFIG: fromEnv } }).port).toBe(1111);
      expect(loadConfig({ argv: ['--config', fromFlag], env: { BRAINSTEM_CONFIG: fromEnv } }).port).toBe(2222);
    });

    it('puts overrides above flags', () => {
      expect(loadConfig({ argv: ['--port', '3003'], env: { BRAINSTEM_PORT: '2002' }, overrides: { port: 0 } }).port).toBe(0);
    });

    it('treats an empty environment variable as unset', () => {
      const path = configFile({ model: 'file-model' });
      expect(loadConfig({ argv: ['--config', path], env: { BRAINSTEM_MODEL: '', BRAINSTEM_PORT: '' } })).toMatchObject({ model: 'file-model', port: 18789 });
    });

    it('accepts --flag=value as well as --flag value', () => {
      expect(loadConfig({ argv: ['--port=5005', '--host', 'localhost'] })).toMatchObject({ port: 5005, host: 'localhost' });
    });
  });

  describe('names', () => {
    it('names flags in kebab-case and environment variables BRAINSTEM_SCREAMING_SNAKE', () => {
      expect(flagName('dataDir')).toBe('--data-dir');
      expect(envName('dataDir')).toBe('BRAINSTEM_DATA_DIR');
      expect(flagName('openaiApiKey')).toBe('--openai-api-key');
      expect(envName('maxQueuedTurnsPerSession')).toBe('BRAINSTEM_MAX_QUEUED_TURNS_PER_SESSION');
    });

    it('reads --data-dir and BRAINSTEM_DATA_DIR', () => {
      expect(loadConfig({ argv: ['--data-dir', '/tmp/from-flag'] }).dataDir).toBe('/tmp/from-flag');
      expect(loadConfig({ env: { BRAINSTEM_DATA_DIR: '/tmp/from-env' } }).dataDir).toBe('/tmp/from-env');
    });

    it('sets every option by its flag and by its environment variable', () => {
      for (const [name, value] of [['workspace', '/w'], ['openaiBaseUrl', 'http://127.0.0.1:11434/v1'], ['maxPayloadBytes', '100000'], ['provider', 'openai']] as const) {
        const expected = OPTIONS[name].kind === 'int' ? Number(value) : value;
        expect(loadConfig({ argv: [flagName(name), value] })[name], flagName(name)).toEqual(expected);
        expect(loadConfig({ env: { [envName(name)]: value } })[name], envName(name)).toEqual(expected);
      }
    });

    it('refuses the camelCase name as a flag and an unknown flag, pointing at --help', () => {
      expect(configError(() => loadConfig({ argv: ['--dataDir', '/x'] })).message).toMatch(/Unknown option '--dataDir'.*--help/);
      expect(configError(() => loadConfig({ argv: ['--colour', 'blue'] })).message).toMatch(/Unknown option '--colour'/);
    });

    it('refuses positional arguments', () => {
      expect(configError(() => loadConfig({ argv: ['serve'] })).message).toMatch(/serve/);
    });
  });

  describe('OPENAI_API_KEY', () => {
    it('is read as an alias of openaiApiKey', () => {
      expect(loadConfig({ env: { OPENAI_API_KEY: 'sk-alias' } }).openaiApiKey).toBe('sk-alias');
    });

    it('yields to BRAINSTEM_OPENAI_API_KEY and to --openai-api-key', () => {
      expect(loadConfig({ env: { OPENAI_API_KEY: 'sk-alias', BRAINSTEM_OPENAI_API_KEY: 'sk-own' } }).openaiApiKey).toBe('sk-own');
      expect(loadConfig({ argv: ['--openai-api-key', 'sk-flag'], env: { OPENAI_API_KEY: 'sk-alias' } }).openaiApiKey).toBe('sk-flag');
    });
  });

  describe('validation', () => {
    it('refuses a non-number and names the option and the flag', () => {
      const err = configError(() => loadConfig({ argv: ['--port', 'abc'] }));
      expect(err.message).toBe('invalid value "abc" for port (from --port): expected a number');
    });

    it('refuses an out-of-range value and names the environment variable it came from', () => {
      const err = configError(() => loadConfig({ env: { BRAINSTEM_PORT: '70000' } }));
      expect(err.message).toBe('invalid value "70000" for port (from BRAINSTEM_PORT): must be <= 65535');
      expect(configError(() => loadConfig({ argv: ['--max-concurrent-runs', '0'] })).message).toMatch(/maxConcurrentRuns \(from --max-concurrent-runs\): must be >= 1/);
      expect(configError(() => loadConfig({ argv: ['--port=-1'] })).message).toMatch(/port \(from --port\): must be >= 0/);
    });

    it('refuses a delay longer than a Node timer holds, which would fire after 1 ms', () => {
      expect(configError(() => loadConfig({ argv: ['--ping-interval-ms', '3000000000'] })).message).toBe(
        'invalid value "3000000000" for pingIntervalMs (from --ping-interval-ms): must be <= 2147483647',
      );
      // A retention is compared with timestamps, never put in a timer: 100 days is fine.
      expect(loadConfig({ argv: ['--job-retention-ms', '8640000000'] }).jobRetentionMs).toBe(8_640_000_000);
    });

    it('refuses a fraction for an integer option and names the file and key it came from', () => {
      const path = configFile({ port: 1.5 });
      expect(configError(() => loadConfig({ argv: ['--config', path] })).message).toBe(`invalid value 1.5 for port (from ${path}: port): expected an integer`);
    });

    it('refuses a value outside an enum and lists the allowed ones', () => {
      expect(configError(() => loadConfig({ argv: ['--provider', 'nope'] })).message).toBe(
        `invalid value "nope" for provider (from --provider): expected one of ${OPTIONS.provider.values?.join(', ')}`,
      );
      expect(configError(() => loadConfig({ env: { BRAINSTEM_LOG_LEVEL: 'loud' } })).message).toMatch(/logLevel \(from BRAINSTEM_LOG_LEVEL\): expected one of fatal, error/);
    });

    it('refuses a value of the wrong JSON type in the file', () => {
      const path = configFile({ host: 127 });
      expect(configError(() => loadConfig({ argv: ['--config', path] })).message).toMatch(/for host .*expected a string/);
    });

    it('refuses an empty string', () => {
      expect(configError(() => loadConfig({ argv: ['--data-dir', '  '] })).message).toMatch(/for dataDir \(from --data-dir\): must not be empty/);
    });

    it('refuses preauthMaxPayloadBytes above maxPayloadBytes', () => {
      expect(configError(() => loadConfig({ argv: ['--max-payload-bytes', '2048', '--preauth-max-payload-bytes', '4096'] })).message).toMatch(
        /preauthMaxPayloadBytes must not exceed maxPayloadBytes/,
      );
    });
  });

  describe('secrets', () => {
    it('does not echo a refused token or API key', () => {
      const empty = configError(() => loadConfig({ argv: ['--token', ''] }));
      expect(empty.message).toBe('invalid value (secret) for token (from --token): must not be empty');
      const path = configFile({ token: 987654321, openaiApiKey: 'ok' });
      const typed = configError(() => loadConfig({ argv: ['--config', path] }));
      expect(typed.message).toMatch(/invalid value \(secret\) for token/);
      expect(typed.message).not.toContain('987654321');
      const keyFile = configFile({ openaiApiKey: ['sk-secret-in-array'] });
      const key = configError(() => loadConfig({ argv: ['--config', keyFile] }));
      expect(key.message).toMatch(/invalid value \(secret\) for openaiApiKey/);
      expect(key.message).not.toContain('sk-secret-in-array');
    });

    it('does not echo a secret when another value in the same file is refused', () => {
      const path = configFile({ token: 'tok-in-file-123', port: 'abc' });
      const err = configError(() => loadConfig({ argv: ['--config', path] }));
      expect(err.message).toMatch(/for port/);
      expect(err.message).not.toContain('tok-in-file-123');
    });
  });

  describe('config file', () => {
    it('reports a file that cannot be read', () => {
      const missing = join(tempDir(), 'missing.json');
      expect(configError(() => loadConfig({ argv: ['--config', missing] })).message).toBe(`cannot read config file ${missing}: ENOENT`);
    });

    it('reports a file that is not JSON', () => {
      const path = configFile('{ "port": 1, }');
      expect(configError(() => loadConfig({ argv: ['--config', path] })).message).toMatch(new RegExp(`^config file ${path} is not valid JSON: `));
    });

    it('refuses JSON that is not an object', () => {
      for (const content of ['[]', '42', 'null']) {
        const path = configFile(content);
        expect(configError(() => loadConfig({ argv: ['--config', path] })).message, content).toBe(`config file ${path} must hold a JSON object`);
      }
    });

    it('refuses unknown keys, including kebab-case ones, and names them', () => {
      const path = configFile({ port: 1, colour: 'blue', 'data-dir': '/x' });
      expect(configError(() => loadConfig({ argv: ['--config', path] })).message).toBe(`config file ${path}: unknown option "colour", "data-dir"`);
    });
  });

  describe('authMode none', () => {
    it('is refused on a non-loopback host', () => {
      for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.com']) {
        const err = configError(() => loadConfig({ argv: ['--auth-mode', 'none', '--host', host] }));
        expect(err.message, host).toBe(`authMode none is only allowed on a loopback host, not ${host}`);
      }
    });

    it('is allowed on loopback hosts', () => {
      for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
        expect(loadConfig({ argv: ['--auth-mode', 'none', '--host', host] }).authMode, host).toBe('none');
      }
    });

    it('does not restrict token auth on any host', () => {
      expect(loadConfig({ argv: ['--host', '0.0.0.0'] }).host).toBe('0.0.0.0');
    });
  });
});

describe('effectiveModel', () => {
  it('is the configured model, else the provider default', () => {
    expect(effectiveModel(loadConfig())).toBe('local-echo');
    expect(effectiveModel(loadConfig({ argv: ['--provider', 'openai'] }))).toBe('gpt-4o-mini');
    expect(effectiveModel(loadConfig({ argv: ['--model', 'llama3'] }))).toBe('llama3');
  });
});
