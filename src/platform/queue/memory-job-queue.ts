import { systemClock, type Clock } from '../clock.js';
import type { DeadLetter } from './dead-letter.js';
import { describeFailure } from './failure-description.js';
import type { JobObserver } from './job-observer.js';
import { silentJobObserver } from './job-observer.js';
import type { DeliveredJob, JobConsumer, JobEnvelope, JobHandler, JobQueue } from './job-queue.js';

/** How the in-process queue retries, remembers and limits. */
export interface MemoryJobQueueOptions {
  /** Deliveries per job, the first included; after the last failure the job is dead-lettered. */
  attempts: number;
  /** Wait before the first retry; each further retry waits twice as long (capped at one hour). */
  backoffMs: number;
  /** Handlers running at once. */
  concurrency: number;
  /** Finished job ids remembered for deduplication, oldest forgotten first. Default 10 000. */
  keepFinished?: number;
  /** Dead letters kept, oldest dropped first. Default 1 000. */
  keepDeadLetters?: number;
  /** Stamps dead letters. */
  clock?: Clock;
  observer?: JobObserver;
}

/** The in-process queue is both ends at once: embedded mode has no separate worker. */
export interface MemoryJobQueue extends JobQueue, JobConsumer {
  /** Jobs that failed every attempt, oldest first. */
  listDeadLetters(): DeadLetter[];
}

/** A job's add() promise rejects with this when close() releases it before it was handled. */
export class JobQueueClosedError extends Error {
  constructor() {
    super('the job queue closed before this job was handled');
    this.name = 'JobQueueClosedError';
  }
}

const MAX_BACKOFF_MS = 3_600_000;

interface Entry {
  envelope: JobEnvelope;
  attempt: number;
  enqueuedAt: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
  retryTimer?: NodeJS.Timeout;
}

/**
 * Embedded mode's job queue: same semantics as the BullMQ adapter (dedupe by id while known,
 * retries with exponential backoff, a dead-letter list, a concurrency limit), in this process.
 *
 * `add()` resolves only once every job in it has succeeded or been dead-lettered. Nothing here
 * survives a restart, so this is what keeps delivery at least once: the audit relay advances its
 * persisted position only after `add()` resolves, so it never passes a job that was not handled.
 * The producer must not hold what handlers need while it waits: the relay holds no transaction
 * during `add()` (on PGlite's single connection a handler's transaction would wait for ever).
 * `close()` waits for running handlers; jobs not started yet, or waiting for a retry, are
 * released (their `add()` rejects with JobQueueClosedError) and the relay delivers them again
 * after a restart.
 * Job data is copied through JSON on `add()`, so handlers see what they would see from Redis
 * (a Date arrives as its ISO string) and a producer cannot change a job after handing it over.
 */
export function createMemoryJobQueue(options: MemoryJobQueueOptions): MemoryJobQueue {
  const clock = options.clock ?? systemClock;
  const observer = options.observer ?? silentJobObserver;
  const keepFinished = options.keepFinished ?? 10_000;
  const keepDeadLetters = options.keepDeadLetters ?? 1_000;
  const pending = new Map<string, Entry>();
  // Insertion-ordered: the first element is the oldest, forgotten first.
  const finished = new Set<string>();
  const ready: Entry[] = [];
  const deadLetters: DeadLetter[] = [];
  const idleWaiters: Array<() => void> = [];
  let handler: JobHandler | undefined;
  let running = 0;
  let closed = false;

  function remember(id: string): void {
    finished.add(id);
    if (finished.size > keepFinished) finished.delete(finished.values().next().value!);
  }

  function settle(entry: Entry, error?: Error): void {
    pending.delete(entry.envelope.id);
    if (error) {
      entry.reject(error);
      return;
    }
    remember(entry.envelope.id);
    entry.resolve();
  }

  function deadLetter(entry: Entry, lastError: string): void {
    deadLetters.push({ ...entry.envelope, attempts: entry.attempt, lastError, failedAtMs: clock.nowMs() });
    if (deadLetters.length > keepDeadLetters) deadLetters.shift();
  }

  async function deliver(entry: Entry, run: JobHandler): Promise<void> {
    const job: DeliveredJob = { ...entry.envelope, attempt: entry.attempt };
    const started = performance.now();
    const queuedMs = entry.attempt === 1 ? started - entry.enqueuedAt : undefined;
    const report = (outcome: 'succeeded' | 'retrying' | 'dead_lettered', error?: string) => observer.delivered({
      id: job.id, name: job.name, attempt: job.attempt, outcome, durationMs: performance.now() - started,
      ...(queuedMs === undefined ? {} : { queuedMs }), ...(error === undefined ? {} : { error }),
    });
    try {
      await run(job);
    } catch (error) {
      const lastError = describeFailure(error);
      if (entry.attempt >= options.attempts) {
        deadLetter(entry, lastError);
        report('dead_lettered', lastError);
        settle(entry);
      } else if (closed) {
        report('retrying', lastError);
        settle(entry, new JobQueueClosedError());
      } else {
        report('retrying', lastError);
        const delay = Math.min(options.backoffMs * 2 ** (entry.attempt - 1), MAX_BACKOFF_MS);
        entry.attempt += 1;
        entry.retryTimer = setTimeout(() => {
          entry.retryTimer = undefined;
          ready.push(entry);
          pump();
        }, delay);
      }
      return;
    }
    report('succeeded');
    settle(entry);
  }

  function pump(): void {
    while (handler && !closed && running < options.concurrency && ready.length > 0) {
      const entry = ready.shift()!;
      running += 1;
      void deliver(entry, handler).finally(() => {
        running -= 1;
        if (running === 0) for (const wake of idleWaiters.splice(0)) wake();
        pump();
      });
    }
  }

  function enqueue(job: JobEnvelope): Promise<void> {
    if (finished.has(job.id)) return Promise.resolve();
    const known = pending.get(job.id);
    if (known) return known.done;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    // A caller that stopped listening must not turn a release on close into an unhandled rejection.
    done.catch(() => {});
    const entry: Entry = { envelope: job, attempt: 1, enqueuedAt: performance.now(), done, resolve, reject };
    pending.set(job.id, entry);
    ready.push(entry);
    return done;
  }

  return {
    async add(jobs) {
      if (closed) throw new JobQueueClosedError();
      // The same round trip as through Redis, for the whole batch before any of it is queued: data
      // JSON cannot carry (a BigInt, a cycle) rejects the add and queues nothing.
      const copies = jobs.map((job): JobEnvelope => ({ id: job.id, name: job.name, data: job.data === undefined ? undefined : JSON.parse(JSON.stringify(job.data)) }));
      const done = copies.map(enqueue);
      pump();
      await Promise.all(done);
    },

    async start(run) {
      if (handler) throw new Error('the job queue already has a consumer');
      if (closed) throw new JobQueueClosedError();
      handler = run;
      pump();
    },

    async close() {
      closed = true;
      // Everything not running right now is released; running handlers settle their own entries.
      for (const entry of [...pending.values()]) {
        if (!entry.retryTimer) continue;
        clearTimeout(entry.retryTimer);
        settle(entry, new JobQueueClosedError());
      }
      for (const entry of ready.splice(0)) settle(entry, new JobQueueClosedError());
      if (running > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    listDeadLetters: () => [...deadLetters],
  };
}
