/**
 * The JSON plan a real model is asked for, defined once (TypeBox) and validated with ajv:
 * `{"goal"?: string, "tasks": [{"id"?, "title", "worker"?: "research"|"execution"|"status", "dependsOn"?: (id | 1-based position)[]}]}`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';

/** Most tasks a model plan may list (more is not a plan, it is noise); the kept number is planMaxTasks. */
export const MODEL_PLAN_MAX_ITEMS = 32;

const TaskRef = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 1 })]);

export const ModelPlan = Type.Object({
  goal: Type.Optional(Type.String({ maxLength: 2_000 })),
  tasks: Type.Array(
    Type.Object({
      id: Type.Optional(TaskRef),
      title: Type.String({ minLength: 1, maxLength: 1_000 }),
      worker: Type.Optional(Type.Union([Type.Literal('research'), Type.Literal('execution'), Type.Literal('status')])),
      dependsOn: Type.Optional(Type.Array(TaskRef, { maxItems: MODEL_PLAN_MAX_ITEMS })),
    }),
    { maxItems: MODEL_PLAN_MAX_ITEMS },
  ),
});
export type ModelPlan = Static<typeof ModelPlan>;

let validate: ValidateFunction<ModelPlan> | undefined;

/** ajv's check of a parsed value against ModelPlan (compiled on first use). */
export function isModelPlan(value: unknown): value is ModelPlan {
  validate ??= new Ajv({ allErrors: false, strict: false }).compile<ModelPlan>(ModelPlan);
  return validate(value);
}
