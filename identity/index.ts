/** The identity layer's public surface: the server imports from here only. */
export type {
  IdentityChangeListener,
  IdentityConflict,
  IdentityFields,
  IdentityNotice,
  IdentityPacket,
  IdentityService,
  IdentitySourceInfo,
  LiveIdentityService,
} from './types.js';
export type { IdentityLogger } from './logger.js';
export { createIdentityService, type IdentityServiceOptions } from './service.js';
export { ensureWorkspace, EXAMPLE_FILES } from './scaffold.js';
export { buildPacket, type BuildPacketInput } from './packet.js';
export type { RawFile } from './read-files.js';
export { BUILTIN_EMOJI, BUILTIN_NAME, BUILTIN_SOURCE } from './builtin.js';
export { AGENT_ID_PATTERN, DEFAULT_AGENT_ID, IDENTITY_FILE_NAMES, isValidAgentId } from './files.js';
export {
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_IDENTITY_LIMITS,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_FILE_CHARS,
  DEFAULT_MAX_TOTAL_CHARS,
  DEFAULT_MAX_USER_FILE_CHARS,
  DEFAULT_MAX_WATCHED_FOLDERS,
  DEFAULT_RECHECK_INTERVAL_MS,
  DEFAULT_WORKSPACE_POLL_MS,
  type IdentityLimits,
} from './limits.js';
