/**
 * Finds the agents of a workspace: every subfolder whose name is a valid agent id and that holds at least one
 * identity file. Folders with other names are ignored (with a warning when they hold identity files); so is a
 * folder named `main`, because agent main uses the workspace root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AGENT_ID_PATTERN, DEFAULT_AGENT_ID, isValidAgentId } from './files.js';
import { hasIdentityFiles } from './read-files.js';
import type { WatchTargets } from './watch.js';

export interface Discovery extends WatchTargets {
  /** Agent ids other than main, sorted. */
  agents: string[];
  /** Why folders were skipped, keyed by folder name (for warn-once logging). */
  skipped: Map<string, string>;
}

function listEntries(workspace: string): fs.Dirent[] {
  try {
    return fs.readdirSync(workspace, { withFileTypes: true });
  } catch {
    return []; // an unlistable workspace has no other agents; main's own files are still tried by name
  }
}

function subfolders(workspace: string): Array<{ name: string; ino: number }> {
  const found: Array<{ name: string; ino: number }> = [];
  for (const entry of listEntries(workspace)) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    try {
      const st = fs.statSync(path.join(workspace, entry.name));
      if (st.isDirectory()) found.push({ name: entry.name, ino: st.ino });
    } catch {
      // A dangling symlink or a folder removed meanwhile is simply not an agent.
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Reads the workspace root; `maxWatched` bounds how many folders are proposed for watching (agents first). */
export function discoverAgents(workspace: string, maxWatched: number): Discovery {
  let rootIno: number | undefined;
  let folders: Array<{ name: string; ino: number }> = [];
  try {
    const st = fs.statSync(workspace);
    if (st.isDirectory()) {
      rootIno = st.ino;
      folders = subfolders(workspace);
    }
  } catch {
    rootIno = undefined;
  }
  const agents: string[] = [];
  const skipped = new Map<string, string>();
  for (const { name } of folders) {
    if (!hasIdentityFiles(path.join(workspace, name))) continue;
    if (name === DEFAULT_AGENT_ID) skipped.set(name, 'a folder named main is ignored: agent main uses the workspace root');
    else if (!isValidAgentId(name)) skipped.set(name, `folder name is not a valid agent id (${String(AGENT_ID_PATTERN)})`);
    else agents.push(name);
  }
  const candidates = folders.filter((f) => isValidAgentId(f.name) && f.name !== DEFAULT_AGENT_ID);
  const isAgent = (f: { name: string }): boolean => agents.includes(f.name);
  const watched = [...candidates.filter(isAgent), ...candidates.filter((f) => !isAgent(f))];
  if (watched.length > maxWatched) {
    skipped.set('*', `more than ${maxWatched} subfolders; the rest are not watched (re-checks still see them)`);
  }
  return { rootIno, folders: watched.slice(0, maxWatched), agents, skipped };
}
