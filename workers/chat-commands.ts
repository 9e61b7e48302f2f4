/**
 * Slash commands brainstem answers itself when they start a chat message (`chat.send`, `sessions.send`,
 * `agent`), as OpenClaw's gateway does: the OpenClaw TUI and Control UI send `/status`, `/help`, `/models` as
 * chat text. A command is a turn like any other — stored, acked, answered in order, idempotent — whose reply
 * comes from brainstem instead of the model. Its side effect (`/new` resets the session, `/stop` aborts its
 * runs) happens once, when the request is new.
 */
import type { ModelInfo } from './providers/types.js';
import type { SessionService } from './session-service.js';
import type { TurnService } from './turn-service.js';

export interface ChatCommandSpec {
  name: string;
  description: string;
  acceptsArgs: boolean;
}

export const CHAT_COMMANDS: readonly ChatCommandSpec[] = [
  { name: 'help', description: 'List the commands brainstem answers itself.', acceptsArgs: false },
  { name: 'commands', description: 'Same as /help.', acceptsArgs: false },
  { name: 'status', description: 'Session, model and gateway status.', acceptsArgs: false },
  { name: 'models', description: 'Configured models and whether they can answer.', acceptsArgs: false },
  { name: 'new', description: 'Start a new session (a fresh transcript under a new session id).', acceptsArgs: false },
  { name: 'reset', description: 'Same as /new.', acceptsArgs: false },
  { name: 'stop', description: 'Stop the running and queued turns of this session.', acceptsArgs: false },
];

const NAMES = new Set(CHAT_COMMANDS.map((c) => c.name));

/** The command a message starts with, if it is one brainstem knows (`/name`, optionally followed by text). */
export function parseChatCommand(message: string): { name: string; args: string } | undefined {
  const match = /^\/([a-z]+)(?:\s+([\s\S]*))?$/i.exec(message.trim());
  const name = match?.[1]?.toLowerCase();
  if (name === undefined || !NAMES.has(name)) return undefined;
  return { name, args: match?.[2]?.trim() ?? '' };
}

/** What a command turn does: its side effect (run once) and its reply (computed after the effect). */
export interface CommandTurn {
  effect?: () => void;
  reply: () => string;
}

export interface CommandDeps {
  sessions: SessionService;
  turns: TurnService;
  models: () => ModelInfo[];
  defaultModel: () => string;
  version: string;
  uptimeMs: () => number;
}

export function commandTurn(name: string, sessionKey: string, agentId: string, deps: CommandDeps): CommandTurn {
  switch (name) {
    case 'new':
    case 'reset':
      return { effect: () => void deps.sessions.reset(sessionKey, agentId, name), reply: () => 'New session started.' };
    case 'stop': {
      let stopped = 0;
      return {
        effect: () => void (stopped = deps.turns.abort(sessionKey, { clearQueued: true }).length),
        reply: () => (stopped === 0 ? 'Nothing was running.' : `Stopped ${stopped} run${stopped === 1 ? '' : 's'}.`),
      };
    }
    case 'status':
      return { reply: () => statusText(sessionKey, deps) };
    case 'models':
      return { reply: () => modelsText(deps) };
    default:
      return { reply: helpText };
  }
}

function helpText(): string {
  return ['Commands brainstem answers itself:', ...CHAT_COMMANDS.map((c) => `/${c.name} — ${c.description}`)].join('\n');
}

function modelsText(deps: CommandDeps): string {
  const lines = deps.models().map((m) => `${m.id} (${m.provider})${m.available ? '' : ' — unavailable: no API key'}`);
  return [`Default model: ${deps.defaultModel()}`, 'Configured models, in failover order:', ...lines].join('\n');
}

function statusText(sessionKey: string, deps: CommandDeps): string {
  const session = deps.sessions.get(sessionKey);
  const runs = deps.turns.stats();
  const uptimeMin = Math.floor(deps.uptimeMs() / 60_000);
  return [
    `brainstem ${deps.version}, up ${uptimeMin} min`,
    `Session ${sessionKey}${session === undefined ? '' : ` (${session.sessionId}): ${session.messageCount} messages, ${session.inputTokens + session.outputTokens} tokens`}`,
    `Model: ${deps.defaultModel()}`,
    `Runs: ${runs.running} running, ${runs.queued} queued`,
  ].join('\n');
}
