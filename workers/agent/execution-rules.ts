/**
 * ExecutionWorker's v1 rules (deterministic, no tools, no model): an execution task is recorded as done,
 * except one that needs a person —
 * - approval: the title says approve / approval / sign off / confirm / authorize → blocked, needs `approval`;
 *   `agent.control resume` approves it and it is recorded as done;
 * - user input: the title is a question (ends with `?`) or says ask the user / user input / your input /
 *   clarify → blocked, needs `user-input`; `agent.control resume` goes on without it.
 */
import type { BlockedNeeds } from '../../protocol/methods/agent-plan.js';

const APPROVAL = /\b(approve|approval|sign[ -]?off|confirm|confirmation|authori[sz]e)\b/i;
const USER_INPUT = /\b(ask (?:the )?user|user input|your input|clarify)\b/i;

export function needsPerson(title: string): Exclude<BlockedNeeds, 'retry'> | undefined {
  if (APPROVAL.test(title)) return 'approval';
  if (title.trim().endsWith('?') || USER_INPUT.test(title)) return 'user-input';
  return undefined;
}

/** The structured result of an execution task. */
export interface ExecutionResult {
  kind: 'execution';
  step: string;
  outcome: 'recorded' | 'approved' | 'resumed-without-input';
  /** Task ids whose results this step had. */
  inputs: string[];
}
