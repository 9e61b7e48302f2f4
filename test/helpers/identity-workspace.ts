/** Temp workspaces, raw files and a recording logger for the identity tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IdentityFileName } from '../../identity/files.js';
import { DEFAULT_IDENTITY_LIMITS } from '../../identity/limits.js';
import type { IdentityLogger } from '../../identity/logger.js';
import { buildPacket } from '../../identity/packet.js';
import type { RawFile } from '../../identity/read-files.js';
import type { IdentityPacket } from '../../identity/types.js';

export interface TempWorkspace {
  /** The workspace folder (inside a fresh temp dir; it does not exist until something is written). */
  dir: string;
  /** Writes a file relative to the workspace, creating folders as needed. */
  write(rel: string, content: string | Uint8Array): string;
  /** Writes to a temp file beside the target, then renames it over the target, like many editors do. */
  replace(rel: string, content: string): void;
  path(rel: string): string;
  /** Removes the whole temp dir; safe to call twice. */
  cleanup(): void;
}

export function makeTempWorkspace(): TempWorkspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'brainstem-identity-'));
  const dir = path.join(root, 'workspace');
  const at = (rel: string): string => path.join(dir, rel);
  return {
    dir,
    path: at,
    write(rel, content) {
      fs.mkdirSync(path.dirname(at(rel)), { recursive: true });
      fs.writeFileSync(at(rel), content);
      return at(rel);
    },
    replace(rel, content) {
      const tmp = `${at(rel)}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, content);
      fs.renameSync(tmp, at(rel));
    },
    cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface LogEntry {
  level: 'warn' | 'info' | 'debug';
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps every entry. */
export class RecordingLogger implements IdentityLogger {
  readonly entries: LogEntry[] = [];
  warn(obj: object, msg = ''): void {
    this.entries.push({ level: 'warn', obj: { ...obj }, msg });
  }
  info(obj: object, msg = ''): void {
    this.entries.push({ level: 'info', obj: { ...obj }, msg });
  }
  debug(obj: object, msg = ''): void {
    this.entries.push({ level: 'debug', obj: { ...obj }, msg });
  }
  warnings(): LogEntry[] {
    return this.entries.filter((e) => e.level === 'warn');
  }
}

const encoder = new TextEncoder();

/** Raw files as the reader would return them, from text (or bytes) by file name. */
export function rawFiles(files: Partial<Record<IdentityFileName, string | Uint8Array>>): RawFile[] {
  return Object.entries(files).map(([name, content]) => {
    const bytes = typeof content === 'string' ? encoder.encode(content) : (content as Uint8Array);
    return { name: name as IdentityFileName, kind: 'bytes', bytes, sizeOnDisk: bytes.length };
  });
}

/** The packet of `main` for these files, with the default limits unless given. */
export function packetOf(
  files: Partial<Record<IdentityFileName, string | Uint8Array>>,
  limits = DEFAULT_IDENTITY_LIMITS,
): IdentityPacket {
  return buildPacket({ agentId: 'main', files: rawFiles(files), limits });
}

/** Resolves when `check` returns true, polling every 5 ms; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
