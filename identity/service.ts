/**
 * The identity service: one current, frozen packet per agent, rebuilt when the agent's files change.
 * Changes are seen two ways: fs.watch (debounced), and a cheap `stat` re-check that `packet()` and `agentIds()`
 * do at most every `recheckIntervalMs`, for file systems where watching is unreliable. A caller that holds a
 * packet keeps it: a rebuild makes a new packet and never touches the old one.
 */
import path from 'node:path';
import type { IdentityChangeListener, IdentityPacket, LiveIdentityService } from './types.js';
import { discoverAgents } from './discover.js';
import { DEFAULT_AGENT_ID, agentDir, isValidAgentId } from './files.js';
import {
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_MAX_WATCHED_FOLDERS,
  DEFAULT_RECHECK_INTERVAL_MS,
  DEFAULT_WORKSPACE_POLL_MS,
  resolveLimits,
  type IdentityLimits,
} from './limits.js';
import type { IdentityLogger } from './logger.js';
import { buildPacket } from './packet.js';
import { fingerprintAgentFiles, readAgentFiles } from './read-files.js';
import { logPacket } from './log-packet.js';
import { WorkspaceWatcher } from './watch.js';

export interface IdentityServiceOptions {
  /** The workspace folder (relative paths resolve against the current directory). */
  workspace: string;
  /** A pino logger or anything with `warn`, `info` and `debug`. */
  logger: IdentityLogger;
  /** Quiet time after file events before rebuilding, in ms; default {@link DEFAULT_DEBOUNCE_MS} (100). */
  debounceMs?: number;
  /** Character and byte limits; defaults in `limits.ts`. */
  limits?: Partial<IdentityLimits>;
  /** Least time between two `stat` re-checks of one agent, in ms; default {@link DEFAULT_RECHECK_INTERVAL_MS} (1000). */
  recheckIntervalMs?: number;
  /** Poll interval while the workspace folder is missing, in ms; default {@link DEFAULT_WORKSPACE_POLL_MS} (1000). */
  workspacePollMs?: number;
  /** Most agent folders watched; default {@link DEFAULT_MAX_WATCHED_FOLDERS} (256). */
  maxWatchedFolders?: number;
  /** Use fs.watch; default true. With false, changes are seen only by re-checks. */
  watch?: boolean;
  /** Monotonic clock in ms for the re-check interval; default `performance.now`. */
  now?: () => number;
}

interface AgentEntry {
  packet: IdentityPacket;
  fingerprint: string;
  checkedAt: number;
}

/** Loads every agent's identity now (synchronously) and keeps it current until `close()`. */
export function createIdentityService(options: IdentityServiceOptions): LiveIdentityService {
  return new IdentityServiceImpl(options);
}

class IdentityServiceImpl implements LiveIdentityService {
  readonly #workspace: string;
  readonly #log: IdentityLogger;
  readonly #limits: Readonly<IdentityLimits>;
  readonly #recheckMs: number;
  readonly #maxWatched: number;
  readonly #now: () => number;
  readonly #agents = new Map<string, AgentEntry>();
  readonly #listeners = new Set<IdentityChangeListener>();
  readonly #warned = new Set<string>();
  readonly #watcher: WorkspaceWatcher | undefined;
  #discoveredAt = Number.NEGATIVE_INFINITY;
  /** False while the constructor loads: the first packets are not changes. */
  #ready = false;
  #closed = false;

