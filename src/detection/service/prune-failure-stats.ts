import type { Clock } from '../../platform/clock.js';
import type { FailureStatsStore } from '../store/failure-stats-store.js';

/**
 * Job records outlive their buckets by this much: a worker whose clock runs behind the pruner's
 * must still find the record of an event it judges recent enough to count.
 */
const CLOCK_SKEW_MARGIN_MS = 3_600_000;

/** Dependencies of pruneFailureStats. */
export interface PruneFailureStatsDeps {
  clock: Clock;
  store: FailureStatsStore;
  retentionMs: number;
}

/** Deletes buckets older than the retention, and the job records of events that old (see recordFailureStats). */
export function createPruneFailureStats(deps: PruneFailureStatsDeps) {
  return async function pruneFailureStats(): Promise<{ buckets: number; jobs: number }> {
    const cutoff = deps.clock.nowMs() - deps.retentionMs;
    return deps.store.prune(new Date(cutoff), new Date(cutoff - CLOCK_SKEW_MARGIN_MS));
  };
}
