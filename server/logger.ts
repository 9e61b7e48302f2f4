/** pino to stderr (stdout carries only the human lines), with every secret path redacted. */
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'token',
  'password',
  'apiKey',
  'openaiApiKey',
  'anthropicApiKey',
  '*.token',
  '*.password',
  '*.apiKey',
  '*.openaiApiKey',
  '*.anthropicApiKey',
  'models[*].apiKey',
  '*.models[*].apiKey',
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
  'auth.token',
  'auth.password',
  'auth.deviceToken',
  'params.auth',
  'headers.authorization',
  'req.headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { name: 'brainstem' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

export type { Logger };
