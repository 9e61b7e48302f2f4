/**
 * The gateway token when none is configured: generated once (32 random bytes, base64url), stored in the data
 * dir with mode 0600 and reused on later starts. The token itself is never logged or printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'gateway-token';

export interface StoredToken {
  token: string;
  path: string;
  generated: boolean;
}

export function ensureToken(dataDir: string): StoredToken {
  const path = join(dataDir, TOKEN_FILE);
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return { token, path, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return { token, path, generated: true };
}
