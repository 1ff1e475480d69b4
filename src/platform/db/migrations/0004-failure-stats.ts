import { type Kysely, sql } from 'kysely';

/**
 * Rolling failure statistics for detection rules, and the idempotency record of job handlers.
 * `failure_stats` holds one counter per (dimension, key, kind, bucket); `processed_jobs` holds
 * one row per (consumer, job id) written in the same transaction as the counters, so a job
 * delivered twice is counted once. Both are pruned by time; neither is security history (that is
 * the audit log), so rows may be deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table failure_stats (
      dimension text not null check (dimension in ('ip', 'account')),
      key text not null,
      kind text not null,
      bucket_start timestamptz not null,
      count integer not null check (count > 0),
      primary key (dimension, key, bucket_start, kind)
    )`.execute(db);
  await sql`create index failure_stats_bucket_idx on failure_stats (bucket_start)`.execute(db);

  await sql`
    create table processed_jobs (
      consumer text not null,
      job_id text not null,
      event_time timestamptz not null,
      processed_at timestamptz not null,
      primary key (consumer, job_id)
    )`.execute(db);
  await sql`create index processed_jobs_event_time_idx on processed_jobs (event_time)`.execute(db);
}

