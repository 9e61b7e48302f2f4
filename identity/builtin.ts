/** The built-in identity: used for every field and for the prompt text that the files do not provide. */
import { DEFAULT_AGENT_ID, isValidAgentId } from './files.js';

/** Name of the default agent when no file sets one; other agents default to their id. */
export const BUILTIN_NAME = 'brainstem';
export const BUILTIN_EMOJI = '🧠';
/** The `file` of the source entry that stands for built-in text. */
export const BUILTIN_SOURCE = 'builtin';

/** The name used when no file sets one. */
export function builtinName(agentId: string): string {
  return agentId !== DEFAULT_AGENT_ID && isValidAgentId(agentId) ? agentId : BUILTIN_NAME;
}

/** The system prompt used when no file contributes text; `name` is the agent's effective name. */
export function builtinPrompt(name: string): string {
  return [
    `You are ${name}, an AI assistant.`,
    'Be helpful, honest and brief. Say plainly when you do not know something or cannot do it,',
    'and never claim to have done something you have not done.',
  ].join(' ');
}
