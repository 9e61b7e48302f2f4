/**
 * The method registry: name → definition. Validators, scope checks, `hello-ok.features.methods` and the
 * handler table are all derived from this one object.
 */
import type { Static } from '@sinclair/typebox';
import { agentMethods } from './methods/agent.js';
import { chatMethods } from './methods/chat.js';
import { memoryMethods } from './methods/memory.js';
import { sessionsMethods } from './methods/sessions.js';
import { systemMethods } from './methods/system.js';
import type { MethodDef } from './schema.js';

export const METHODS = {
  ...systemMethods,
  ...chatMethods,
  ...agentMethods,
  ...sessionsMethods,
  ...memoryMethods,
  /** protocol-extensions.md: `session.send` is an alias of `sessions.send`. */
  'session.send': sessionsMethods['sessions.send'],
} as const satisfies Record<string, MethodDef>;

export type MethodName = keyof typeof METHODS;
export type MethodParams<N extends MethodName> = Static<(typeof METHODS)[N]['params']>;
export type MethodResult<N extends MethodName> = Static<(typeof METHODS)[N]['result']>;

export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, name);
}
