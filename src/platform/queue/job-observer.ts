/** How one delivery of a job ended. */
export type DeliveryOutcome = 'succeeded' | 'retrying' | 'dead_lettered';

/** What an adapter reports after each delivery; the composition root turns it into metrics. */
export interface DeliveryReport {
  /** The envelope id (for relayed events, the audit event id: not a secret). */
  id: string;
  name: string;
  attempt: number;
  outcome: DeliveryOutcome;
  /** Time from enqueue to the start of the first attempt (reported on attempt 1 only: later ones include backoff). */
  queuedMs?: number;
  /** How long the handler ran. */
  durationMs: number;
  /** The handler's error, as describeFailure renders it, when the delivery failed. */
  error?: string;
}

/** Receives delivery reports and background failures from a queue adapter; never throws into it. */
export interface JobObserver {
  delivered(report: DeliveryReport): void;
  /** A failure no caller can see (a dead-letter write, a connection error); the message is already safe to log. */
  error(error: unknown, context: string): void;
}

/** An observer that drops everything (tests and one-shot commands). */
export const silentJobObserver: JobObserver = { delivered: () => {}, error: () => {} };
