/**
 * The final part of a planned turn's reply, made from the tasks' structured results: rendered by rules
 * (the offline provider), or written by the model from the same results as JSON.
 */
import type { JobRecord } from '../jobs/job-types.js';
import type { ModelMessage } from '../providers/types.js';
import type { ResearchResult } from '../research/research-worker.js';
import type { StatusResult } from '../agent/status-worker.js';
import type { ExecutionResult } from '../agent/execution-rules.js';
import { taskState } from '../agent/task-view.js';

/** Research hits quoted per task in a rendered reply. */
export const RENDERED_HITS = 3;

/** What the brain knows of one task when it writes the final reply. */
export interface TaskOutcome {
  taskId: string;
  title: string;
  worker: string;
  state: string;
  result?: unknown;
  error?: string;
  hold?: string;
}

export function taskOutcomes(tasks: readonly JobRecord[]): TaskOutcome[] {
  return tasks.map((job) => ({
    taskId: job.id,
    title: job.title ?? job.kind,
    worker: job.kind,
    state: taskState(job),
    ...(job.result === undefined || job.result === null ? {} : { result: job.result }),
    ...(job.lastError === undefined || job.state === 'done' ? {} : { error: job.lastError }),
    ...(job.hold === undefined || job.state !== 'pending' ? {} : { hold: job.hold }),
  }));
}

function summary(outcome: TaskOutcome): string {
  switch (outcome.state) {
    case 'done':
      return `done: ${resultLine(outcome.result)}`;
    case 'blocked':
      return `blocked: ${outcome.error ?? `needs ${outcome.hold ?? 'a person'}`}`;
    case 'failed':
      return `failed: ${outcome.error ?? 'unknown error'} (agent.control retry runs it again)`;
    case 'cancelled':
      return 'cancelled';
    default:
      return outcome.hold === undefined ? outcome.state : `waiting (${outcome.hold})`;
  }
}

function resultLine(result: unknown): string {
  const kind = typeof result === 'object' && result !== null ? (result as { kind?: unknown }).kind : undefined;
  if (kind === 'research') {
    const research = result as ResearchResult;
    if (research.hits.length === 0) return `nothing found in ${research.documents} workspace documents`;
    const hits = research.hits.slice(0, RENDERED_HITS).map((hit) => `${hit.path ?? 'document'} [${hit.id}]: "${hit.snippet}"`);
    return `found ${research.hits.length} passage${research.hits.length === 1 ? '' : 's'} — ${hits.join('; ')}`;
  }
  if (kind === 'execution') {
    const execution = result as ExecutionResult;
    return execution.outcome === 'approved' ? 'approved and recorded' : execution.outcome === 'resumed-without-input' ? 'recorded without user input' : 'recorded';
  }
  if (kind === 'status') return (result as StatusResult).message;
  return 'finished';
}

/** The rules rendering: a numbered list of the tasks with their outcomes. */
export function renderResults(goal: string, outcomes: readonly TaskOutcome[]): string {
  const lines = outcomes.map((outcome, i) => `${i + 1}. ${outcome.title} — ${summary(outcome)}`);
  return `\n\nPlan: ${goal}\n${lines.join('\n')}`;
}

export const SYNTHESIS_INSTRUCTIONS =
  'You planned tasks for the user goal below and your workers finished them. Write the final answer for the user from their results (JSON). Cite research passages by their path. Say which tasks are blocked or failed and what the user can do.';

export function synthesisMessages(system: string | undefined, goal: string, reply: string, outcomes: readonly TaskOutcome[]): ModelMessage[] {
  const instructions = system === undefined || system.trim() === '' ? SYNTHESIS_INSTRUCTIONS : `${system}\n\n${SYNTHESIS_INSTRUCTIONS}`;
  return [
    { role: 'system', content: instructions },
    { role: 'user', content: `Goal:\n${goal}\n\nYour first reply:\n${reply}\n\nTask results (JSON):\n${JSON.stringify(outcomes)}` },
  ];
}
