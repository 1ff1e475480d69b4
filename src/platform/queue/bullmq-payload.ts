import type { DeadLetter } from './dead-letter.js';
import type { JobEnvelope } from './job-queue.js';

/** What a BullMQ job carries: the envelope id (the BullMQ id may be its hash) and the data. */
export interface BullmqJobPayload {
  id: string;
  data: unknown;
}

/** The dead-letter queue's copy of a job. */
export type BullmqDeadLetterPayload = DeadLetter;

/** The dead-letter queue's name for a queue. */
export function deadLetterQueueName(queueName: string): string {
  return `${queueName}-dlq`;
}

/** The envelope of a stored job; a job written by something else falls back to its BullMQ id. */
export function readEnvelope(job: { id?: string | undefined; name: string; data: unknown }): JobEnvelope {
  const payload = job.data as Partial<BullmqJobPayload> | null;
  if (payload && typeof payload === 'object' && typeof payload.id === 'string' && 'data' in payload) {
    return { id: payload.id, name: job.name, data: payload.data };
  }
  return { id: job.id ?? '', name: job.name, data: job.data };
}
