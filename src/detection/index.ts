/** Public surface of the detection module: failure statistics that detection rules read. */
export type { FailureCounts, FailureCountsQuery } from './service/failure-counts.js';
export { createFailureCounts } from './service/failure-counts.js';
export { createPruneFailureStats } from './service/prune-failure-stats.js';
export type { FailureStatsOptions, RecordOutcome } from './service/record-failure-stats.js';
export { createRecordFailureStats, FAILURE_EVENT_KINDS, FAILURE_STATS_CONSUMER } from './service/record-failure-stats.js';
export type { FailureDimension, FailureKind, FailureStatsStore } from './store/failure-stats-store.js';
export { FAILURE_KINDS } from './store/failure-stats-store.js';
export { createKyselyFailureStatsStore } from './store/kysely-failure-stats-store.js';
