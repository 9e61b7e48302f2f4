/** The OpenClaw protocol versions brainstem speaks: 4, and 3 for older clients (protocol-openclaw.md §2.4). */
export const PROTOCOL_VERSION = 4;
export const MIN_PROTOCOL_VERSION = 3;
export const SERVER_NAME = 'brainstem';
