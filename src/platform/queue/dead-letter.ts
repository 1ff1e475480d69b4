import type { JobEnvelope } from './job-queue.js';

/** A job that failed every attempt, kept for an operator to inspect or replay. */
export interface DeadLetter extends JobEnvelope {
  /** How many attempts were made (the configured maximum). */
  attempts: number;
  /** Name and message of the last error (see describeFailure): no stack, no driver fields. */
  lastError: string;
  /** When it was dead-lettered, ms since the epoch. */
  failedAtMs: number;
}
