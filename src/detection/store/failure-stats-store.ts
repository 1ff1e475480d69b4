/** What a failure is counted against: the client address, or the account it was aimed at. */
export type FailureDimension = 'ip' | 'account';

/** The failures counted: a failed login, a rate-limit refusal, a refresh-token reuse. */
export type FailureKind = 'login_failed' | 'rate_limited' | 'token_reuse';

/** Every kind, for callers that list or zero-fill them. */
export const FAILURE_KINDS: readonly FailureKind[] = ['login_failed', 'rate_limited', 'token_reuse'];

/** Failures to add to one bucket. */
export interface FailureIncrement {
  dimension: FailureDimension;
  key: string;
  kind: FailureKind;
  /** Start of the bucket (a multiple of the bucket length since the epoch). */
  bucketStart: Date;
  count: number;
}

/** Persistence of rolling failure counts and of the jobs already applied to them. */
export interface FailureStatsStore {
  /**
   * Records that `consumer` applied job `jobId`; false when it already had, and then the caller
   * must change nothing. Called in the transaction that applies the job: of concurrent callers
   * for one job exactly one gets true (the second waits on the first's primary-key entry).
   */
  markProcessed(consumer: string, jobId: string, eventTime: Date, processedAt: Date): Promise<boolean>;
  /** Adds each count to its bucket, creating the bucket when absent (one upsert). */
  increment(rows: readonly FailureIncrement[]): Promise<void>;
  /** Counts per kind over the buckets of (`dimension`, `key`) that start at or after `since`. */
  sumSince(dimension: FailureDimension, key: string, since: Date): Promise<Partial<Record<FailureKind, number>>>;
  /** Deletes buckets that start before `bucketsBefore` and job records of events before `jobsBefore`. */
  prune(bucketsBefore: Date, jobsBefore: Date): Promise<{ buckets: number; jobs: number }>;
}
