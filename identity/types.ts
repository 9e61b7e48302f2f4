/**
 * What the identity layer gives the rest of brainstem: one deterministic packet per agent, merged from the
 * agent's workspace files. The brain puts `systemPrompt` first in every model request; `agents.list` and
 * `agent.identity.get` show `fields`.
 */

export interface IdentityFields {
  name?: string;
  emoji?: string;
  avatar?: string;
  creature?: string;
  vibe?: string;
}

export interface IdentitySourceInfo {
  /** `SOUL.md`, `AGENT.md`, `AGENTS.md`, `IDENTITY.md`, `USER.md`, or `builtin`. */
  file: string;
  /** sha256 of the bytes read, hex: the whole file unless it is over `maxFileBytes` (a `truncated` notice says so). */
  sha256: string;
  /** Number of bytes read (and hashed). */
  bytes: number;
}

export interface IdentityConflict {
  /** `key:<name>` for front-matter keys, `section:<heading>` for `##` sections (spelled as the winner wrote it). */
  subject: string;
  /** The file whose key or section is used. */
  winner: string;
  /** The other files that have it, highest precedence first. */
  losers: string[];
}

export interface IdentityNotice {
  /** The file the notice is about; `./` (main) or `<agentId>/` when it is about the whole agent folder. */
  file: string;
  kind:
    | 'truncated'
    | 'missing'
    | 'unreadable'
    | 'invalid-utf8'
    | 'bad-front-matter'
    | 'duplicate-name'
    /** An `<!--` without its `-->`: the rest of the file is treated as comment. */
    | 'unclosed-comment';
  message: string;
}

export interface IdentityPacket {
  agentId: string;
  systemPrompt: string;
  fields: IdentityFields;
  /**
   * Where each field in `fields` came from: a file name, or `builtin` (feeds `agent.identity.get`'s `nameSource`).
   * Always set by `identity/`; optional so that hand-made packets in other modules' tests stay valid.
   */
  fieldSources?: Partial<Record<keyof IdentityFields, string>>;
  sources: IdentitySourceInfo[];
  conflicts: IdentityConflict[];
  notices: IdentityNotice[];
  /** sha256 over the packet's canonical JSON: equal packets, equal hash. */
  hash: string;
}

export interface IdentityService {
  /** The current packet for an agent; a turn keeps the packet it started with. */
  packet(agentId: string): IdentityPacket;
  /** Agent ids that have an identity (always includes the default agent). */
  agentIds(): string[];
  /** Stop watching files; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Called when an agent's packet changed (new hash) or a new agent appeared; for an agent whose folder went away,
 * `packet` is the built-in fallback (and the agent is no longer in `agentIds()`).
 */
export type IdentityChangeListener = (agentId: string, packet: IdentityPacket) => void;

/** The service as `createIdentityService` returns it: also tells when a packet changed. */
export interface LiveIdentityService extends IdentityService {
  /** Register a listener; returns its unsubscribe function (safe to call twice). */
  onChange(listener: IdentityChangeListener): () => void;
}