  constructor(o: IdentityServiceOptions) {
    this.#workspace = path.resolve(o.workspace);
    this.#log = o.logger;
    this.#limits = resolveLimits(o.limits);
    this.#recheckMs = o.recheckIntervalMs ?? DEFAULT_RECHECK_INTERVAL_MS;
    this.#maxWatched = o.maxWatchedFolders ?? DEFAULT_MAX_WATCHED_FOLDERS;
    this.#now = o.now ?? (() => performance.now());
    if (o.watch ?? true) {
      this.#watcher = new WorkspaceWatcher({
        workspace: this.#workspace,
        debounceMs: o.debounceMs ?? DEFAULT_DEBOUNCE_MS,
        pollMs: o.workspacePollMs ?? DEFAULT_WORKSPACE_POLL_MS,
        logger: this.#log,
        onSettled: () => this.#refresh(),
      });
    }
    this.#refresh();
    this.#ready = true;
  }

  packet(agentId: string): IdentityPacket {
    try {
      const known = this.#agents.get(agentId);
      if (known) this.#recheck(agentId, known);
      else if (isValidAgentId(agentId) && !this.#closed) {
        // A folder that appeared since the last discovery: load it now rather than answer with the fallback.
        if (fingerprintAgentFiles(agentDir(this.#workspace, agentId)) !== '') this.#load(agentId);
      }
      return this.#agents.get(agentId)?.packet ?? this.#fallback(agentId);
    } catch (err) {
      this.#log.warn({ agentId, err }, 'identity: unexpected failure; using the built-in identity');
      return this.#fallback(agentId);
    }
  }

  agentIds(): string[] {
    if (this.#now() - this.#discoveredAt >= this.#recheckMs) this.#refresh();
    const others = [...this.#agents.keys()].filter((id) => id !== DEFAULT_AGENT_ID).sort();
    return [DEFAULT_AGENT_ID, ...others];
  }

  onChange(listener: IdentityChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#listeners.clear();
    return Promise.resolve();
  }

  #fallback(agentId: string): IdentityPacket {
    return buildPacket({ agentId, files: [], limits: this.#limits });
  }

  /** Reloads the agent when its files' `stat` changed, at most once per re-check interval. */
  #recheck(agentId: string, entry: AgentEntry): void {
    const now = this.#now();
    if (this.#closed || now - entry.checkedAt < this.#recheckMs) return;
    entry.checkedAt = now;
    if (fingerprintAgentFiles(agentDir(this.#workspace, agentId)) !== entry.fingerprint) this.#load(agentId);
  }

  /** Re-reads one agent's files; drops an agent (other than main) whose folder no longer has any. */
  #load(agentId: string): void {
    const dir = agentDir(this.#workspace, agentId);
    const fingerprint = fingerprintAgentFiles(dir); // before reading: a write in between shows up next time
    const before = this.#agents.get(agentId)?.packet;
    if (fingerprint === '' && agentId !== DEFAULT_AGENT_ID) {
      this.#agents.delete(agentId);
      if (!before) return;
      this.#log.info({ agentId }, 'identity: the agent folder has no identity files any more');
      this.#changed(agentId, this.#fallback(agentId));
      return;
    }
    const packet = buildPacket({ agentId, files: readAgentFiles(dir, this.#limits.maxFileBytes), limits: this.#limits });
    const unchanged = before?.hash === packet.hash;
    this.#agents.set(agentId, { packet: unchanged ? before : packet, fingerprint, checkedAt: this.#now() });
    if (unchanged) return;
    logPacket(this.#log, packet, dir, before === undefined);
    this.#changed(agentId, packet);
  }

  /** Finds agent folders, re-checks every known agent, and points the watcher at what exists now. */
  #refresh(): void {
    if (this.#closed) return;
    try {
      this.#discoveredAt = this.#now();
      const found = discoverAgents(this.#workspace, this.#maxWatched);
      for (const [folder, why] of found.skipped) this.#warnOnce(`skip:${folder}:${why}`, { folder }, `identity: ${why}`);
      const ids = new Set([DEFAULT_AGENT_ID, ...found.agents, ...this.#agents.keys()]);
      for (const id of ids) {
        const entry = this.#agents.get(id);
        if (!entry || fingerprintAgentFiles(agentDir(this.#workspace, id)) !== entry.fingerprint) this.#load(id);
      }
      this.#watcher?.sync(found);
    } catch (err) {
      this.#log.warn({ workspace: this.#workspace, err }, 'identity: cannot scan the workspace');
    }
  }

  #changed(agentId: string, packet: IdentityPacket): void {
    if (!this.#ready) return;
    queueMicrotask(() => {
      if (this.#closed) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener(agentId, packet);
        } catch (err) {
          this.#log.warn({ agentId, err }, 'identity: a change listener threw');
        }
      }
    });
  }

  #warnOnce(key: string, obj: object, msg: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn({ workspace: this.#workspace, ...obj }, msg);
  }
}
