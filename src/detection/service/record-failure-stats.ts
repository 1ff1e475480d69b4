import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import type { DeliveredJob } from '../../platform/queue/job-queue.js';
import type { FailureIncrement, FailureKind, FailureStatsStore } from '../store/failure-stats-store.js';
import { parseRelayedEvent } from './relayed-event.js';

/** The audit event types counted, and the kind each counts as. */
export const FAILURE_EVENT_KINDS: Readonly<Record<string, FailureKind>> = Object.freeze({
  'auth.login.failed': 'login_failed',
  'ratelimit.blocked': 'rate_limited',
  'auth.token.reuse_detected': 'token_reuse',
});

/** Names this consumer's rows in `processed_jobs` (another handler of the same event keeps its own). */
export const FAILURE_STATS_CONSUMER = 'detection.failure-stats';

/** Bucket length and how long counts matter, in milliseconds. */
export interface FailureStatsOptions {
  bucketMs: number;
  retentionMs: number;
}

/** Dependencies of recordFailureStats. */
export interface RecordFailureStatsDeps {
  clock: Clock;
  transact: Transact<{ failureStats: FailureStatsStore }>;
  options: FailureStatsOptions;
}

/** What one delivery did: counted, already counted before (a redelivery), or nothing to count. */
export type RecordOutcome = 'counted' | 'duplicate' | 'ignored';

/**
 * The job handler for failure events: adds one to the event's time bucket for its IP and for its
 * account (the actor, when the event names one: a failed login for an unknown email counts for
 * the IP only). Idempotent: the job id is recorded in the same transaction as the counts, so a
 * redelivered job changes nothing. Events older than the retention are acknowledged uncounted:
 * their buckets are already pruned, and so may be their job records, so counting them could count
 * twice.
 */
export function createRecordFailureStats(deps: RecordFailureStatsDeps) {
  const { bucketMs, retentionMs } = deps.options;
  return async function recordFailureStats(job: DeliveredJob): Promise<RecordOutcome> {
    const kind = FAILURE_EVENT_KINDS[job.name];
    if (!kind || !Object.hasOwn(FAILURE_EVENT_KINDS, job.name)) throw new Error(`no failure kind for job name "${job.name.slice(0, 64)}"`);
    const event = parseRelayedEvent(job.data);
    const nowMs = deps.clock.nowMs();
    if (event.time.getTime() < nowMs - retentionMs) return 'ignored';
    const bucketStart = new Date(Math.floor(event.time.getTime() / bucketMs) * bucketMs);
    const rows: FailureIncrement[] = [];
    if (event.ip) rows.push({ dimension: 'ip', key: event.ip, kind, bucketStart, count: 1 });
    if (event.actor) rows.push({ dimension: 'account', key: event.actor, kind, bucketStart, count: 1 });
    if (rows.length === 0) return 'ignored';
    return deps.transact(async ({ failureStats }) => {
      if (!(await failureStats.markProcessed(FAILURE_STATS_CONSUMER, job.id, event.time, new Date(nowMs)))) return 'duplicate';
      await failureStats.increment(rows);
      return 'counted';
    });
  };
}
