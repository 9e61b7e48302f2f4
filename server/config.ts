/**
 * Loads the configuration once at start: flag > environment > config file > default, each value validated
 * against its option definition. This is the only file that reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import { formatValidationErrors } from '../protocol/validators.js';
import { OPTIONS, envName, flagName, type Config, type ModelEntry, type OptionDef, type OptionName } from './config-options.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Overrides applied above everything else (tests, embedding). */
  overrides?: Partial<Record<OptionName, unknown>>;
}

const NAMES = Object.keys(OPTIONS) as OptionName[];

export function loadConfig(sources: ConfigSources = {}): Config {
  const flags = parseFlags(sources.argv ?? []);
  const env = sources.env ?? {};
  const overrides = sources.overrides ?? {};
  const fromEnv = (name: OptionName): string | undefined => {
    const def: OptionDef<unknown> = OPTIONS[name];
    for (const key of [envName(name), ...(def.envAliases ?? [])]) if (env[key] !== undefined && env[key] !== '') return env[key];
    return undefined;
  };

  const configPath = (overrides.config ?? flags.config ?? fromEnv('config')) as string | undefined;
  const file = configPath === undefined ? {} : readConfigFile(configPath);

  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const def: OptionDef<unknown> = OPTIONS[name];
    if (name in overrides) out[name] = parseValue(name, def, overrides[name], 'override');
    else if (flags[name] !== undefined) out[name] = parseValue(name, def, flags[name], flagName(name));
    else if (fromEnv(name) !== undefined) out[name] = parseValue(name, def, fromEnv(name), envName(name));
    else if (file[name] !== undefined) out[name] = parseValue(name, def, file[name], `${configPath}: ${name}`);
    else out[name] = def.default;
  }
  const config = out as Config;
  checkCombinations(config);
  return config;
}

/** The CLI entry's view: process arguments and environment. */
export function loadConfigFromProcess(): Config {
  return loadConfig({ argv: process.argv.slice(2), env: process.env });
}

function parseFlags(argv: readonly string[]): Partial<Record<OptionName, string>> {
  const options: Record<string, { type: 'string' }> = {};
  const byFlag = new Map<string, OptionName>();
  for (const name of NAMES) {
    const flag = flagName(name).slice(2);
    options[flag] = { type: 'string' };
    byFlag.set(flag, name);
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run with --help for the list of options.`);
  }
  const out: Partial<Record<OptionName, string>> = {};
  for (const [flag, value] of Object.entries(values)) {
    const name = byFlag.get(flag);
    if (name !== undefined && typeof value === 'string') out[name] = value;
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  const unknown = Object.keys(parsed).filter((key) => !(NAMES as string[]).includes(key));
  if (unknown.length > 0) throw new ConfigError(`config file ${path}: unknown option ${unknown.map((k) => `"${k}"`).join(', ')}`);
  return parsed as Record<string, unknown>;
}

function parseValue(name: OptionName, def: OptionDef<unknown>, raw: unknown, origin: string): unknown {
  const fail = (why: string): never => {
    const shown = def.secret ? '(secret)' : JSON.stringify(raw);
    throw new ConfigError(`invalid value ${shown} for ${name} (from ${origin}): ${why}`);
  };
  switch (def.kind) {
    case 'string':
      if (typeof raw !== 'string') return fail('expected a string');
      if (raw.trim() === '') return fail('must not be empty');
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !def.values?.includes(raw)) return fail(`expected one of ${def.values?.join(', ')}`);
      return raw;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail('expected true or false');
    case 'json':
      return parseJson(def, raw, fail);
    case 'int':
    case 'number': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      if (!Number.isFinite(value)) return fail('expected a number');
      if (def.kind === 'int' && !Number.isInteger(value)) return fail('expected an integer');
      if (def.min !== undefined && value < def.min) return fail(`must be >= ${def.min}`);
      if (def.max !== undefined && value > def.max) return fail(`must be <= ${def.max}`);
      return value;
    }
  }
}

const ajv = new Ajv({ allErrors: false, strict: false });

function parseJson(def: OptionDef<unknown>, raw: unknown, fail: (why: string) => never): unknown {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return fail('expected JSON');
    }
  }
  if (def.schema === undefined) return value;
  const validate = ajv.compile(def.schema);
  if (!validate(value)) return fail(formatValidationErrors(validate.errors));
  return value;
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function checkCombinations(config: Config): void {
  if (config.authMode === 'none' && !isLoopbackHost(config.host)) {
    throw new ConfigError(`authMode none is only allowed on a loopback host, not ${config.host}`);
  }
  if (config.preauthMaxPayloadBytes > config.maxPayloadBytes) {
    throw new ConfigError('preauthMaxPayloadBytes must not exceed maxPayloadBytes');
  }
  modelChain(config, {}); // validates `fallbacks`
}

const DEFAULT_MODELS = { local: 'local-echo', openai: 'gpt-4o-mini', anthropic: 'claude-sonnet-4-5' } as const;

/** The primary model id in effect: the configured one or the provider's default. */
export function effectiveModel(config: Config): string {
  const first = config.models?.[0];
  if (first !== undefined) return first.model;
  return config.model ?? DEFAULT_MODELS[config.provider];
}

/** Default vendor model id of a provider kind. */
export function defaultModelOf(provider: keyof typeof DEFAULT_MODELS): string {
  return DEFAULT_MODELS[provider];
}

/**
 * The configured models in failover order, with API keys resolved (`apiKeyEnv` read here, the one place that
 * reads the environment). From `models` when set, else from provider/model/fallbacks and the per-provider
 * base URL and key options.
 */
export function modelChain(config: Config, env: Readonly<Record<string, string | undefined>> = process.env): ModelEntry[] {
  if (config.models !== undefined) {
    return config.models.map(({ apiKeyEnv, ...entry }) => {
      const apiKey = entry.apiKey ?? (apiKeyEnv === undefined ? undefined : env[apiKeyEnv]);
      return { ...entry, ...(apiKey === undefined || apiKey === '' ? {} : { apiKey }) };
    });
  }
  const entry = (provider: ModelEntry['provider'], model: string, id: string): ModelEntry => {
    const key = provider === 'openai' ? config.openaiApiKey : provider === 'anthropic' ? config.anthropicApiKey : undefined;
    const baseUrl = provider === 'openai' ? config.openaiBaseUrl : provider === 'anthropic' ? config.anthropicBaseUrl : undefined;
    return { id, provider, model, ...(baseUrl === undefined ? {} : { baseUrl }), ...(key === undefined ? {} : { apiKey: key }) };
  };
  const primary = {
    ...entry(config.provider, effectiveModel(config), effectiveModel(config)),
    ...(config.contextWindow === undefined ? {} : { contextWindow: config.contextWindow }),
    ...(config.maxOutputTokens === undefined ? {} : { maxOutputTokens: config.maxOutputTokens }),
  };
  const fallbacks = (config.fallbacks ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [primary, ...fallbacks.map((spec) => {
    const [provider, model] = spec.split(':', 2) as [string, string | undefined];
    if (provider !== 'openai' && provider !== 'anthropic' && provider !== 'local') {
      throw new ConfigError(`invalid fallback "${spec}": expected provider:model with provider openai, anthropic or local`);
    }
    const id = model ?? defaultModelOf(provider);
    return entry(provider, id, id);
  })];
}

export { isLoopbackHost };
