import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A fresh temp dir, removed when the test finishes (pass `keep` to remove it yourself). */
export function tempDir(prefix = 'brainstem-', options: { keep?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!options.keep) onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
