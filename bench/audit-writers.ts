// Audited inserts/s with many concurrent writers on PostgreSQL: the old global chain lock
// (pg_advisory_xact_lock + head read + insert, migration 0001 only) against unsealed inserts
// with the sealer running as in production (timer + a nudge after each commit).
// Usage: DATABASE_URL=postgres://... npx tsx bench/audit-writers.ts [writers=20] [seconds=5]
// Output: one JSON line per mode on stdout. Not part of `npm run bench`; a quick comparison.
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import {
  createAuditSealer, createKyselyAuditStore, createRecordAuditEvent, createSealAuditChain, verifyAuditChain,
} from '../src/audit/index.js';
import { hashAuditEvent } from '../src/audit/service/event-hash.js';
import { systemClock } from '../src/platform/clock.js';
import { type Database, migrateToLatest, openDatabase } from '../src/platform/db/database.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import type { DB } from '../src/platform/db/schema.js';
import { createTransact } from '../src/platform/db/transact.js';
import { createIdGenerator } from '../src/platform/ids.js';
import { secureRandom } from '../src/platform/random.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const writers = Number(process.argv[2] ?? 20);
const seconds = Number(process.argv[3] ?? 5);
const ids = createIdGenerator(systemClock, secureRandom);
const record = createRecordAuditEvent({ clock: systemClock, ids });
const input = { type: 'auth.login.succeeded', outcome: 'success' as const, actor: 'user-1', ip: '10.0.0.1', data: { sessionId: 'abc' } };

/** A fresh schema migrated up to `upTo`, dropped on close. */
async function freshSchema(upTo: 'initial' | 'latest'): Promise<Database & { drop(): Promise<void> }> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = await openDatabase({ databaseUrl: url });
  await sql`create schema ${sql.id(schema)}`.execute(admin.db);
  const database = await openDatabase({ databaseUrl: url, schema, poolMax: writers + 1 });
  if (upTo === 'latest') await migrateToLatest(database.db, schema);
  else {
    const migrator = new Migrator({ db: database.db, migrationTableSchema: schema, provider: { getMigrations: async () => ({ '0001-initial': migrations['0001-initial']! }) } });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }
  return {
    ...database,
    async drop() {
      await database.close();
      await sql`drop schema ${sql.id(schema)} cascade`.execute(admin.db);
      await admin.close();
    },
  };
}

/** Runs `writers` loops of one-transaction inserts for `seconds`; returns committed inserts. */
async function hammer(insertOne: () => Promise<void>): Promise<{ inserts: number; elapsedMs: number }> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let inserts = 0;
  await Promise.all(Array.from({ length: writers }, async () => {
    while (performance.now() < end) {
      await insertOne();
      inserts++;
    }
  }));
  return { inserts, elapsedMs: performance.now() - start };
}

/** The pre-sealer write path: every audited transaction takes the global lock to read the head. */
async function oldLock(): Promise<void> {
  const database = await freshSchema('initial');
  const db = database.db as unknown as Kysely<DB>;
  try {
    const { inserts, elapsedMs } = await hammer(() => db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(7243551001)`.execute(tx);
      const head = await sql<{ hash: string }>`select hash from audit_events order by seq desc limit 1`.execute(tx);
      const prevHash = head.rows[0]?.hash ?? '';
      const event = { ...input, id: ids.next(), time: new Date(), subject: null, userAgent: null, requestId: null };
      const hash = hashAuditEvent({ ...event, chainSeq: '', prevHash, hashVersion: 1 });
      await sql`insert into audit_events (id, time, type, actor, subject, ip, user_agent, outcome, request_id, data, prev_hash, hash)
        values (${event.id}, ${event.time}, ${event.type}, ${event.actor}, null, ${event.ip}, null, ${event.outcome}, null, ${JSON.stringify(event.data)}::jsonb, ${prevHash}, ${hash})`.execute(tx);
    }));
    console.log(JSON.stringify({ mode: 'old chain lock', writers, inserts, insertsPerSecond: Math.round(inserts / (elapsedMs / 1000)) }));
  } finally {
    await database.drop();
  }
}

/** The sealer write path: unsealed inserts, no lock; the sealer chains them behind. */
async function sealer(): Promise<void> {
  const database = await freshSchema('latest');
  const { db } = database;
  try {
    const store = createKyselyAuditStore(db);
    const auditSealer = createAuditSealer({
      seal: createSealAuditChain({ audit: store, batchSize: 500, transact: createTransact(db, (tx) => ({ audit: createKyselyAuditStore(tx) })) }),
      intervalMs: 200,
      onError: (error) => console.error(error),
    });
    auditSealer.start();
    const { inserts, elapsedMs } = await hammer(async () => {
      await db.transaction().execute((tx) => record(createKyselyAuditStore(tx), input));
      auditSealer.nudge();
    });
    const unsealedAtEnd = await store.countUnsealed();
    const drainStart = performance.now();
    await auditSealer.close();
    const drainMs = performance.now() - drainStart;
    const verification = await verifyAuditChain(store);
    console.log(JSON.stringify({
      mode: 'sealer', writers, inserts, insertsPerSecond: Math.round(inserts / (elapsedMs / 1000)),
      unsealedWhenWritersStopped: unsealedAtEnd, drainMs: Math.round(drainMs), verification,
    }));
  } finally {
    await database.drop();
  }
}

await oldLock();
await sealer();
