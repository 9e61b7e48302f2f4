/**
 * Synchronous, bounded reads of one agent's identity files. Sync on purpose: `packet()` is synchronous, the
 * files are few and each read stops at `maxFileBytes`. Opening uses O_NONBLOCK so a FIFO named SOUL.md cannot
 * hang the process; anything that is not a regular file is reported, never read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { IDENTITY_FILE_NAMES, type IdentityFileName } from './files.js';

/** One identity file as found on disk: its bytes (at most `maxFileBytes`) or why it could not be read. */
export type RawFile =
  | { name: IdentityFileName; kind: 'bytes'; bytes: Uint8Array; sizeOnDisk: number }
  | { name: IdentityFileName; kind: 'error'; message: string };

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

function isAbsent(code: string): boolean {
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function readBounded(fd: number, sizeOnDisk: number, maxBytes: number): Uint8Array {
  const buf = Buffer.alloc(Math.min(sizeOnDisk, maxBytes));
  let filled = 0;
  while (filled < buf.length) {
    const n = fs.readSync(fd, buf, filled, buf.length - filled, filled);
    if (n === 0) break; // the file shrank while we read it
    filled += n;
  }
  return buf.subarray(0, filled);
}

/** Reads one file; `undefined` when it does not exist. */
export function readIdentityFile(dir: string, name: IdentityFileName, maxBytes: number): RawFile | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, name), OPEN_FLAGS);
  } catch (err) {
    const code = errorCode(err);
    return isAbsent(code) ? undefined : { name, kind: 'error', message: `cannot open (${code})` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      return { name, kind: 'error', message: st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file' };
    }
    return { name, kind: 'bytes', bytes: readBounded(fd, st.size, maxBytes), sizeOnDisk: st.size };
  } catch (err) {
    return { name, kind: 'error', message: `cannot read (${errorCode(err)})` };
  } finally {
    fs.closeSync(fd);
  }
}

/** All identity files present in `dir` (none when the folder does not exist), in precedence order. */
export function readAgentFiles(dir: string, maxBytes: number): RawFile[] {
  const found: RawFile[] = [];
  for (const name of IDENTITY_FILE_NAMES) {
    const file = readIdentityFile(dir, name, maxBytes);
    if (file) found.push(file);
  }
  return found;
}

/**
 * A cheap summary of the identity files' metadata (size, times, inode, mode): when it is unchanged, so are the
 * files, as far as `stat` can tell. Used to skip rebuilds and to re-check without trusting fs.watch.
 */
export function fingerprintAgentFiles(dir: string): string {
  const parts: string[] = [];
  for (const name of IDENTITY_FILE_NAMES) {
    try {
      const st = fs.statSync(path.join(dir, name), { bigint: true, throwIfNoEntry: false });
      if (st) parts.push(`${name}=${st.size}/${st.mtimeNs}/${st.ctimeNs}/${st.ino}/${st.mode}`);
    } catch (err) {
      const code = errorCode(err);
      if (!isAbsent(code)) parts.push(`${name}=!${code}`);
    }
  }
  return parts.join('|');
}

/** True when `dir` holds at least one identity file (readable or not). */
export function hasIdentityFiles(dir: string): boolean {
  return fingerprintAgentFiles(dir) !== '';
}
