import { pino, type Logger } from 'pino';
import type { LogLevel } from '../cli/config.js';

export type { Logger };

/**
 * Structured JSON logs on stderr. Secrets never reach them: request lines carry
 * the path without its query (presigned URLs hold signatures), and the redact
 * list covers any header or field that could hold a credential.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['secretKey', 'secretAccessKey', '*.secretKey', 'headers.authorization', 'headers["x-amz-security-token"]'],
      censor: '[redacted]',
    },
  }, pino.destination({ fd: 2, sync: false }));
}
