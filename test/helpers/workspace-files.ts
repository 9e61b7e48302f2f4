/** A temp folder holding the given files, for tests that read a workspace (research, heartbeat). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** A temp workspace holding `files` (relative path → text); removed when the test finishes. */
export function workspaceWith(files: Record<string, string>): string {
  const root = tempDir('brainstem-ws-');
  for (const [path, text] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return root;
}
