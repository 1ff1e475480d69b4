/**
 * The audit outbox relay hands sealed events to the job queue in chain order, at least once,
 * never skipping one, with one relay at a time across instances (a lease on the position row).
 *
 * Threat: a detection pipeline that silently misses events (a crash between "queued" and
 * "position saved", a queue outage, two instances relaying at once, a relay that outlived its
 * lease) lets an attack go unseen. The queue here is mostly a small recording fake of the JobQueue
 * port (faults injected on purpose), once the real in-process queue; the database is real, on
 * every SQL target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import {
  type AuditEventInput, auditEventView, createKyselyAuditRelayStore, createKyselyAuditStore, createRecordAuditEvent,
  createRelayAuditEvents, createSealAuditChain,
} from '../../src/audit/index.js';
import { createManualClock } from '../../src/platform/clock.js';
import { type Database, openDatabase } from '../../src/platform/db/database.js';
import type { DB } from '../../src/platform/db/schema.js';
import { createTransact } from '../../src/platform/db/transact.js';
import { createIdGenerator } from '../../src/platform/ids.js';
import type { JobEnvelope, JobQueue } from '../../src/platform/queue/job-queue.js';
import { createMemoryJobQueue } from '../../src/platform/queue/memory-job-queue.js';
import { secureRandom } from '../../src/platform/random.js';
import { databaseTargets, postgresUrl } from '../fixtures/database.js';

const clock = createManualClock(Date.parse('2026-09-10T11:12:13.456Z'));
const record = createRecordAuditEvent({ clock, ids: createIdGenerator(clock, secureRandom) });

/** A JobQueue that records what it accepted; `fault` injects the failures a real queue can have. */
function recordingQueue() {
  const queue = {
    jobs: [] as JobEnvelope[],
    /** reject: the queue refuses the batch; lose-ack: it accepts the batch but the acknowledgement is lost. */
    fault: undefined as 'reject' | 'lose-ack' | undefined,
    addDelayMs: 0,
    /** Runs inside add(), before the jobs are accepted: for "meanwhile, elsewhere" scenarios. */
    duringAdd: undefined as (() => Promise<void>) | undefined,
    async add(batch: readonly JobEnvelope[]) {
      if (queue.addDelayMs) await delay(queue.addDelayMs);
      await queue.duringAdd?.();
      if (queue.fault === 'reject') throw new Error('queue unavailable');
      queue.jobs.push(...batch);
      if (queue.fault === 'lose-ack') throw new Error('connection lost after the queue accepted the jobs');
    },
    async close() {},
  };
  return queue satisfies JobQueue;
}

function relayOver(db: Kysely<DB>, queue: JobQueue, batchSize = 500, owner = 'relay-a') {
  return createRelayAuditEvents({
    relay: createKyselyAuditRelayStore(db), audit: createKyselyAuditStore(db), queue, batchSize, owner, leaseMs: 30_000,
  });
}

async function lease(db: Kysely<DB>): Promise<{ owner: string | null; expired: boolean | null }> {
  const { rows } = await sql<{ owner: string | null; expired: boolean | null }>`
    select lease_owner as owner, lease_expires_at < clock_timestamp() as expired from audit_relay_position`.execute(db);
  return rows[0]!;
}

function sealAll(db: Kysely<DB>) {
  return createSealAuditChain({
    audit: createKyselyAuditStore(db), batchSize: 500,
    transact: createTransact(db, (tx) => ({ audit: createKyselyAuditStore(tx) })),
  })({ wait: true });
}

function input(i: number): AuditEventInput {
  return { type: i % 2 ? 'auth.login.failed' : 'auth.login.succeeded', outcome: i % 2 ? 'failure' : 'success', actor: `user-${i}`, ip: `10.0.0.${i}`, data: { attempt: i } };
}

/** Appends `count` events, each in its own transaction, and seals them. */
async function appendSealed(db: Kysely<DB>, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    clock.advanceMs(1);
    await db.transaction().execute((tx) => record(createKyselyAuditStore(tx), input(i)));
  }
  await sealAll(db);
}

/** The jobs the relay should produce for the whole chain, in chain order. */
async function expectedJobs(db: Kysely<DB>): Promise<JobEnvelope[]> {
  const chain = await createKyselyAuditStore(db).readChain(null, 10_000);
  return chain.map((e) => ({ id: e.id, name: e.type, data: auditEventView(e) }));
}

