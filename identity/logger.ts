/**
 * The logging the identity layer needs: a pino logger (or a `child()` of one) fits as it is.
 * Log objects name the agent, the file and the problem; they may carry absolute paths, packets never do.
 */
export interface IdentityLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
