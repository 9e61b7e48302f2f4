/**
 * Which extensions this gateway offers, from the feature flags. A client gets an extension only when it asks
 * for it in `connect.caps` and it is offered here; extension methods are unknown when their extension is off.
 */
import { ExtensionCap } from '../protocol/capabilities.js';
import { METHODS, METHOD_NAMES, type MethodName } from '../protocol/registry.js';
import type { MethodDef } from '../protocol/schema.js';
import type { Config } from './config-options.js';

/** Extensions this build implements; a flag can only turn off what is here. */
const IMPLEMENTED: readonly ExtensionCap[] = [ExtensionCap.MEMORY_V1];

export function offeredExtensions(config: Pick<Config, 'memoryV1' | 'agentRuntimeV1'>): ExtensionCap[] {
  const enabled = { [ExtensionCap.MEMORY_V1]: config.memoryV1, [ExtensionCap.AGENT_PLAN_V1]: config.agentRuntimeV1 };
  return IMPLEMENTED.filter((cap) => enabled[cap]);
}

/** A method is served when it is core OpenClaw or its extension is offered. */
export function methodEnabled(method: MethodName, offered: readonly ExtensionCap[]): boolean {
  const def: MethodDef = METHODS[method];
  return def.extension === undefined || offered.includes(def.extension);
}

export function enabledMethods(offered: readonly ExtensionCap[]): MethodName[] {
  return METHOD_NAMES.filter((method) => methodEnabled(method, offered));
}
