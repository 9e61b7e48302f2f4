/** The gateway's real logger (same redaction as the CLI), writing JSON lines into memory for assertions. */
import type { Logger } from 'pino';
import { createLogger } from '../../server/logger.js';

export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, as written. */
  lines: string[];
  /** Parsed entries whose `msg` is `msg`. */
  entries(msg: string): Record<string, unknown>[];
}

export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    lines,
    entries: (msg) =>
      lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === msg),
  };
}