async function position(db: Kysely<DB>): Promise<string> {
  return createKyselyAuditRelayStore(db).position();
}

function withDatabase(name: string, open: () => Promise<Database>, body: (db: () => Kysely<DB>) => void): void {
  describe(name, () => {
    let database: Database;
    before(async () => { database = await open(); });
    after(async () => { await database.close(); });
    body(() => database.db);
  });
}

for (const target of databaseTargets()) {
  const isPostgres = target.name === 'PostgreSQL';
  describe(`audit relay on ${target.name}`, () => {
    withDatabase('delivery', target.open, (db) => {
      it('relays only sealed events, in chain order, as {id: event id, name: event type, data: event view}, then advances its position', async () => {
        const queue = recordingQueue();
        const relay = relayOver(db(), queue);
        await db().transaction().execute((tx) => record(createKyselyAuditStore(tx), input(1)));
        assert.deepEqual(await relay(), { relayed: 0, locked: true }, 'an unsealed event is not relayed');
        assert.equal(queue.jobs.length, 0);

        await appendSealed(db(), 3);
        assert.deepEqual(await relay(), { relayed: 4, locked: true });
        assert.deepEqual(queue.jobs, await expectedJobs(db()));
        assert.equal(await position(db()), '4');
        const first = queue.jobs[0]!;
        assert.deepEqual(first.data, {
          id: first.id, time: (first.data as { time: string }).time, type: 'auth.login.failed', actor: 'user-1', ip: '10.0.0.1',
          outcome: 'failure', data: { attempt: 1 },
        }, 'empty fields are omitted and the chain fields stay internal');

        assert.deepEqual(await relay(), { relayed: 0, locked: true }, 'nothing is relayed twice');
        await appendSealed(db(), 2);
        assert.deepEqual(await relay(), { relayed: 2, locked: true });
        assert.deepEqual(queue.jobs, await expectedJobs(db()));
      });

      it('relays a backlog larger than one batch in several transactions, in order', async () => {
        await appendSealed(db(), 7);
        const queue = recordingQueue();
        assert.deepEqual(await relayOver(db(), queue, 3)(), { relayed: 7, locked: true });
        assert.deepEqual(queue.jobs, (await expectedJobs(db())).slice(-7));
        assert.equal(await position(db()), '13');
      });
    });

    withDatabase('faults', target.open, (db) => {
      it('keeps its position when the queue refuses a batch, and delivers that batch once the queue is back', async () => {
        await appendSealed(db(), 3);
        const queue = recordingQueue();
        queue.fault = 'reject';
        await assert.rejects(relayOver(db(), queue)(), /queue unavailable/);
        assert.equal(await position(db()), '0');
        queue.fault = undefined;
        assert.deepEqual(await relayOver(db(), queue)(), { relayed: 3, locked: true });
        assert.deepEqual(queue.jobs, await expectedJobs(db()));
      });

      it('delivers a batch again, same job ids, when the position could not be saved after the queue took it (at least once, no gap)', async () => {
        await appendSealed(db(), 2);
        const queue = recordingQueue();
        queue.fault = 'lose-ack';
        await assert.rejects(relayOver(db(), queue)(), /connection lost/);
        assert.equal(await position(db()), '3');
        const firstTry = [...queue.jobs];
        assert.equal(firstTry.length, 2);
        queue.fault = undefined;
        assert.deepEqual(await relayOver(db(), queue)(), { relayed: 2, locked: true });
        assert.deepEqual(queue.jobs, [...firstTry, ...firstTry], 'the duplicate carries the same id, so the queue can drop it');
        assert.deepEqual(queue.jobs.slice(2), (await expectedJobs(db())).slice(-2));
        assert.equal(await position(db()), '5');
      });

      it('refuses a second relay position row, so two positions can never disagree', async () => {
        await assert.rejects(sql`insert into audit_relay_position (id, chain_seq) values (true, 0)`.execute(db()));
        await assert.rejects(sql`insert into audit_relay_position (id, chain_seq) values (false, 0)`.execute(db()));
      });
    });

    withDatabase('one relay at a time', target.open, (db) => {
      it('delivers every event exactly once when two instances relay at once', async () => {
        await appendSealed(db(), 6);
        const other = isPostgres
          ? await openDatabase({ databaseUrl: postgresUrl(), schema: (await sql<{ s: string }>`select current_schema() as s`.execute(db())).rows[0]!.s })
          : undefined;
        try {
          const queue = recordingQueue();
          // A slow queue keeps the first relay's transaction open while the second one tries.
          queue.addDelayMs = 50;
          const outcomes = await Promise.all([relayOver(db(), queue, 2)(), relayOver(other?.db ?? db(), queue, 2, 'relay-b')()]);
          assert.equal(outcomes.reduce((n, o) => n + o.relayed, 0), 6);
          assert.deepEqual(queue.jobs, await expectedJobs(db()), 'each event once, in chain order');
        } finally {
          await other?.close();
        }
      });

      it('steps aside while another relay holds the lease, and relays once it is released', async () => {
        await appendSealed(db(), 1);
        const queue = recordingQueue();
        const store = createKyselyAuditRelayStore(db());
        assert.notEqual(await store.claim('relay-b', 30_000), null);
        assert.equal(await store.claim('relay-a', 30_000), null, 'a held lease cannot be claimed');
        assert.deepEqual(await relayOver(db(), queue)(), { relayed: 0, locked: false });
        assert.equal(queue.jobs.length, 0);
        await store.release('relay-b');
        assert.deepEqual(await relayOver(db(), queue)(), { relayed: 1, locked: true });
        assert.deepEqual(queue.jobs, (await expectedJobs(db())).slice(-1));
        assert.deepEqual(await lease(db()), { owner: null, expired: null }, 'the relay gives its lease up when done');
      });

      it('takes over the lease of a relay that died holding it, once the lease has expired', async () => {
        await appendSealed(db(), 1);
        const store = createKyselyAuditRelayStore(db());
        assert.notEqual(await store.claim('crashed-relay', 30_000), null);
        await sql`update audit_relay_position set lease_expires_at = clock_timestamp() - interval '1 second'`.execute(db());
        const queue = recordingQueue();
        assert.deepEqual(await relayOver(db(), queue)(), { relayed: 1, locked: true });
      });

      it('does not move the position when its lease was taken over while the queue was accepting', async () => {
        await appendSealed(db(), 2);
        const before = await position(db());
        const queue = recordingQueue();
        // The queue stalls past the lease; another instance takes the expired lease meanwhile.
        queue.duringAdd = async () => {
          await sql`update audit_relay_position set lease_owner = 'relay-b', lease_expires_at = clock_timestamp() + interval '30 seconds'`.execute(db());
        };
        assert.deepEqual(await relayOver(db(), queue)(), { relayed: 0, locked: false });
        assert.equal(await position(db()), before, 'relay-b relays the batch again: a duplicate, never a gap');
        assert.equal(queue.jobs.length, 2);
        assert.equal((await lease(db())).owner, 'relay-b', 'the loser does not release the winner\'s lease');
        await createKyselyAuditRelayStore(db()).release('relay-b');
      });

      it('relays into the in-process queue whose add() waits for handlers that use the database, without deadlocking', async () => {
        await appendSealed(db(), 3);
        // Everything after the position, including the batch the previous test left for relay-b.
        const pending = (await expectedJobs(db())).slice(Number(await position(db())));
        const memory = createMemoryJobQueue({ attempts: 3, backoffMs: 10, concurrency: 2 });
        const handled: string[] = [];
        // Each handler runs its own transaction: on PGlite (one connection) it would wait for ever
        // if the relay held a transaction open across add().
        await memory.start(async (job) => {
          await db().transaction().execute(async (tx) => { await sql`select 1`.execute(tx); });
          handled.push(job.id);
        });
        try {
          let timer: NodeJS.Timeout | undefined;
          const outcome = await Promise.race([
            relayOver(db(), memory)(),
            new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('relay still waiting after 10 s')), 10_000); }),
          ]).finally(() => clearTimeout(timer));
          assert.deepEqual(outcome, { relayed: pending.length, locked: true });
          assert.deepEqual(new Set(handled), new Set(pending.map((j) => j.id)), 'every job was handled before the position moved');
        } finally {
          await memory.close();
        }
      });
    });
  });
}
