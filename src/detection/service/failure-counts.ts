import type { FailureDimension, FailureKind, FailureStatsStore } from '../store/failure-stats-store.js';
import { FAILURE_KINDS } from '../store/failure-stats-store.js';

/** What a rule asks: failures of one IP or account since a moment. */
export interface FailureCountsQuery {
  dimension: FailureDimension;
  key: string;
  /** Milliseconds since the epoch. */
  sinceMs: number;
}

/** Failures per kind, and their sum. */
export interface FailureCounts {
  total: number;
  byKind: Record<FailureKind, number>;
}

/** Dependencies of failureCounts. */
export interface FailureCountsDeps {
  store: FailureStatsStore;
  bucketMs: number;
}

/**
 * The read detection rules use. Resolution is one bucket: the bucket containing `sinceMs` counts
 * whole, so a count may include failures up to one bucket older than asked, never fewer than asked.
 */
export function createFailureCounts(deps: FailureCountsDeps) {
  return async function failureCounts(query: FailureCountsQuery): Promise<FailureCounts> {
    const since = new Date(Math.floor(query.sinceMs / deps.bucketMs) * deps.bucketMs);
    const sums = await deps.store.sumSince(query.dimension, query.key, since);
    const byKind = Object.fromEntries(FAILURE_KINDS.map((kind) => [kind, sums[kind] ?? 0])) as Record<FailureKind, number>;
    return { total: FAILURE_KINDS.reduce((sum, kind) => sum + byKind[kind], 0), byKind };
  };
}
