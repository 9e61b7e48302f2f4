/**
 * Watches a workspace for changes to identity files and calls back once things settle. One non-recursive
 * fs.watch on the root (main's files, agent folders appearing and going) plus one per agent folder; watching
 * directories, not files, is what makes editors that save by renaming a temp file over SOUL.md work. While the
 * root cannot be watched (it does not exist yet, or fs.watch failed) a poll timer triggers the callback instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isIdentityFileName } from './files.js';
import type { IdentityLogger } from './logger.js';

export interface WorkspaceWatcherOptions {
  workspace: string;
  /** Quiet time after the last relevant event, in ms. */
  debounceMs: number;
  /** Poll interval while the root is not watched, in ms. */
  pollMs: number;
  logger: IdentityLogger;
  /** Called after the debounce; the owner re-reads what changed and then calls `sync()`. */
  onSettled: () => void;
}

/** A watched folder: its watcher and the inode it was opened on (a folder replaced by a new one is re-watched). */
interface Watched {
  watcher: fs.FSWatcher;
  ino: number;
}

/** What `sync()` is told about the workspace: the root's inode (undefined: no folder) and the folders to watch. */
export interface WatchTargets {
  rootIno: number | undefined;
  folders: ReadonlyArray<{ name: string; ino: number }>;
}

export class WorkspaceWatcher {
  readonly #opts: WorkspaceWatcherOptions;
  #root: Watched | undefined;
  readonly #folders = new Map<string, Watched>();
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: WorkspaceWatcherOptions) {
    this.#opts = opts;
  }

  /** Makes the watchers match the workspace as just read by the owner. */
  sync({ rootIno, folders }: WatchTargets): void {
    if (this.#closed) return;
    if (this.#root && this.#root.ino !== rootIno) this.#closeAll();
    if (!this.#root && rootIno !== undefined) {
      this.#root = this.#watch(this.#opts.workspace, rootIno, (type, name) => type === 'rename' || isRelevant(name));
    }
    for (const [name, watched] of this.#folders) {
      if (!this.#root || !folders.some((f) => f.name === name && f.ino === watched.ino)) this.#stop(name);
    }
    for (const { name, ino } of this.#root ? folders : []) {
      if (this.#folders.has(name)) continue;
      const watched = this.#watch(path.join(this.#opts.workspace, name), ino, (_type, file) => isRelevant(file));
      if (watched) this.#folders.set(name, watched);
    }
    this.#setPolling(!this.#root);
  }

  /** Stops everything; safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#closeAll();
    this.#setPolling(false);
    clearTimeout(this.#debounce);
  }

  #watch(dir: string, ino: number, relevant: (type: string, file: string | null) => boolean): Watched | undefined {
    try {
      const watcher = fs.watch(dir, { persistent: false }, (type, file) => {
        if (relevant(type, file)) this.#schedule();
      });
      const watched = { watcher, ino };
      watcher.on('error', (err) => {
        this.#opts.logger.debug({ dir, err }, 'identity watcher failed; re-checking the workspace');
        if (watched === this.#root) this.#closeAll();
        for (const [name, w] of this.#folders) if (w === watched) this.#stop(name);
        watcher.close();
        this.#schedule();
      });
      return watched;
    } catch (err) {
      this.#opts.logger.debug({ dir, err }, 'cannot watch folder; changes are picked up by re-checks');
      return undefined;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#opts.onSettled(), this.#opts.debounceMs);
    this.#debounce.unref();
  }

  #setPolling(on: boolean): void {
    if (on && !this.#poll && !this.#closed) {
      this.#poll = setInterval(() => this.#schedule(), this.#opts.pollMs);
      this.#poll.unref();
    } else if (!on && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }

  #stop(name: string): void {
    this.#folders.get(name)?.watcher.close();
    this.#folders.delete(name);
  }

  #closeAll(): void {
    this.#root?.watcher.close();
    this.#root = undefined;
    for (const name of [...this.#folders.keys()]) this.#stop(name);
  }
}

/** Events about identity files matter; so does an event without a file name (some platforms omit it). */
function isRelevant(file: string | null): boolean {
  return file === null || isIdentityFileName(file);
}
