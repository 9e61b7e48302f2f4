/** The identity files, their precedence, and where an agent's files live. */
import path from 'node:path';

/** The agent that uses the workspace root itself. */
export const DEFAULT_AGENT_ID = 'main';

/** Valid agent ids; a subfolder with another name is ignored (with a warning if it holds identity files). */
export const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The four roles, highest precedence first. */
export const IDENTITY_ROLES = ['SOUL', 'AGENT', 'IDENTITY', 'USER'] as const;
export type IdentityRole = (typeof IDENTITY_ROLES)[number];

/** Every file name read, in precedence order; `AGENTS.md` (OpenClaw's name) is used only without `AGENT.md`. */
export const IDENTITY_FILE_NAMES = ['SOUL.md', 'AGENT.md', 'AGENTS.md', 'IDENTITY.md', 'USER.md'] as const;
export type IdentityFileName = (typeof IDENTITY_FILE_NAMES)[number];

const ROLE_OF: Record<IdentityFileName, IdentityRole> = {
  'SOUL.md': 'SOUL',
  'AGENT.md': 'AGENT',
  'AGENTS.md': 'AGENT',
  'IDENTITY.md': 'IDENTITY',
  'USER.md': 'USER',
};

/** The role a file plays: AGENTS.md plays AGENT. */
export function roleOf(file: IdentityFileName): IdentityRole {
  return ROLE_OF[file];
}

/** 0 for SOUL.md (wins every conflict) up to 4 for USER.md; AGENTS.md sorts right after AGENT.md. */
export function fileRank(file: string): number {
  const rank = (IDENTITY_FILE_NAMES as readonly string[]).indexOf(file);
  return rank === -1 ? IDENTITY_FILE_NAMES.length : rank;
}

/** True for the five file names read (exact case). */
export function isIdentityFileName(name: string): name is IdentityFileName {
  return (IDENTITY_FILE_NAMES as readonly string[]).includes(name);
}

/** True when `agentId` matches {@link AGENT_ID_PATTERN}; only such ids are ever turned into paths. */
export function isValidAgentId(agentId: string): boolean {
  return AGENT_ID_PATTERN.test(agentId);
}

/** The folder of an agent: the workspace root for `main`, `<workspace>/<agentId>` otherwise. */
export function agentDir(workspace: string, agentId: string): string {
  return agentId === DEFAULT_AGENT_ID ? workspace : path.join(workspace, agentId);
}

/** How notices name an agent's folder without an absolute path: `./` or `<agentId>/`. */
export function agentFolderLabel(agentId: string): string {
  return agentId === DEFAULT_AGENT_ID ? './' : `${agentId}/`;
}
