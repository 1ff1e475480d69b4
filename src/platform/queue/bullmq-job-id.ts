import { createHash } from 'node:crypto';

// BullMQ refuses custom ids containing ':' or that parse as integers, and ids are Redis key parts.
const SAFE_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The BullMQ job id for an envelope id: the id itself when BullMQ can take it (audit event ids
 * can), otherwise `~` and its SHA-256, so any id still deduplicates. The `~` cannot occur in a
 * safe id, so the two forms never collide. The envelope id itself travels in the job data.
 */
export function bullmqJobId(id: string): string {
  if (SAFE_ID.test(id) && !/^\d+$/.test(id)) return id;
  return `~${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}
