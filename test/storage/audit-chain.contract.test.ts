/**
 * The audit log is tamper-evident and append-only on every SQL target.
 *
 * Threat: someone with database access (a bug, a stolen application credential, an insider)
 * rewrites history to hide what happened: edits an event, deletes one, reorders two, or edits
 * one and recomputes its hash. The database must refuse UPDATE, DELETE and TRUNCATE outright;
 * and when the refusal is bypassed (here by disabling the trigger, as a table owner could),
 * verifyAuditChain must name the first event that no longer fits the chain. Concurrent writers
 * must never fork the chain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import {
  type AuditEventInput, createKyselyAuditStore, createRecordAuditEvent, type StoredAuditEvent, verifyAuditChain,
} from '../../src/audit/index.js';
import { hashAuditEvent } from '../../src/audit/service/event-hash.js';
import { createManualClock } from '../../src/platform/clock.js';
import type { Database } from '../../src/platform/db/database.js';
import type { DB } from '../../src/platform/db/schema.js';
import { createIdGenerator } from '../../src/platform/ids.js';
import { secureRandom } from '../../src/platform/random.js';
import { databaseTargets } from '../fixtures/database.js';

const clock = createManualClock(Date.parse('2026-09-10T11:12:13.456Z'));
const record = createRecordAuditEvent({ clock, ids: createIdGenerator(clock, secureRandom) });

/** Appends one event in its own transaction, as every service does. */
function append(db: Kysely<DB>, input: AuditEventInput): Promise<StoredAuditEvent> {
  return db.transaction().execute((tx) => record(createKyselyAuditStore(tx), input));
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

/** Appends `count` events one after another (1 ms apart) and returns them as stored, seq included. */
async function seedChain(db: Kysely<DB>, count: number): Promise<StoredAuditEvent[]> {
  for (let i = 1; i <= count; i++) {
    clock.advanceMs(1);
    await append(db, sampleInput(i));
  }
  const chain = await createKyselyAuditStore(db).readChain(null, 1000);
  assert.equal(chain.length, count);
  return chain;
}

/** Runs `work` with the append-only trigger disabled, as an attacker owning the table could. */
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

/** Every content column of a row, as Kysely writes it. */
function rowValues(e: StoredAuditEvent) {
  return {
    id: e.id, time: e.time, type: e.type, actor: e.actor, subject: e.subject, ip: e.ip, user_agent: e.userAgent,
    outcome: e.outcome, request_id: e.requestId, data: JSON.stringify(e.data), prev_hash: e.prevHash, hash: e.hash,
  };
}

/** A describe with its own database, so tampering in one case cannot leak into another. */
function withDatabase(name: string, open: () => Promise<Database>, body: (db: () => Kysely<DB>) => void): void {
  describe(name, () => {
    let database: Database;
    before(async () => { database = await open(); });
    after(async () => { await database.close(); });
    body(() => database.db);
  });
}

for (const target of databaseTargets()) {
  describe(`audit chain on ${target.name}`, () => {
    withDatabase('sequential appends', target.open, (db) => {
      it('verifies 10 appended events, each linked to the previous hash, the first to the empty hash', async () => {
        const appended: StoredAuditEvent[] = [];
        for (let i = 1; i <= 10; i++) {
          clock.advanceMs(1);
          appended.push(await append(db(), sampleInput(i)));
        }
        assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: true, checked: 10 });
        const stored = await createKyselyAuditStore(db()).readChain(null, 1000);
        assert.deepEqual(stored.map(({ seq: _seq, ...rest }) => rest), appended, 'every field reads back as written');
        assert.equal(stored[0]?.prevHash, '');
        for (let i = 1; i < stored.length; i++) assert.equal(stored[i]?.prevHash, stored[i - 1]?.hash);
      });

      it('verifies a chain longer than one read batch', async () => {
        // 10 events from the previous test: batches of 3 cross several boundaries.
        assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db()), 3), { ok: true, checked: 10 });
      });
    });

    withDatabase('concurrent appends', target.open, (db) => {
      it('keeps one unforked chain when 20 transactions append at once', async () => {
        const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => append(db(), sampleInput(i + 1))));
        assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: true, checked: 20 });
        assert.equal(new Set(appended.map((e) => e.prevHash)).size, 20, 'no two writers saw the same head');
        assert.equal(new Set(appended.map((e) => e.id)).size, 20);
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
        const [stored] = await createKyselyAuditStore(db()).readChain(null, 10);
        assert.deepEqual(stored?.data, expected);
        const { rows } = await sql<{ raw: string }>`select data::text as raw from audit_events`.execute(db());
        for (const secret of secrets) assert.ok(!rows[0]?.raw.includes(secret), `${secret} never reaches the table`);
        assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: true, checked: 1 });
      });
    });

    withDatabase('append-only enforcement', target.open, (db) => {
      const statements = [
        ['UPDATE', (id: string) => sql`update audit_events set data = '{"email":"mallory@example.com"}'::jsonb where id = ${id}`],
        ['UPDATE of every row', () => sql`update audit_events set actor = 'mallory'`],
        ['DELETE', (id: string) => sql`delete from audit_events where id = ${id}`],
        ['DELETE of every row', () => sql`delete from audit_events`],
        ['TRUNCATE', () => sql`truncate audit_events`],
      ] as const;
      for (const [what, statement] of statements) {
        it(`refuses ${what} on audit_events with an error and leaves every row unchanged`, async () => {
          if ((await createKyselyAuditStore(db()).readChain(null, 1)).length === 0) await seedChain(db(), 3);
          const untouched = await createKyselyAuditStore(db()).readChain(null, 1000);
          await assert.rejects(statement(nth(untouched, 2).id).execute(db()), (error: Error & { code?: string }) => {
            assert.match(error.message, /audit_events is append-only/);
            assert.equal(error.code, '42501');
            return true;
          });
          assert.deepEqual(await createKyselyAuditStore(db()).readChain(null, 1000), untouched);
          assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: true, checked: untouched.length });
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
            const edited = (await createKyselyAuditStore(db()).readChain(null, 1000))[4];
            assert.notDeepEqual(edited, nth(chain, 5), 'the edit changed the row');
            assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: false, checked: 5, firstBadId: nth(chain, 5).id });
          });
        });
      }

      withDatabase('a deleted event', target.open, (db) => {
        it('names event #6 when event #5 was deleted', async () => {
          const chain = await seedChain(db(), 10);
          await withTriggersDisabled(db(), async () => {
            await db().deleteFrom('audit_events').where('id', '=', nth(chain, 5).id).execute();
          });
          assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: false, checked: 5, firstBadId: nth(chain, 6).id });
        });
      });

      withDatabase('two reordered events', target.open, (db) => {
        it('names the event now at position 4 when events #4 and #5 swapped places', async () => {
          const chain = await seedChain(db(), 10);
          const fourth = nth(chain, 4);
          const fifth = nth(chain, 5);
          // seq is an identity column; swap every content column instead, parking the unique id first.
          await withTriggersDisabled(db(), async () => {
            await db().updateTable('audit_events').set({ id: `swap-${fourth.id}` }).where('seq', '=', fourth.seq!).execute();
            await db().updateTable('audit_events').set(rowValues(fourth)).where('seq', '=', fifth.seq!).execute();
            await db().updateTable('audit_events').set(rowValues(fifth)).where('seq', '=', fourth.seq!).execute();
          });
          const reordered = await createKyselyAuditStore(db()).readChain(null, 1000);
          assert.deepEqual(reordered.map((e) => e.id), [...chain.slice(0, 3), fifth, fourth, ...chain.slice(5)].map((e) => e.id));
          assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: false, checked: 4, firstBadId: fifth.id });
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
          const stored = (await createKyselyAuditStore(db()).readChain(null, 1000))[4];
          assert.equal(stored && hashAuditEvent(stored), forgedHash, 'the forged event is self-consistent');
          assert.deepEqual(await verifyAuditChain(createKyselyAuditStore(db())), { ok: false, checked: 6, firstBadId: nth(chain, 6).id });
        });
      });
    });
  });
}
