/** ajv validators compiled in one loop over the registries; nothing is listed by hand. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { EVENTS, type EventName } from './events.js';
import { RequestFrame } from './frames.js';
import { ConnectParams, HelloOk } from './methods/connect.js';
import { METHODS, type MethodName } from './registry.js';
import type { EventDef, MethodDef } from './schema.js';

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });

function compile<T>(schema: TSchema): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

function compileAll<K extends string, D>(defs: Record<K, D>, pick: (def: D) => TSchema): Record<K, ValidateFunction> {
  const out = {} as Record<K, ValidateFunction>;
  for (const name of Object.keys(defs) as K[]) out[name] = compile(pick(defs[name]));
  return out;
}

export const validateRequestFrame = compile<RequestFrame>(RequestFrame);
export const validateConnectParams = compile<ConnectParams>(ConnectParams);
export const validateHelloOk = compile(HelloOk);
export const paramValidators: Record<MethodName, ValidateFunction> = compileAll<MethodName, MethodDef>(METHODS, (def) => def.params);
export const resultValidators: Record<MethodName, ValidateFunction> = compileAll<MethodName, MethodDef>(METHODS, (def) => def.result);
export const eventValidators: Record<EventName, ValidateFunction> = compileAll<EventName, EventDef>(EVENTS, (def) => def.payload);

/** ajv errors as one line, in OpenClaw's wording (`at /path: must ...`). */
export function formatValidationErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'unknown validation error';
  const parts = errors.map((err) => {
    const where = err.instancePath ? `at ${err.instancePath}: ` : '';
    if (err.keyword === 'required') return `${where}must have required property '${String(err.params.missingProperty)}'`;
    return `${where}${err.message ?? 'validation error'}`;
  });
  return [...new Set(parts)].join('; ');
}
