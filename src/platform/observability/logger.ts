import pino, { type LoggerOptions } from 'pino';
import { LOG_REDACT_PATHS } from './redact.js';

// Driver errors carry the failed statement and its bound values (PGlite: query/params/queryOptions,
// pg: parameters in `where`/`detail`), which can include password hashes and emails: never log them.
const DRIVER_FIELDS = ['params', 'parameters', 'query', 'queryOptions', 'detail', 'where', 'internalQuery'];

/** Pino's error serializer minus the fields where database drivers put bound values. */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const out = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of DRIVER_FIELDS) delete out[field];
  return out;
}

/** Pino options shared by the server and the CLI: JSON lines, secrets redacted, no request bodies. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      err: serializeError,
      req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({ method: req.method, url: req.url?.split('?')[0], id: req.id, ip: req.ip }),
    },
  };
}
