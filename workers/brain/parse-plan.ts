/**
 * A model's answer → a Plan, or undefined. The answer should be the JSON object alone, but models wrap it:
 * in a fenced block (```json … ```), or in prose. Candidates are tried in that order — the whole text, each
 * fenced block, each balanced `{…}` (or `[…]`) in the text — and the first one that parses, passes ajv
 * (plan-schema.ts) and resolves (known dependency ids, no cycles) is the plan. Nothing here throws: an answer
 * with no valid plan is no plan.
 */
import { acyclic, clip, GOAL_MAX_CHARS, TASK_TITLE_MAX_CHARS, type Plan, type PlannedTask } from './plan.js';
import { isModelPlan, type ModelPlan } from './plan-schema.js';

/** Characters of an answer searched for a plan at most. */
export const PLAN_SCAN_MAX_CHARS = 65_536;
/** Candidates tried at most. */
export const PLAN_MAX_CANDIDATES = 24;

export function parsePlan(answer: string, options: { goal: string; maxTasks: number }): Plan | undefined {
  for (const candidate of candidates(answer.slice(0, PLAN_SCAN_MAX_CHARS))) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (Array.isArray(value)) value = { tasks: value };
    if (!isModelPlan(value)) continue;
    const plan = resolve(value, options);
    if (plan !== undefined) return plan;
  }
  return undefined;
}

function* candidates(text: string): Generator<string> {
  let count = 0;
  const trimmed = text.trim();
  if (trimmed !== '') {
    count += 1;
    yield trimmed;
  }
  for (const match of text.matchAll(/```[a-zA-Z0-9_-]*[ \t]*\r?\n([\s\S]*?)```/g)) {
    if (++count > PLAN_MAX_CANDIDATES) return;
    yield (match[1] ?? '').trim();
  }
  for (const [open, close] of bracketPairs(text)) {
    if (++count > PLAN_MAX_CANDIDATES) return;
    yield text.slice(open, close + 1);
  }
}

/**
 * Every matched `{…}` and `[…]` pair, by opening position, in one pass (strings skipped; a mismatched
 * closing bracket starts over). Linear in the text, whatever it holds.
 */
function bracketPairs(text: string): [number, number][] {
  const pairs: [number, number][] = [];
  const stack: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && stack.length > 0) inString = true;
    else if (c === '{' || c === '[') stack.push(i);
    else if (c === '}' || c === ']') {
      const open = stack.pop();
      if (open !== undefined && text[open] === (c === '}' ? '{' : '[')) pairs.push([open, i]);
      else stack.length = 0;
    }
  }
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** Ids and positions → indexes; a reference to an unknown task or a cycle makes the plan invalid. */
function resolve(plan: ModelPlan, options: { goal: string; maxTasks: number }): Plan | undefined {
  const all = plan.tasks;
  const byId = new Map<string, number>();
  all.forEach((task, i) => {
    if (task.id !== undefined) byId.set(String(task.id), i);
  });
  const tasks: PlannedTask[] = [];
  for (const [i, task] of all.entries()) {
    const deps: number[] = [];
    for (const ref of task.dependsOn ?? []) {
      const index = typeof ref === 'number' && !byId.has(String(ref)) ? ref - 1 : byId.get(String(ref));
      if (index === undefined || index < 0 || index >= all.length || index === i) return undefined;
      if (!deps.includes(index)) deps.push(index);
    }
    tasks.push({ title: clip(task.title, TASK_TITLE_MAX_CHARS), worker: task.worker ?? 'execution', dependsOn: deps });
  }
  if (!acyclic(tasks)) return undefined;
  // Tasks past planMaxTasks are cut, and so are the references to them.
  const kept = tasks.slice(0, options.maxTasks).map((task) => ({ ...task, dependsOn: task.dependsOn.filter((d) => d < options.maxTasks) }));
  return { goal: clip(plan.goal ?? options.goal, GOAL_MAX_CHARS), tasks: kept };
}
