import { Queue } from 'bullmq';
import { bullmqJobId } from './bullmq-job-id.js';
import { assertPrefixFitsConnection, type BullmqConnectionOptions, openProducerConnection, quitConnection } from './bullmq-connections.js';
import { type BullmqDeadLetterPayload, type BullmqJobPayload, deadLetterQueueName } from './bullmq-payload.js';
import type { DeadLetter } from './dead-letter.js';
import type { JobQueue } from './job-queue.js';

/** Where and how jobs are queued in Redis. */
export interface BullmqQueueOptions extends BullmqConnectionOptions {
  /**
   * BullMQ key prefix: every key is `<prefix>:<queueName>:…`, so deployments can share a Redis. On
   * a Redis Cluster it must start with a hash tag such as `{portcullis:bull}` (see `bullmqPrefix`).
   */
  prefix: string;
  queueName: string;
  /** Deliveries per job, the first included; after the last failure the job is dead-lettered. */
  attempts: number;
  /** Wait before the first retry; each further retry waits twice as long. */
  backoffMs: number;
  /** Completed jobs kept (and so deduplicated against), newest first. */
  keepCompleted: number;
  /** Finally failed jobs kept in the failed set (their copy in the dead-letter queue stays). */
  keepFailed: number;
}

/** The BullMQ producer, with a read of the dead-letter queue for operators and tests. */
export interface BullmqJobQueue extends JobQueue {
  /** Dead-lettered jobs, oldest first, at most `limit`. */
  listDeadLetters(limit?: number): Promise<DeadLetter[]>;
}

/**
 * JobQueue over BullMQ. `add()` resolves once Redis has accepted every job (one MULTI), so the
 * relay may advance past them; the BullMQ job id is the envelope id, which makes a second add of
 * a known id a no-op until the job leaves the kept completed/failed sets. Attempts and backoff
 * travel with each job, so the workers need no configuration of their own for them.
 */
export async function createBullmqJobQueue(options: BullmqQueueOptions): Promise<BullmqJobQueue> {
  const connection = await openProducerConnection(options, 'portcullis-queue');
  try {
    assertPrefixFitsConnection(connection, options.prefix);
  } catch (error) {
    await quitConnection(connection);
    throw error;
  }
  const queue = new Queue<BullmqJobPayload>(options.queueName, { connection, prefix: options.prefix });
  const deadLetters = new Queue<BullmqDeadLetterPayload>(deadLetterQueueName(options.queueName), { connection, prefix: options.prefix });
  const onError = (error: Error) => options.onError?.(error);
  queue.on('error', onError);
  deadLetters.on('error', onError);
  return {
    async add(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(jobs.map((job) => ({
        name: job.name,
        data: { id: job.id, data: job.data },
        opts: {
          jobId: bullmqJobId(job.id),
          attempts: options.attempts,
          backoff: { type: 'exponential', delay: options.backoffMs },
          removeOnComplete: { count: options.keepCompleted },
          removeOnFail: { count: options.keepFailed },
          // The failed set keeps messages only: stacks can be long and say nothing an operator needs.
          stackTraceLimit: 0,
        },
      })));
    },
    async listDeadLetters(limit = 100) {
      const jobs = await deadLetters.getJobs(['wait'], 0, limit - 1, true);
      return jobs.map((job) => job.data);
    },
    async close() {
      await Promise.allSettled([queue.close(), deadLetters.close()]);
      await quitConnection(connection);
    },
  };
}
