/** Structured logs (pino): JSON lines, secrets redacted wherever they may appear. */
import { type Logger, pino } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  // One level down too (a request or call object logged under its own key), and API keys in a query.
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["proxy-authorization"]',
  'query.api_key',
  '*.query.api_key',
  'req.headers["proxy-authorization"]',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.credential',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  // Backend credentials (upstream auth): an OAuth2 client secret and token.
  '*.clientSecret',
  '*.access_token',
];

/** Options of createLogger. */
export interface LoggerOptions {
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  destination?: NodeJS.WritableStream;
}

/** Creates the gateway logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? process.env.CHORUS_LOG_LEVEL ?? 'info',
    // Not `service`: error lines carry the backend service's name under that key.
    base: { app: 'chorus', pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
