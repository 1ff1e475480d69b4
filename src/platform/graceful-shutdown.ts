import type { Logger } from 'pino';

/** The process surface a graceful shutdown needs; main.ts hands in the real one. */
export interface ShutdownProcess {
  onSignal: (signal: 'SIGTERM' | 'SIGINT', handler: () => void) => void;
  exit: (code: number) => void;
}

/**
 * On the first SIGTERM or SIGINT runs `stop` once, then exits 0; exits 1 if `stop` fails or has
 * not finished within `graceMs` (a stuck drain must not keep an orchestrator waiting forever).
 */
export function exitGracefullyOnSignals(proc: ShutdownProcess, log: Logger, options: { graceMs: number; draining: string; done: string }, stop: () => Promise<void>): void {
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, options.draining);
    const force = setTimeout(() => {
      log.error('shutdown grace period exceeded; exiting');
      proc.exit(1);
    }, options.graceMs);
    force.unref();
    stop()
      .then(() => { log.info(options.done); proc.exit(0); })
      .catch((error: unknown) => { log.error({ err: error }, 'shutdown failed'); proc.exit(1); });
  };
  proc.onSignal('SIGTERM', () => shutdown('SIGTERM'));
  proc.onSignal('SIGINT', () => shutdown('SIGINT'));
}
