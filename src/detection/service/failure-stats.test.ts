/**
 * Failure statistics on every SQL target (PGlite always, PostgreSQL when DATABASE_URL is set):
 * what the handler counts, that a redelivered job never counts twice (the queue delivers at
 * least once), how buckets roll and are pruned, and that hostile job data changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../platform/clock.js';
import type { Database } from '../../platform/db/database.js';
import { createTransact } from '../../platform/db/transact.js';
import type { DeliveredJob } from '../../platform/queue/job-queue.js';
import { databaseTargets } from '../../../test/fixtures/database.js';
import { createFailureCounts, createKyselyFailureStatsStore, createPruneFailureStats, createRecordFailureStats, FAILURE_STATS_CONSUMER } from '../index.js';

const MINUTE = 60_000;
const BUCKET_MS = MINUTE;
const RETENTION_MS = 24 * 60 * MINUTE;
const T0 = Date.parse('2026-05-01T10:00:00.000Z');

let jobCounter = 0;
/** A relayed audit event as the relay sends it (auditEventView), delivered as attempt 1. */
function failureJob(fields: { type?: string; timeMs?: number; ip?: string; actor?: string; id?: string } = {}): DeliveredJob {
  jobCounter += 1;
  const id = fields.id ?? `EVT${String(jobCounter).padStart(6, '0')}`;
  const type = fields.type ?? 'auth.login.failed';
  return {
    id, name: type, attempt: 1,
    data: {
      id, time: new Date(fields.timeMs ?? T0).toISOString(), type, outcome: 'failure',
      ...(fields.ip !== undefined && { ip: fields.ip }), ...(fields.actor !== undefined && { actor: fields.actor }),
      data: { email: 'someone@example.com', reason: 'bad_password' },
    },
  };
}

