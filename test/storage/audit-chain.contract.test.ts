/**
 * The audit log is tamper-evident and append-only on every SQL target.
 *
 * Writers insert events unsealed, without any lock; one sealer at a time (an advisory lock
 * across instances) later gives each committed event a chain position, links it to its
 * predecessor and hashes it. Concurrent writers, transactions that commit out of seq order and
 * two sealers running at once must never fork the chain or skip an event.
 *
 * Threat: someone with database access (a bug, a stolen application credential, an insider)
 * rewrites history to hide what happened: edits an event, deletes one, reorders two, or edits
 * one and recomputes its hash. The database must refuse UPDATE, DELETE and TRUNCATE outright,
 * except the sealer's one-time NULL-to-value update of the seal columns; and when the refusal is
 * bypassed (here by disabling the trigger, as a table owner could), verifyAuditChain must name
 * the first event that no longer fits the chain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import {
  type AuditEventInput, type AuditEventRecord, createKyselyAuditStore, createRecordAuditEvent, createSealAuditChain,
  type StoredAuditEvent, verifyAuditChain,
} from '../../src/audit/index.js';
import { hashAuditEvent } from '../../src/audit/service/event-hash.js';
import { createManualClock } from '../../src/platform/clock.js';
import { type Database, migrateToLatest, openDatabase } from '../../src/platform/db/database.js';
import { migrations } from '../../src/platform/db/migrations/index.js';
import type { DB } from '../../src/platform/db/schema.js';
import { createTransact } from '../../src/platform/db/transact.js';
import { createIdGenerator } from '../../src/platform/ids.js';
import { secureRandom } from '../../src/platform/random.js';
import { databaseTargets, postgresUrl } from '../fixtures/database.js';

const clock = createManualClock(Date.parse('2026-09-10T11:12:13.456Z'));
const ids = createIdGenerator(clock, secureRandom);
const record = createRecordAuditEvent({ clock, ids });

/** Appends one event in its own transaction, as every service does. */
function append(db: Kysely<DB>, input: AuditEventInput): Promise<AuditEventRecord> {
  return db.transaction().execute((tx) => record(createKyselyAuditStore(tx), input));
}

/** A sealer over `db`, as one instance runs it. */
function sealerOver(db: Kysely<DB>, batchSize = 500) {
  return createSealAuditChain({
    audit: createKyselyAuditStore(db), batchSize,
    transact: createTransact(db, (tx) => ({ audit: createKyselyAuditStore(tx) })),
  });
}

/** Seals every committed event, waiting for the lock if another sealer holds it. */
function sealAll(db: Kysely<DB>, batchSize?: number) {
  return sealerOver(db, batchSize)({ wait: true });
}

function verify(db: Kysely<DB>, batchSize?: number) {
  return verifyAuditChain(createKyselyAuditStore(db), batchSize);
}

function readChain(db: Kysely<DB>): Promise<StoredAuditEvent[]> {
  return createKyselyAuditStore(db).readChain(null, 10_000);
}

function sampleInput(i: number): AuditEventInput {
  return {
    type: i % 2 === 0 ? 'user.login' : 'user.registered',
    outcome: i % 3 === 0 ? 'failure' : 'success',
    actor: `user-${i}`,
    subject: i % 4 === 0 ? null : `user-${i}`,
    ip: `10.0.0.${i}`,
    userAgent: `agent/${i}`,
    requestId: `req-${i}`,
    data: { email: `user-${i}@example.com`, attempt: i, nested: { list: [i, 'x', null, true], ratio: i / 7 } },
  };
}

/** Appends `count` events one after another (1 ms apart), seals them, and returns the chain as stored. */
async function seedChain(db: Kysely<DB>, count: number): Promise<StoredAuditEvent[]> {
  for (let i = 1; i <= count; i++) {
    clock.advanceMs(1);
    await append(db, sampleInput(i));
  }
  assert.deepEqual(await sealAll(db), { sealed: count, locked: true });
  const chain = await readChain(db);
  assert.equal(chain.length, count);
  return chain;
}

/** Runs `work` with the append-only triggers disabled, as an attacker owning the table could. */
async function withTriggersDisabled(db: Kysely<DB>, work: () => Promise<void>): Promise<void> {
  await sql`alter table audit_events disable trigger user`.execute(db);
  try {
    await work();
  } finally {
    await sql`alter table audit_events enable trigger user`.execute(db);
  }
}

