/**
 * First run: a workspace folder with short example files, so a new user sees where to write. Everything meant
 * for the user is in HTML comments, which never reach the model; what remains gives a small, sensible packet.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IdentityLogger } from './logger.js';

/** The example files written by `ensureWorkspace`, by name. */
export const EXAMPLE_FILES: Readonly<Record<'SOUL.md' | 'AGENT.md' | 'IDENTITY.md' | 'USER.md', string>> = {
  'SOUL.md': `<!--
  SOUL.md: who the agent is (values, tone, limits). brainstem merges SOUL.md > AGENT.md > IDENTITY.md > USER.md:
  when two files use the same front-matter key or the same "## Heading", the file earlier in that list wins.
  HTML comments like this one never reach the model. Changes are picked up without a restart.
-->
You are a helpful, honest assistant. Say plainly when you do not know something or cannot do it.

## Boundaries

- Never claim to have done something you have not done.
- Ask before doing anything that cannot be undone.
`,
  'AGENT.md': `<!--
  AGENT.md (OpenClaw's AGENTS.md works too): how the agent works — procedures, habits, tools.
-->
## How you work

- Keep answers short unless asked for detail.
- For a task with several steps, say what you plan to do before you start.
`,
  'IDENTITY.md': `---
name: brainstem
emoji: 🧠
creature: a small gateway brain
vibe: calm, direct
---
<!--
  IDENTITY.md: how the agent presents itself. The front matter above sets the name, emoji, avatar, creature and
  vibe that clients show; OpenClaw-style lines such as "- **Name:** Clawd" work too.
-->
`,
  'USER.md': `<!--
  USER.md: about you, the human (at most 4,000 characters; lowest precedence). For example:

  ## About the user

  - Name: Ada
  - Time zone: Europe/Berlin
  - Prefers short answers
-->
`,
};

/**
 * Creates `dir` with the example files when it does not exist; leaves an existing folder alone (even an empty
 * one). Returns true when it created the folder. Never overwrites a file.
 */
export function ensureWorkspace(dir: string, log: IdentityLogger): boolean {
  const workspace = path.resolve(dir);
  if (fs.existsSync(workspace)) return false;
  fs.mkdirSync(workspace, { recursive: true });
  for (const [name, text] of Object.entries(EXAMPLE_FILES)) {
    try {
      fs.writeFileSync(path.join(workspace, name), text, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const msg = 'identity: created the workspace with example files; edit them to shape the agent';
  log.info({ workspace, files: Object.keys(EXAMPLE_FILES) }, msg);
  return true;
}
