import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import type { FailureIncrement, FailureKind, FailureStatsStore } from './failure-stats-store.js';

/** Sorts rows into one order, so two transactions upserting the same buckets lock them in the same order (no deadlock). */
function lockOrder(a: FailureIncrement, b: FailureIncrement): number {
  // Code-unit comparison, not localeCompare: every process must agree whatever its locale.
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return text(a.dimension, b.dimension) || text(a.key, b.key)
    || a.bucketStart.getTime() - b.bucketStart.getTime() || text(a.kind, b.kind);
}

/** FailureStatsStore over Kysely (PostgreSQL or PGlite); pass a transaction to apply a job atomically. */
export function createKyselyFailureStatsStore(db: Kysely<DB>): FailureStatsStore {
  return {
    async markProcessed(consumer, jobId, eventTime, processedAt) {
      const inserted = await db.insertInto('processed_jobs')
        .values({ consumer, job_id: jobId, event_time: eventTime, processed_at: processedAt })
        .onConflict((oc) => oc.columns(['consumer', 'job_id']).doNothing())
        .returning('job_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async increment(rows) {
      if (rows.length === 0) return;
      await db.insertInto('failure_stats')
        .values([...rows].sort(lockOrder).map((row) => ({
          dimension: row.dimension, key: row.key, kind: row.kind, bucket_start: row.bucketStart, count: row.count,
        })))
        .onConflict((oc) => oc.columns(['dimension', 'key', 'bucket_start', 'kind'])
          .doUpdateSet({ count: sql<number>`failure_stats.count + excluded.count` }))
        .execute();
    },

    async sumSince(dimension, key, since) {
      const rows = await db.selectFrom('failure_stats')
        .select(['kind', sql<string>`sum(count)::text`.as('total')])
        .where('dimension', '=', dimension).where('key', '=', key).where('bucket_start', '>=', since)
        .groupBy('kind')
        .execute();
      const out: Partial<Record<FailureKind, number>> = {};
      for (const row of rows) out[row.kind as FailureKind] = Number(row.total);
      return out;
    },

    async prune(bucketsBefore, jobsBefore) {
      const buckets = await db.deleteFrom('failure_stats').where('bucket_start', '<', bucketsBefore).executeTakeFirst();
      const jobs = await db.deleteFrom('processed_jobs').where('event_time', '<', jobsBefore).executeTakeFirst();
      return { buckets: Number(buckets.numDeletedRows), jobs: Number(jobs.numDeletedRows) };
    },
  };
}
