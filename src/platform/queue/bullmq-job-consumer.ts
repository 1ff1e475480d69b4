import { type Job, Queue, Worker } from 'bullmq';
import { systemClock, type Clock } from '../clock.js';
import type { RedisClient } from '../kv/redis-connection.js';
import { assertPrefixFitsConnection, type BullmqConnectionOptions, openProducerConnection, openWorkerConnection, quitConnection } from './bullmq-connections.js';
import { bullmqJobId } from './bullmq-job-id.js';
import { type BullmqDeadLetterPayload, type BullmqJobPayload, deadLetterQueueName, readEnvelope } from './bullmq-payload.js';
import { describeFailure } from './failure-description.js';
import { type JobObserver, silentJobObserver } from './job-observer.js';
import type { JobConsumer, JobEnvelope, JobHandler } from './job-queue.js';

/** Which queue a worker consumes and how hard it works. */
export interface BullmqConsumerOptions extends BullmqConnectionOptions {
  /** Must match the producer's; on a Redis Cluster it must start with a hash tag (see `bullmqPrefix`). */
  prefix: string;
  queueName: string;
  /** Jobs handled at once by this process. */
  concurrency: number;
  /** A job whose worker stops renewing its lock for this long is taken back and retried (a crashed worker). Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for such jobs. Default 30 s. */
  stalledIntervalMs?: number;
  /** Dead letters kept in `<queue>-dlq`; the oldest beyond this are removed. Default 10,000. */
  keepDeadLetters?: number;
  clock?: Clock;
  observer?: JobObserver;
}

/**
 * JobConsumer over a BullMQ Worker. Attempts and backoff come with each job (set by the
 * producer). A handler error on the last attempt copies the job (original data, the error's name
 * and message, never its stack) to `<queue>-dlq` before BullMQ marks it failed; so does a job
 * that BullMQ fails without running the handler (it stalled too often). `close()` stops fetching,
 * waits for running handlers and pending dead-letter writes, then closes its connections.
 */
export async function createBullmqJobConsumer(options: BullmqConsumerOptions): Promise<JobConsumer> {
  const clock = options.clock ?? systemClock;
  const observer = options.observer ?? silentJobObserver;
  const keepDeadLetters = options.keepDeadLetters ?? 10_000;
  const producerConnection = await openProducerConnection(options, 'portcullis-worker-dlq');
  let workerConnection: RedisClient;
  try {
    assertPrefixFitsConnection(producerConnection, options.prefix);
    workerConnection = await openWorkerConnection(producerConnection, options, 'portcullis-worker');
  } catch (error) {
    await quitConnection(producerConnection);
    throw error;
  }
  const deadLetters = new Queue<BullmqDeadLetterPayload>(deadLetterQueueName(options.queueName), { connection: producerConnection, prefix: options.prefix });
  deadLetters.on('error', (error) => observer.error(error, 'dead-letter queue'));
  const pendingWrites = new Set<Promise<void>>();
  // Jobs whose failure the processor already accounted for; the 'failed' event handles the others.
  const failedInProcessor = new Set<string>();
  let worker: Worker<BullmqJobPayload> | undefined;

  async function deadLetter(envelope: JobEnvelope, attempts: number, lastError: string): Promise<void> {
    const payload: BullmqDeadLetterPayload = { ...envelope, attempts, lastError, failedAtMs: clock.nowMs() };
    await deadLetters.add(envelope.name, payload, { jobId: bullmqJobId(envelope.id) });
    // Nothing consumes the dead-letter queue: without a bound, a handler that keeps failing would
    // grow it in Redis for ever. Dead letters are rare, so counting after each is cheap; two
    // workers trimming at once remove a job only once (remove() of a gone job is a no-op).
    const excess = (await deadLetters.getWaitingCount()) - keepDeadLetters;
    if (excess > 0) {
      for (const job of await deadLetters.getJobs(['wait'], 0, excess - 1, true)) if (job.id) await deadLetters.remove(job.id);
    }
  }

  function track(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) => observer.error(error, 'dead-letter write')).finally(() => pendingWrites.delete(tracked));
    pendingWrites.add(tracked);
  }

  function processor(handler: JobHandler) {
    return async (job: Job<BullmqJobPayload>): Promise<void> => {
      const envelope = readEnvelope(job);
      const attempt = job.attemptsMade + 1;
      const maxAttempts = job.opts.attempts ?? 1;
      const started = performance.now();
      const queuedMs = attempt === 1 ? Math.max(0, clock.nowMs() - job.timestamp) : undefined;
      const report = (outcome: 'succeeded' | 'retrying' | 'dead_lettered', error?: string) => observer.delivered({
        id: envelope.id, name: envelope.name, attempt, outcome, durationMs: performance.now() - started,
        ...(queuedMs === undefined ? {} : { queuedMs }), ...(error === undefined ? {} : { error }),
      });
      try {
        await handler({ ...envelope, attempt });
      } catch (error) {
        const lastError = describeFailure(error);
        if (job.id) failedInProcessor.add(job.id);
        if (attempt >= maxAttempts) {
          try {
            await deadLetter(envelope, attempt, lastError);
          } catch (writeError) {
            // The job still ends in the failed set (keepFailed), where an operator can find it.
            observer.error(writeError, 'dead-letter write');
          }
          report('dead_lettered', lastError);
        } else {
          report('retrying', lastError);
        }
        // BullMQ stores this message with the job: the safe description, deliberately without the
        // original error as `cause` (its fields, e.g. a driver's bound values, must not travel on).
        // eslint-disable-next-line preserve-caught-error
        throw new Error(lastError);
      }
      report('succeeded');
    };
  }

  return {
    async start(handler) {
      if (worker) throw new Error('this consumer has already started');
      worker = new Worker<BullmqJobPayload>(options.queueName, processor(handler), {
        connection: workerConnection, prefix: options.prefix, concurrency: options.concurrency, autorun: false,
        lockDuration: options.lockDurationMs ?? 30_000, stalledInterval: options.stalledIntervalMs ?? 30_000,
      });
      worker.on('error', (error) => observer.error(error, 'worker'));
      worker.on('failed', (job, error) => {
        if (!job?.id || failedInProcessor.delete(job.id)) return;
        // Failed without our processor seeing it (stalled past maxStalledCount): dead-letter it here.
        const envelope = readEnvelope(job);
        const lastError = describeFailure(error);
        track(deadLetter(envelope, job.attemptsMade, lastError));
        observer.delivered({ id: envelope.id, name: envelope.name, attempt: job.attemptsMade, outcome: 'dead_lettered', durationMs: 0, error: lastError });
      });
      const running = worker;
      void running.run().catch((error: unknown) => observer.error(error, 'worker'));
      await running.waitUntilReady();
    },

    async close() {
      // Waits for active jobs (BullMQ's graceful close), then for dead-letter writes they started.
      await worker?.close();
      await Promise.allSettled([...pendingWrites]);
      await deadLetters.close();
      await Promise.all([quitConnection(workerConnection), quitConnection(producerConnection)]);
    },
  };
}