for (const target of databaseTargets()) {
  describe(`failure statistics (${target.name})`, () => {
    let database: Database;
    const clock = createManualClock(T0 + 5 * MINUTE);
    let record: ReturnType<typeof createRecordFailureStats>;
    let counts: ReturnType<typeof createFailureCounts>;
    let prune: ReturnType<typeof createPruneFailureStats>;
    let store: ReturnType<typeof createKyselyFailureStatsStore>;

    before(async () => {
      database = await target.open();
      store = createKyselyFailureStatsStore(database.db);
      const transact = createTransact(database.db, (tx) => ({ failureStats: createKyselyFailureStatsStore(tx) }));
      record = createRecordFailureStats({ clock, transact, options: { bucketMs: BUCKET_MS, retentionMs: RETENTION_MS } });
      counts = createFailureCounts({ store, bucketMs: BUCKET_MS });
      prune = createPruneFailureStats({ clock, store, retentionMs: RETENTION_MS });
    });
    after(() => database.close());

    it('counts a failed login against its IP and its account', async () => {
      assert.equal(await record(failureJob({ ip: '203.0.113.1', actor: 'USER-A' })), 'counted');
      assert.deepEqual(await counts({ dimension: 'ip', key: '203.0.113.1', sinceMs: T0 - MINUTE }), {
        total: 1, byKind: { login_failed: 1, rate_limited: 0, token_reuse: 0 },
      });
      assert.equal((await counts({ dimension: 'account', key: 'USER-A', sinceMs: T0 - MINUTE })).byKind.login_failed, 1);
    });

    it('counts a failure for an unknown email against the IP only', async () => {
      assert.equal(await record(failureJob({ ip: '203.0.113.2' })), 'counted');
      assert.equal((await counts({ dimension: 'ip', key: '203.0.113.2', sinceMs: T0 })).total, 1);
    });

    it('counts the same job once however often it is delivered, one after another or at once', async () => {
      const job = failureJob({ ip: '203.0.113.3', actor: 'USER-B' });
      assert.equal(await record(job), 'counted');
      assert.equal(await record({ ...job, attempt: 2 }), 'duplicate');
      const concurrent = failureJob({ ip: '203.0.113.3', actor: 'USER-B' });
      const outcomes = await Promise.all([record(concurrent), record(concurrent), record(concurrent)]);
      assert.deepEqual(outcomes.sort(), ['counted', 'duplicate', 'duplicate']);
      assert.equal((await counts({ dimension: 'ip', key: '203.0.113.3', sinceMs: T0 })).total, 2);
      assert.equal((await counts({ dimension: 'account', key: 'USER-B', sinceMs: T0 })).total, 2);
    });

    it('keeps each consumer\'s record of a job apart', async () => {
      assert.equal(await store.markProcessed('another.consumer', 'SHARED-ID', new Date(T0), new Date(T0)), true);
      assert.equal(await store.markProcessed(FAILURE_STATS_CONSUMER, 'SHARED-ID', new Date(T0), new Date(T0)), true);
      assert.equal(await store.markProcessed(FAILURE_STATS_CONSUMER, 'SHARED-ID', new Date(T0), new Date(T0)), false);
    });

    it('counts rate-limit blocks and refresh-token reuse as their own kinds', async () => {
      await record(failureJob({ type: 'ratelimit.blocked', ip: '203.0.113.4' }));
      await record(failureJob({ type: 'ratelimit.blocked', ip: '203.0.113.4' }));
      await record(failureJob({ type: 'auth.token.reuse_detected', ip: '203.0.113.4', actor: 'USER-C' }));
      assert.deepEqual(await counts({ dimension: 'ip', key: '203.0.113.4', sinceMs: T0 }), {
        total: 3, byKind: { login_failed: 0, rate_limited: 2, token_reuse: 1 },
      });
    });

    it('rolls buckets: a window counts the buckets from the one containing its start', async () => {
      const ip = '203.0.113.5';
      await record(failureJob({ ip, timeMs: T0 + 10_000 }));
      await record(failureJob({ ip, timeMs: T0 + 50_000 }));
      await record(failureJob({ ip, timeMs: T0 + MINUTE + 1_000 }));
      await record(failureJob({ ip, timeMs: T0 + 3 * MINUTE }));
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: T0 })).total, 4);
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: T0 + MINUTE })).total, 2);
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: T0 + MINUTE + 30_000 })).total, 2, 'the bucket containing sinceMs counts whole');
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: T0 + 2 * MINUTE })).total, 1);
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: T0 + 4 * MINUTE })).total, 0);
      const rows = await database.db.selectFrom('failure_stats').select(['bucket_start', 'count']).where('key', '=', ip).orderBy('bucket_start').execute();
      assert.deepEqual(rows.map((r) => [new Date(r.bucket_start).getTime() - T0, r.count]), [[0, 2], [MINUTE, 1], [3 * MINUTE, 1]]);
    });

    it('acknowledges without counting an event older than the retention', async () => {
      const old = failureJob({ ip: '203.0.113.6', timeMs: clock.nowMs() - RETENTION_MS - 1 });
      assert.equal(await record(old), 'ignored');
      assert.equal((await counts({ dimension: 'ip', key: '203.0.113.6', sinceMs: 0 })).total, 0);
    });

    it('refuses malformed job data, naming the fields but not their values, and counts nothing', async () => {
      const ip = '203.0.113.7';
      const hostile: unknown[] = [
        null, 1, 'x', [], {}, { time: 'not a date', ip }, { time: 12345, ip }, { time: new Date(T0).toISOString(), ip: 5 },
        { time: new Date(T0).toISOString(), ip: 'x'.repeat(65) }, { time: new Date(T0).toISOString(), ip, actor: '' },
      ];
      for (const data of hostile) {
        await assert.rejects(record({ id: `BAD-${JSON.stringify(data)}`, name: 'auth.login.failed', attempt: 1, data }), (error: Error) => {
          assert.match(error.message, /^relayed event is malformed: /);
          assert.ok(!error.message.includes('xxxxx') && !error.message.includes('not a date'), error.message);
          return true;
        });
      }
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: 0 })).total, 0);
    });

    it('refuses a job whose name is not a failure event, inherited property names included', async () => {
      for (const name of ['user.registered', 'constructor', '__proto__', 'toString', '']) {
        await assert.rejects(record({ ...failureJob({ ip: '203.0.113.8' }), name }), /no failure kind/);
      }
      assert.equal((await counts({ dimension: 'ip', key: '203.0.113.8', sinceMs: 0 })).total, 0);
    });

    it('prunes buckets and job records older than the retention, and keeps the rest', async () => {
      const ip = '203.0.113.9';
      const clockAtOld = clock.nowMs();
      const oldJob = failureJob({ ip, timeMs: T0 });
      await record(oldJob);
      clock.advanceMs(RETENTION_MS + 2 * 3_600_000);
      const fresh = failureJob({ ip, timeMs: clock.nowMs() - MINUTE });
      await record(fresh);
      const pruned = await prune();
      assert.ok(pruned.buckets >= 1 && pruned.jobs >= 1, JSON.stringify(pruned));
      assert.equal((await counts({ dimension: 'ip', key: ip, sinceMs: 0 })).total, 1, 'only the fresh bucket is left');
      assert.equal(await record(oldJob), 'ignored', 'a redelivered pruned job is not counted again');
      assert.equal(await record(fresh), 'duplicate', 'a recent job record survives');
      clock.setMs(clockAtOld);
    });
  });
}