/** The nth event (1-based) of a seeded chain. */
function nth(chain: StoredAuditEvent[], n: number): StoredAuditEvent {
  const event = chain[n - 1];
  assert.ok(event, `event #${n} exists`);
  return event;
}

/** Asserts the chain is positions 1..n, each linked to its predecessor's hash, the first to ''. */
function assertLinked(chain: StoredAuditEvent[]): void {
  chain.forEach((event, i) => {
    assert.equal(event.chainSeq, String(i + 1));
    assert.equal(event.prevHash, i === 0 ? '' : chain[i - 1]!.hash);
    assert.equal(event.hashVersion, 2);
  });
}

/** A describe with its own database, so tampering in one case cannot leak into another. */
function withDatabase(name: string, open: () => Promise<Database>, body: (db: () => Kysely<DB>, database: () => Database) => void): void {
  describe(name, () => {
    let database: Database;
    before(async () => { database = await open(); });
    after(async () => { await database.close(); });
    body(() => database.db, () => database);
  });
}

/** A second connection pool onto the same PostgreSQL schema: another instance of the service. */
async function secondInstance(db: Kysely<DB>): Promise<Database> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return openDatabase({ databaseUrl: postgresUrl(), schema: rows[0]!.schema, poolMax: 10 });
}

/** Rejects if `promise` has not settled within `ms`: for "this must not wait for that" claims. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} still waiting after ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const ONE_CONNECTION = 'PGlite has one connection: two transactions are never open at once';

for (const target of databaseTargets()) {
  const isPostgres = target.name === 'PostgreSQL';
  describe(`audit chain on ${target.name}`, () => {
    withDatabase('sequential appends', target.open, (db) => {
      it('keeps appended events unsealed until the sealer chains them, each linked to the previous hash, the first to the empty hash', async () => {
        const appended: AuditEventRecord[] = [];
        for (let i = 1; i <= 10; i++) {
          clock.advanceMs(1);
          appended.push(await append(db(), sampleInput(i)));
        }
        assert.deepEqual(await verify(db()), { ok: true, checked: 0, unsealed: 10 });
        assert.deepEqual(await sealAll(db()), { sealed: 10, locked: true });
        assert.deepEqual(await verify(db()), { ok: true, checked: 10, unsealed: 0 });
        const stored = await readChain(db());
        const content = stored.map(({ seq: _s, chainSeq: _c, prevHash: _p, hash: _h, hashVersion: _v, ...rest }) => rest);
        assert.deepEqual(content, appended, 'every field reads back as written, in append order');
        assertLinked(stored);
        assert.deepEqual(await sealAll(db()), { sealed: 0, locked: true }, 'a second pass finds nothing to do');
      });

      it('verifies a chain longer than one read batch', async () => {
        // 10 events from the previous test: batches of 3 cross several boundaries.
        assert.deepEqual(await verify(db(), 3), { ok: true, checked: 10, unsealed: 0 });
      });

      it('seals in several transactions when more events wait than one batch holds, continuing the same chain', async () => {
        for (let i = 11; i <= 17; i++) await append(db(), sampleInput(i));
        assert.deepEqual(await sealAll(db(), 3), { sealed: 7, locked: true });
        assertLinked(await readChain(db()));
        assert.deepEqual(await verify(db()), { ok: true, checked: 17, unsealed: 0 });
      });
    });

    withDatabase('concurrent appends', target.open, (db) => {
      it('keeps one unforked chain when 20 transactions append at once while the sealer runs', async () => {
        const sealer = sealerOver(db());
        const writers = Array.from({ length: 20 }, (_, i) => append(db(), sampleInput(i + 1)));
        const passes = Array.from({ length: 5 }, () => sealer());
        const appended = await Promise.all(writers);
        await Promise.all(passes);
        await sealAll(db());
        assert.deepEqual(await verify(db()), { ok: true, checked: 20, unsealed: 0 });
        const chain = await readChain(db());
        assertLinked(chain);
        assert.deepEqual(new Set(chain.map((e) => e.id)), new Set(appended.map((e) => e.id)), 'every appended event is in the chain once');
      });
    });

    withDatabase('an open transaction holding a lower seq', target.open, (db) => {
      it('seals the later commit first, then the earlier-started one once it commits: both chained, nothing skipped', { skip: isPostgres ? false : ONE_CONNECTION }, async () => {
        const txA = await db().startTransaction().execute();
        let committedA = false;
        try {
          const a = await record(createKyselyAuditStore(txA), sampleInput(1));
          // Under the old chain lock this append waited for A; now writers never wait for each other.
          const b = await within(append(db(), sampleInput(2)), 5_000, 'an append next to an open audited transaction');
          assert.deepEqual(await sealAll(db()), { sealed: 1, locked: true });
          assert.deepEqual(await verify(db()), { ok: true, checked: 1, unsealed: 0 }, 'A is not committed: invisible, not skipped');
          await txA.commit().execute();
          committedA = true;
          assert.deepEqual(await verify(db()), { ok: true, checked: 1, unsealed: 1 });
          assert.deepEqual(await sealAll(db()), { sealed: 1, locked: true });
          assert.deepEqual(await verify(db()), { ok: true, checked: 2, unsealed: 0 });
          const chain = await readChain(db());
          assert.deepEqual(chain.map((e) => e.id), [b.id, a.id], 'chain order is seal order');
          assert.ok(BigInt(nth(chain, 2).seq) < BigInt(nth(chain, 1).seq), 'A holds the lower seq yet the later position');
          assertLinked(chain);
        } finally {
          if (!committedA) await txA.rollback().execute();
        }
      });
    });

    withDatabase('two sealers', target.open, (db) => {
      it('never fork the chain when two instances seal at once while writers append', async () => {
        const other = isPostgres ? await secondInstance(db()) : undefined;
        try {
          const sealers = [sealerOver(db(), 4), sealerOver(other?.db ?? db(), 4)];
          const outcomes: Array<Promise<unknown>> = [];
          const writers: Array<Promise<AuditEventRecord>> = [];
          for (let round = 0; round < 6; round++) {
            for (let i = 0; i < 5; i++) writers.push(append(db(), sampleInput(round * 5 + i + 1)));
            outcomes.push(sealers[0]!(), sealers[1]!());
          }
          const appended = await Promise.all(writers);
          await Promise.all(outcomes);
          await sealAll(db());
          assert.deepEqual(await verify(db()), { ok: true, checked: 30, unsealed: 0 });
          const chain = await readChain(db());
          assertLinked(chain);
          assert.equal(new Set(chain.map((e) => e.id)).size, 30);
          assert.deepEqual(new Set(chain.map((e) => e.id)), new Set(appended.map((e) => e.id)));
        } finally {
          await other?.close();
        }
      });

      it('steps aside while another sealer holds the lock, and seals once it is released', { skip: isPostgres ? false : ONE_CONNECTION }, async () => {
        const ids = [(await append(db(), sampleInput(1))).id, (await append(db(), sampleInput(2))).id];
        const holder = await db().startTransaction().execute();
        try {
          assert.equal(await createKyselyAuditStore(holder).lockSealer(false), true);
          assert.deepEqual(await sealerOver(db())(), { sealed: 0, locked: false });
          assert.equal(await createKyselyAuditStore(db()).countUnsealed(), 2, 'nothing was sealed behind the holder\'s back');
        } finally {
          await holder.rollback().execute();
        }
        assert.deepEqual(await sealerOver(db())(), { sealed: 2, locked: true });
        assert.deepEqual((await readChain(db())).slice(-2).map((e) => e.id), ids);
        assert.deepEqual(await verify(db()), { ok: true, checked: 32, unsealed: 0 });
      });
    });

    withDatabase('redaction', target.open, (db) => {
      it('stores secrets in data as [redacted], hashes the redacted form, and keeps the rest', async () => {
        const secrets = ['hunter2-password', 'rt-refresh-secret', 'tok-secret', 'Bearer eyJ.secret'];
        const event = await append(db(), {
          type: 'user.password_changed', outcome: 'success', actor: 'u1',
          data: {
            password: secrets[0], refreshToken: secrets[1], token: secrets[2], authorization: secrets[3],
            email: 'ada@example.com', nested: { Password: secrets[0], keep: 'me' },
          },
        });
        const expected = {
          password: '[redacted]', refreshToken: '[redacted]', token: '[redacted]', authorization: '[redacted]',
          email: 'ada@example.com', nested: { Password: '[redacted]', keep: 'me' },
        };
        assert.deepEqual(event.data, expected);
        await sealAll(db());
        const [stored] = await readChain(db());
        assert.deepEqual(stored?.data, expected);
        const { rows } = await sql<{ raw: string }>`select data::text as raw from audit_events`.execute(db());
        for (const secret of secrets) assert.ok(!rows[0]?.raw.includes(secret), `${secret} never reaches the table`);
        assert.deepEqual(await verify(db()), { ok: true, checked: 1, unsealed: 0 });
      });
    });

    withDatabase('append-only enforcement', target.open, (db) => {
      const APPEND_ONLY = /audit_events is append-only/;
      // [what, statement over (a sealed id, an unsealed id), expected message]
      const statements = [
        ['UPDATE of a sealed row', (id: string) => sql`update audit_events set data = '{"email":"mallory@example.com"}'::jsonb where id = ${id}`, APPEND_ONLY],
        ['UPDATE of every row', () => sql`update audit_events set actor = 'mallory'`, APPEND_ONLY],
        ['UPDATE of an unsealed row\'s data', (_: string, unsealed: string) => sql`update audit_events set data = '{"email":"mallory@example.com"}'::jsonb where id = ${unsealed}`, APPEND_ONLY],
        ['sealing an unsealed row while changing its actor', (_: string, unsealed: string) =>
          sql`update audit_events set actor = 'mallory', chain_seq = 1000, prev_hash = 'x', hash = 'y', hash_version = 2 where id = ${unsealed}`, APPEND_ONLY],
        ['re-sealing a sealed row', (id: string) => sql`update audit_events set hash = 'forged', prev_hash = 'forged' where id = ${id}`, APPEND_ONLY],
        ['unsealing a sealed row', (id: string) => sql`update audit_events set chain_seq = null, prev_hash = null, hash = null, hash_version = null where id = ${id}`, APPEND_ONLY],
        ['INSERT of a row already sealed', () => sql`insert into audit_events (id, time, type, outcome, data, chain_seq, prev_hash, hash, hash_version)
          values ('forged', now(), 'user.login', 'success', '{}'::jsonb, 1000, 'x', 'y', 2)`, /audit_events rows are inserted unsealed/],
        ['DELETE', (id: string) => sql`delete from audit_events where id = ${id}`, APPEND_ONLY],
        ['DELETE of an unsealed row', (_: string, unsealed: string) => sql`delete from audit_events where id = ${unsealed}`, APPEND_ONLY],
        ['DELETE of every row', () => sql`delete from audit_events`, APPEND_ONLY],
        ['TRUNCATE', () => sql`truncate audit_events`, APPEND_ONLY],
      ] as const;
      let unsealedId = '';
      before(async () => {
        await seedChain(db(), 3);
        unsealedId = (await append(db(), sampleInput(4))).id;
      });
      for (const [what, statement, message] of statements) {
        it(`refuses ${what} on audit_events with an error and leaves every row unchanged`, async () => {
          const store = createKyselyAuditStore(db());
          const [sealed, pending] = [await readChain(db()), await store.readUnsealed(100)];
          await assert.rejects(statement(nth(sealed, 2).id, unsealedId).execute(db()), (error: Error & { code?: string }) => {
            assert.match(error.message, message);
            assert.equal(error.code, '42501');
            return true;
          });
          assert.deepEqual(await readChain(db()), sealed);
          assert.deepEqual(await store.readUnsealed(100), pending);
          assert.deepEqual(await verify(db()), { ok: true, checked: 3, unsealed: 1 });
        });
      }
    });

    describe('tampering', () => {
      const edits = [
        ['data', sql`data = '{"email":"mallory@example.com"}'::jsonb`],
        ['actor', sql`actor = 'mallory'`],
        ['time', sql`time = time + interval '1 millisecond'`],
        ['outcome', sql`outcome = case when outcome = 'success' then 'failure' else 'success' end`],
      ] as const;
      for (const [column, assignment] of edits) {
        withDatabase(`an edited ${column}`, target.open, (db) => {
          it(`names event #5 when its ${column} was edited`, async () => {
            const chain = await seedChain(db(), 10);
            await withTriggersDisabled(db(), async () => {
              const result = await sql`update audit_events set ${assignment} where id = ${nth(chain, 5).id}`.execute(db());
              assert.equal(result.numAffectedRows, 1n);
            });
            const edited = (await readChain(db()))[4];
            assert.notDeepEqual(edited, nth(chain, 5), 'the edit changed the row');
            assert.deepEqual(await verify(db()), { ok: false, checked: 5, unsealed: 0, firstBadId: nth(chain, 5).id });
          });
        });
      }

      withDatabase('a deleted event', target.open, (db) => {
        it('names event #6 when event #5 was deleted', async () => {
          const chain = await seedChain(db(), 10);
          await withTriggersDisabled(db(), async () => {
            await db().deleteFrom('audit_events').where('id', '=', nth(chain, 5).id).execute();
          });
          assert.deepEqual(await verify(db()), { ok: false, checked: 5, unsealed: 0, firstBadId: nth(chain, 6).id });
        });
      });

      withDatabase('two reordered events', target.open, (db) => {
        it('names the event now at position 4 when events #4 and #5 swapped chain positions', async () => {
          const chain = await seedChain(db(), 10);
          const fourth = nth(chain, 4);
          const fifth = nth(chain, 5);
          // chain_seq is unique: park one position first.
          await withTriggersDisabled(db(), async () => {
            await db().updateTable('audit_events').set({ chain_seq: '-1' }).where('id', '=', fourth.id).execute();
            await db().updateTable('audit_events').set({ chain_seq: '4' }).where('id', '=', fifth.id).execute();
            await db().updateTable('audit_events').set({ chain_seq: '5' }).where('id', '=', fourth.id).execute();
          });
          const reordered = await readChain(db());
          assert.deepEqual(reordered.map((e) => e.id), [...chain.slice(0, 3), fifth, fourth, ...chain.slice(5)].map((e) => e.id));
          assert.deepEqual(await verify(db()), { ok: false, checked: 4, unsealed: 0, firstBadId: fifth.id });
        });
      });

      withDatabase('two events with swapped content', target.open, (db) => {
        it('names event #4 when events #4 and #5 swapped content but kept their ids, positions and hashes', async () => {
          const chain = await seedChain(db(), 10);
          const [at4, at5] = [nth(chain, 4), nth(chain, 5)];
          const content = (e: StoredAuditEvent) => ({
            time: e.time, type: e.type, actor: e.actor, subject: e.subject, ip: e.ip, user_agent: e.userAgent,
            outcome: e.outcome, request_id: e.requestId, data: JSON.stringify(e.data),
          });
          await withTriggersDisabled(db(), async () => {
            await db().updateTable('audit_events').set(content(at5)).where('id', '=', at4.id).execute();
            await db().updateTable('audit_events').set(content(at4)).where('id', '=', at5.id).execute();
          });
          assert.deepEqual(await verify(db()), { ok: false, checked: 4, unsealed: 0, firstBadId: at4.id });
        });
      });

      withDatabase('an edited event with a recomputed hash', target.open, (db) => {
        it('names event #6 when event #5 was edited and given a matching hash of its own', async () => {
          const chain = await seedChain(db(), 10);
          const original = nth(chain, 5);
          const { seq: _seq, hash: _hash, ...unhashed } = original;
          const forged = { ...unhashed, actor: 'mallory', data: { email: 'mallory@example.com' } };
          const forgedHash = hashAuditEvent(forged);
          await withTriggersDisabled(db(), async () => {
            await db().updateTable('audit_events')
              .set({ actor: forged.actor, data: JSON.stringify(forged.data), hash: forgedHash })
              .where('id', '=', original.id).execute();
          });
          const stored = (await readChain(db()))[4];
          assert.equal(stored && hashAuditEvent(stored), forgedHash, 'the forged event is self-consistent');
          assert.deepEqual(await verify(db()), { ok: false, checked: 6, unsealed: 0, firstBadId: nth(chain, 6).id });
        });
      });

      withDatabase('a moved position with a recomputed hash', target.open, (db) => {
        it('names event #6 when event #5 was deleted and #6 re-hashed into position 5', async () => {
          const chain = await seedChain(db(), 10);
          const sixth = nth(chain, 6);
          const moved = { ...sixth, chainSeq: '5', prevHash: nth(chain, 4).hash };
          await withTriggersDisabled(db(), async () => {
            await db().deleteFrom('audit_events').where('id', '=', nth(chain, 5).id).execute();
            await db().updateTable('audit_events')
              .set({ chain_seq: '5', prev_hash: moved.prevHash, hash: hashAuditEvent(moved) }).where('id', '=', sixth.id).execute();
          });
          // The hash covers the position, so the forger had to re-hash #6, which breaks #7's link.
          assert.deepEqual(await verify(db()), { ok: false, checked: 6, unsealed: 0, firstBadId: nth(chain, 7).id });
        });
      });
    });

    describe('history chained before the sealer (migration 0001)', () => {
      let database: Database;
      let schema: string | undefined;
      before(async () => {
        if (isPostgres) {
          const admin = await openDatabase({ databaseUrl: postgresUrl() });
          schema = `t_legacy_${Math.random().toString(36).slice(2, 10)}`;
          await sql`create schema ${sql.id(schema)}`.execute(admin.db);
          await admin.close();
          database = await openDatabase({ databaseUrl: postgresUrl(), schema });
        } else {
          database = await openDatabase({ pglite: await PGlite.create() });
        }
      });
      after(async () => {
        await database.close();
        if (schema) {
          const admin = await openDatabase({ databaseUrl: postgresUrl() });
          await sql`drop schema ${sql.id(schema)} cascade`.execute(admin.db);
          await admin.close();
        }
      });

      it('keeps verifying after the migration, then continues the same chain with sealed events', async () => {
        const db = database.db;
        const onlyInitial = new Migrator({
          db, provider: { getMigrations: async () => ({ '0001-initial': migrations['0001-initial']! }) },
          ...(schema ? { migrationTableSchema: schema } : {}),
        });
        const first = await onlyInitial.migrateToLatest();
        assert.equal(first.error, undefined);
        // Written as the old code did: the hash covers the previous hash and the content only.
        let prevHash = '';
        const legacy: string[] = [];
        for (let i = 1; i <= 4; i++) {
          clock.advanceMs(1);
          const input = sampleInput(i);
          const content: AuditEventRecord = {
            id: ids.next(), time: new Date(clock.nowMs()), type: input.type, actor: input.actor ?? null, subject: input.subject ?? null,
            ip: input.ip ?? null, userAgent: input.userAgent ?? null, outcome: input.outcome, requestId: input.requestId ?? null, data: input.data ?? {},
          };
          const hash = hashAuditEvent({ ...content, chainSeq: 'unused by version 1', prevHash, hashVersion: 1 });
          await sql`insert into audit_events (id, time, type, actor, subject, ip, user_agent, outcome, request_id, data, prev_hash, hash)
            values (${content.id}, ${content.time}, ${content.type}, ${content.actor}, ${content.subject}, ${content.ip}, ${content.userAgent},
              ${content.outcome}, ${content.requestId}, ${JSON.stringify(content.data)}::jsonb, ${prevHash}, ${hash})`.execute(db);
          legacy.push(content.id);
          prevHash = hash;
        }
        await migrateToLatest(db, schema);

        assert.deepEqual(await verify(db), { ok: true, checked: 4, unsealed: 0 });
        const migrated = await readChain(db);
        assert.deepEqual(migrated.map((e) => [e.id, e.chainSeq, e.hashVersion]), legacy.map((id, i) => [id, String(i + 1), 1]));
        const relayFrom = await db.selectFrom('audit_relay_position').select('chain_seq').executeTakeFirstOrThrow();
        assert.equal(String(relayFrom.chain_seq), '4', 'history from before the relay is not replayed into the queue');

        await append(db, sampleInput(5));
        await append(db, sampleInput(6));
        assert.deepEqual(await sealAll(db), { sealed: 2, locked: true });
        const chain = await readChain(db);
        assert.deepEqual(chain.map((e) => e.hashVersion), [1, 1, 1, 1, 2, 2]);
        assert.equal(nth(chain, 5).prevHash, nth(chain, 4).hash, 'the first sealed event links to the last migrated one');
        assert.deepEqual(await verify(db), { ok: true, checked: 6, unsealed: 0 });

        await withTriggersDisabled(db, async () => {
          await sql`update audit_events set actor = 'mallory' where id = ${legacy[1]!}`.execute(db);
        });
        assert.deepEqual(await verify(db), { ok: false, checked: 2, unsealed: 0, firstBadId: legacy[1] });
      });
    });
  });
}
