/**
 * ajv validators derived from the registries in one place; nothing is listed by hand. Method and event
 * validators compile on first use and are kept (compiling all ~100 schemas up front costs about half a second
 * of start-up); the frame and connect validators, needed by every socket, compile at load.
 */
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

/** A validator per key of a registry, compiled the first time it is asked for. */
function lazyValidators<K extends string, D>(defs: Record<K, D>, pick: (def: D) => TSchema): (name: K) => ValidateFunction {
  const compiled = new Map<K, ValidateFunction>();
  return (name) => {
    let validate = compiled.get(name);
    if (validate === undefined) compiled.set(name, (validate = compile(pick(defs[name]))));
    return validate;
  };
}

export const validateRequestFrame = compile<RequestFrame>(RequestFrame);
export const validateConnectParams = compile<ConnectParams>(ConnectParams);
export const validateHelloOk = (): ValidateFunction => compile(HelloOk);
export const paramValidator = lazyValidators<MethodName, MethodDef>(METHODS, (def) => def.params);
export const resultValidator = lazyValidators<MethodName, MethodDef>(METHODS, (def) => def.result);
export const eventValidator = lazyValidators<EventName, EventDef>(EVENTS, (def) => def.payload);

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
