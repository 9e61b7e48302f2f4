/**
 * The planner for real models: one extra, non-streamed model call after the reply, asking for the plan as
 * JSON (plan-schema.ts). The answer is parsed with recovery (parse-plan.ts). A timeout, a provider error or
 * an answer without a valid plan all mean "no plan": the turn keeps its reply and ends as it would have.
 */
import type { ModelMessage, ModelProvider } from '../providers/types.js';
import { parsePlan } from './parse-plan.js';
import type { Plan } from './plan.js';

/** Characters of the planning answer read at most; the call is cut there. */
export const PLAN_ANSWER_MAX_CHARS = 65_536;

export const PLANNER_INSTRUCTIONS = `You are the planner of an agent. Decide whether the user's goal needs work beyond the reply already given.
Workers available (deterministic, no model): "research" searches the workspace documents; "execution" records a step as done or asks for approval; "status" reports progress of the other tasks.
Answer with one JSON object and nothing else:
{"goal": "<short goal>", "tasks": [{"id": "t1", "title": "<short task>", "worker": "research" | "execution" | "status", "dependsOn": ["<id of an earlier task>"]}]}
Use "tasks": [] when the reply already answers the goal. At most MAX tasks.`;

export interface ModelPlanRequest {
  goal: string;
  reply: string;
  model: string;
  runId: string;
  maxTasks: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ModelPlanOutcome {
  plan: Plan | undefined;
  /** Why there is no plan: `no-plan` (valid, empty), `invalid`, `timeout`, `error`. */
  reason?: 'no-plan' | 'invalid' | 'timeout' | 'error';
  error?: unknown;
}

export function planningMessages(goal: string, reply: string, maxTasks: number): ModelMessage[] {
  return [
    { role: 'system', content: PLANNER_INSTRUCTIONS.replace('MAX', String(maxTasks)) },
    { role: 'user', content: `Goal:\n${goal}\n\nReply already given:\n${reply}\n\nAnswer with the JSON plan only.` },
  ];
}

/** Asks the model for a plan; never throws (the run's own abort is rethrown for the caller to see). */
export async function planWithModel(provider: ModelProvider, request: ModelPlanRequest): Promise<ModelPlanOutcome> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  let answer = '';
  try {
    const stream = provider.stream({ model: request.model, messages: planningMessages(request.goal, request.reply, request.maxTasks), signal, runId: `${request.runId}:plan` });
    for await (const event of stream) {
      if (event.type !== 'text') continue;
      answer += event.text;
      if (answer.length >= PLAN_ANSWER_MAX_CHARS) break;
    }
  } catch (err) {
    request.signal.throwIfAborted();
    return { plan: undefined, reason: timeout.aborted ? 'timeout' : 'error', error: err };
  }
  request.signal.throwIfAborted();
  const plan = parsePlan(answer, { goal: request.goal, maxTasks: request.maxTasks });
  if (plan === undefined) return { plan: undefined, reason: 'invalid' };
  return plan.tasks.length === 0 ? { plan: undefined, reason: 'no-plan' } : { plan };
}
