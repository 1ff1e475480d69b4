import type { RelayOutcome } from './relay-audit-events.js';
import type { SealOutcome } from './seal-audit-chain.js';

/** Dependencies of the audit sealer: the two passes it schedules. */
export interface AuditSealerDeps {
  seal: (options: { wait?: boolean }) => Promise<SealOutcome>;
  /** Absent when no job queue is configured: sealed events then stay in the table only. */
  relay?: (() => Promise<RelayOutcome>) | undefined;
  intervalMs: number;
  /** A failed pass is reported here; the events wait for the next pass, nothing is lost. */
  onError: (error: unknown) => void;
}

/** Runs seal passes (each followed by a relay run) on this instance: on a timer, after local commits, and on demand. */
export interface AuditSealer {
  /** Starts the periodic pass. */
  start(): void;
  /** Asks for a pass soon (call after a transaction that recorded events commits); coalesces with one already queued. */
  nudge(): void;
  /**
   * Runs a seal pass after any in flight, waiting for the sealer lock, then a relay run: every
   * event committed before the call is then sealed, and handed to the queue unless the relay failed.
   */
  flush(): Promise<SealOutcome>;
  /**
   * Like flush, but resolves once sealed, leaving the relay run to the background: for readers
   * of the log (the admin query), which must not wait on the job queue.
   */
  seal(): Promise<SealOutcome>;
  /** Stops the timers and runs a last seal pass and relay run; later nudges are ignored. Never throws. */
  close(): Promise<void>;
}

/**
 * How long a nudge waits for more commits before the pass runs. A pass costs about twice an
 * audited insert (measured on PostgreSQL: one writer slowed from ~470 to ~200 inserts/s when every
 * commit got its own pass); 20 ms of coalescing keeps that overhead small at little delay.
 */
const NUDGE_COALESCE_MS = 20;

/**
 * Schedules the passes: one seal pass at a time per instance, at most one more queued behind it,
 * so a burst of commits costs one extra pass, not one per commit. Timer and nudge passes use the
 * try-lock: when another instance is sealing they step aside at once. Relay runs go on a track of
 * their own (one at a time, one more requested behind it), so a slow queue never holds up sealing.
 */
export function createAuditSealer(deps: AuditSealerDeps): AuditSealer {
  let tail: Promise<unknown> = Promise.resolve();
  let queued = false;
  let started = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let nudgeTimer: NodeJS.Timeout | undefined;
  let relayRun: Promise<void> | undefined;
  let relayAgain = false;

  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };

  /** Starts a relay run, or asks the one in flight for another round; resolves when that round is done. */
  const runRelay = (): Promise<void> => {
    const relay = deps.relay;
    if (!relay) return Promise.resolve();
    if (relayRun) {
      relayAgain = true;
      return relayRun;
    }
    const loop = async () => {
      for (;;) {
        relayAgain = false;
        // A relay failure (queue down) must not fail sealing: the position stays and the next run retries.
        await relay().catch(deps.onError);
        // Cleared synchronously with the check, so a request arriving now starts a new run instead of being lost.
        if (!relayAgain) {
          relayRun = undefined;
          return;
        }
      }
    };
    relayRun = loop();
    return relayRun;
  };

  const queuePass = () => {
    nudgeTimer = undefined;
    if (closed || queued) return;
    queued = true;
    enqueue(async () => {
      queued = false;
      await deps.seal({ wait: false });
    }).catch(deps.onError).finally(() => { void runRelay(); });
  };
  const nudge = () => {
    if (!started || closed || nudgeTimer) return;
    nudgeTimer = setTimeout(queuePass, Math.min(NUDGE_COALESCE_MS, deps.intervalMs));
    nudgeTimer.unref();
  };
  const flush = async (): Promise<SealOutcome> => {
    const outcome = await enqueue(() => deps.seal({ wait: true }));
    await runRelay();
    return outcome;
  };

  const seal = async (): Promise<SealOutcome> => {
    const outcome = await enqueue(() => deps.seal({ wait: true }));
    void runRelay();
    return outcome;
  };

  return {
    start() {
      if (started || closed) return;
      started = true;
      timer = setInterval(nudge, deps.intervalMs);
      timer.unref();
    },
    nudge,
    flush,
    seal,
    async close() {
      closed = true;
      clearInterval(timer);
      clearTimeout(nudgeTimer);
      await flush().catch(deps.onError);
    },
  };
}
