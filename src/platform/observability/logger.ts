import type { LoggerOptions } from 'pino';
import { LOG_REDACT_PATHS } from './redact.js';

/** Pino options shared by the server and the CLI: JSON lines, secrets redacted, no request bodies. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({ method: req.method, url: req.url?.split('?')[0], id: req.id, ip: req.ip }),
    },
  };
}
