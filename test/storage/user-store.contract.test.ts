/**
 * Contract of UserStore over every SQL target (PGlite always, PostgreSQL when DATABASE_URL is set).
 * The same tests run on each: PGlite is a dialect, not a second persistence layer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createKyselyUserStore, type UserRecord } from '../../src/identity/index.js';
import type { Database } from '../../src/platform/db/database.js';
import { createTransact } from '../../src/platform/db/transact.js';
import { databaseTargets } from '../fixtures/database.js';

const T0 = Date.parse('2026-03-04T05:06:07.891Z');

function uniqueId(): string {
  return `u_${randomBytes(8).toString('hex')}`;
}

function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}@example.com`;
}

function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: uniqueId(),
    email: uniqueEmail(),
    name: null,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    roles: ['user'],
    tenant: null,
    mfaEnabled: false,
    lockedAt: null,
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    ...overrides,
  };
}

for (const target of databaseTargets()) {
  describe(`UserStore contract on ${target.name}`, () => {
    let database: Database;
    before(async () => { database = await target.open(); });
    after(async () => { await database.close(); });

    it('returns every field of an inserted account unchanged by email and by id, dates to the millisecond', async () => {
      const users = createKyselyUserStore(database.db);
      const bare = userRecord();
      const full = userRecord({
        name: 'Ada Lovelace', roles: ['user', 'admin', 'auditor'], tenant: 'tenant-7', mfaEnabled: true,
        lockedAt: new Date(T0 + 1), createdAt: new Date(T0 + 2), updatedAt: new Date(T0 + 999),
      });
      for (const record of [bare, full]) {
        assert.equal(await users.insert(record), 'created');
        assert.deepEqual(await users.findByEmail(record.email), record);
        assert.deepEqual(await users.findById(record.id), record);
      }
      const read = await users.findById(bare.id);
      assert.equal(read?.name, null);
      assert.equal(read?.tenant, null);
      assert.equal(read?.lockedAt, null);
      assert.equal((await users.findById(full.id))?.updatedAt.getTime(), T0 + 999);
    });

    it('finds nothing for an unknown email or id', async () => {
      const users = createKyselyUserStore(database.db);
      assert.equal(await users.findByEmail(uniqueEmail('nobody')), undefined);
      assert.equal(await users.findById(uniqueId()), undefined);
    });

    it('answers email_taken for a second account with the same email and leaves the first row untouched', async () => {
      const users = createKyselyUserStore(database.db);
      const first = userRecord({ name: 'First', roles: ['user', 'admin'] });
      const second = userRecord({ email: first.email, name: 'Second', passwordHash: 'other-hash', tenant: 'intruder' });
      assert.equal(await users.insert(first), 'created');
      assert.equal(await users.insert(second), 'email_taken');
      assert.deepEqual(await users.findByEmail(first.email), first);
      assert.equal(await users.findById(second.id), undefined);
    });

    it('answers email_taken inside a transaction without aborting it, so the transaction keeps working and commits', async () => {
      const transact = createTransact(database.db, (tx) => ({ users: createKyselyUserStore(tx) }));
      const existing = userRecord({ name: 'Existing' });
      assert.equal(await createKyselyUserStore(database.db).insert(existing), 'created');
      const duplicate = userRecord({ email: existing.email, name: 'Duplicate' });
      const later = userRecord({ name: 'Later in the same transaction' });

      const outcome = await transact(async ({ users }) => {
        const conflict = await users.insert(duplicate);
        // On PostgreSQL a failed statement would poison the transaction ("current transaction is aborted").
        const afterwards = await users.insert(later);
        const visible = await users.findByEmail(later.email);
        return { conflict, afterwards, visible };
      });

      assert.equal(outcome.conflict, 'email_taken');
      assert.equal(outcome.afterwards, 'created');
      assert.deepEqual(outcome.visible, later);
      const users = createKyselyUserStore(database.db);
      assert.deepEqual(await users.findByEmail(later.email), later, 'the transaction committed');
      assert.deepEqual(await users.findByEmail(existing.email), existing);
      assert.equal(await users.findById(duplicate.id), undefined);
    });

    it('creates exactly one account when 10 inserts of the same email race', async () => {
      const users = createKyselyUserStore(database.db);
      const email = uniqueEmail('race');
      const contenders = Array.from({ length: 10 }, (_, i) => userRecord({ email, name: `contender ${i}` }));
      const outcomes = await Promise.all(contenders.map((u) => users.insert(u)));
      assert.equal(outcomes.filter((o) => o === 'created').length, 1);
      assert.equal(outcomes.filter((o) => o === 'email_taken').length, 9);
      const winner = contenders[outcomes.indexOf('created')];
      assert.deepEqual(await users.findByEmail(email), winner);
    });

    it('creates exactly one account when 10 transactions insert the same email concurrently', async () => {
      const email = uniqueEmail('race-tx');
      const contenders = Array.from({ length: 10 }, (_, i) => userRecord({ email, name: `contender ${i}` }));
      const outcomes = await Promise.all(contenders.map((u) =>
        database.db.transaction().execute((tx) => createKyselyUserStore(tx).insert(u))));
      assert.equal(outcomes.filter((o) => o === 'created').length, 1);
      assert.equal(outcomes.filter((o) => o === 'email_taken').length, 9);
      const winner = contenders[outcomes.indexOf('created')];
      assert.deepEqual(await createKyselyUserStore(database.db).findByEmail(email), winner);
      const { count } = await database.db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('count'))
        .where('email', '=', email).executeTakeFirstOrThrow();
      assert.equal(Number(count), 1);
    });

    it('replaces only the password hash and updated_at of the given account', async () => {
      const users = createKyselyUserStore(database.db);
      const target = userRecord({ name: 'Upgraded' });
      const bystander = userRecord({ name: 'Bystander' });
      await users.insert(target);
      await users.insert(bystander);
      const at = new Date(T0 + 86_400_123);
      await users.updatePasswordHash(target.id, '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA', at);
      assert.deepEqual(await users.findById(target.id), { ...target, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA', updatedAt: at });
      assert.deepEqual(await users.findById(bystander.id), bystander);
    });

    it('stores SQL metacharacters in email and name literally and never treats them as patterns', async () => {
      const users = createKyselyUserStore(database.db);
      const hostile = [
        { email: `o'brien-${randomBytes(3).toString('hex')}@example.com`, name: "Robert'); DROP TABLE users;--" },
        { email: `x";drop table users;--${randomBytes(3).toString('hex')}@example.com`, name: '"; select pg_sleep(10); --' },
        { email: `pct%_${randomBytes(3).toString('hex')}@example.com`, name: '%_\\' },
        { email: `dollar$1$$${randomBytes(3).toString('hex')}@example.com`, name: '$$ language plpgsql $$ \u00e9\u{1F512}' },
        { email: `back\\slash${randomBytes(3).toString('hex')}@example.com`, name: "\\'; --\n\t" },
      ];
      for (const { email, name } of hostile) {
        const record = userRecord({ email, name });
        assert.equal(await users.insert(record), 'created', email);
        assert.deepEqual(await users.findByEmail(email), record, email);
        assert.deepEqual(await users.findById(record.id), record, email);
      }
      // LIKE wildcards must not match: '_' in place of '%' finds nothing.
      assert.equal(await users.findByEmail(hostile[2]!.email.replace('%', '_')), undefined);
      assert.equal(await users.findByEmail(hostile[2]!.email.replace('%_', '%')), undefined);
      const { rows } = await sql<{ n: string }>`select count(*) as n from users`.execute(database.db);
      assert.ok(Number(rows[0]?.n) >= hostile.length, 'the users table still exists');
    });
  });
}
