/**
 * The job queue port: security events leave the request path through it (audit outbox relay ->
 * queue -> worker handlers). Delivery is at least once, so every handler must be idempotent;
 * `id` is the deduplication key (the audit event id for relayed events).
 */

/** One unit of work as producers hand it over. */
export interface JobEnvelope<T = unknown> {
  /** Stable id: adding the same id twice must not run the job twice while the first is known. */
  id: string;
  /** Routes the job to its handler (for relayed audit events: the event type). */
  name: string;
  data: T;
}

/** A job as a handler sees it. */
export interface DeliveredJob<T = unknown> extends JobEnvelope<T> {
  /** 1 on the first delivery, 2 on the first retry, and so on. */
  attempt: number;
}

/** Handles one job; throwing schedules a retry with backoff, and after the last attempt the job is dead-lettered. */
export type JobHandler = (job: DeliveredJob) => Promise<void>;

/** Producer side. */
export interface JobQueue {
  /** Accepts jobs durably (or, in-process, until handled); resolves once they can no longer be lost by this process. */
  add(jobs: readonly JobEnvelope[]): Promise<void>;
  close(): Promise<void>;
}

/** Consumer side. */
export interface JobConsumer {
  /** Starts delivering jobs to `handler`; resolves once consumption has started. */
  start(handler: JobHandler): Promise<void>;
  /** Stops taking new jobs and waits for the running ones. */
  close(): Promise<void>;
}
