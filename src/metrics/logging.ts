/**
 * The process logger of `serve` and `gateway`: pino JSON lines on standard
 * output. Authorization headers are redacted wherever a request object is
 * logged; code never logs tokens in the first place.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { JitgateError } from '../util/errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `--log-level`, else `JITGATE_LOG_LEVEL`, else `info`; anything else is refused (`log_level_invalid`). */
export function resolveLogLevel(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): LogLevel {
  const raw = (flag ?? env.JITGATE_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new JitgateError('log_level_invalid', `log level must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(raw)}`);
  }
  return raw as LogLevel;
}

/** A JSON logger at `level`, writing to `destination` (default standard output). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const opts = { level, redact: ['req.headers.authorization', 'headers.authorization'] };
  return destination ? pino(opts, destination) : pino(opts);
}
