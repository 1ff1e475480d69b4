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

    it('lists one tenant newest first (created_at desc, id desc) and continues strictly after a keyset position', async () => {
      const users = createKyselyUserStore(database.db);
      const tenant = `t-${randomBytes(4).toString('hex')}`;
      const records = [0, 1, 1, 2, 3].map((ms, i) => userRecord({ tenant, name: `n${i}`, createdAt: new Date(T0 + ms) }));
      for (const r of records) await users.insert(r);
      await users.insert(userRecord({ tenant: `${tenant}-other`, createdAt: new Date(T0 + 10) }));
      const expected = [...records].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
      assert.deepEqual(await users.listUsers({ tenant, limit: 10 }), expected);
      assert.deepEqual(await users.listUsers({ tenant, limit: 2 }), expected.slice(0, 2));
      for (let i = 0; i < expected.length; i++) {
        const at = expected[i]!;
        assert.deepEqual(await users.listUsers({ tenant, limit: 10, after: { createdAt: at.createdAt, id: at.id } }), expected.slice(i + 1), `after #${i}`);
      }
      const everyone = await users.listUsers({ limit: 1000 });
      assert.ok(everyone.some((u) => u.tenant === `${tenant}-other`) && everyone.some((u) => u.tenant === null), 'no tenant: every tenant');
    });

    it('searches email and name as a case-insensitive substring, LIKE metacharacters taken literally', async () => {
      const users = createKyselyUserStore(database.db);
      const tenant = `s-${randomBytes(4).toString('hex')}`;
      const pct = userRecord({ tenant, email: `pct%x-${randomBytes(3).toString('hex')}@example.com`, name: 'Ann 50%' });
      const under = userRecord({ tenant, email: `under_x-${randomBytes(3).toString('hex')}@example.com`, name: 'Bob' });
      const slash = userRecord({ tenant, email: `slash-${randomBytes(3).toString('hex')}@example.com`, name: 'C\\D' });
      const plain = userRecord({ tenant, email: `plainxx-${randomBytes(3).toString('hex')}@example.com`, name: 'Ann 500' });
      for (const r of [pct, under, slash, plain]) await users.insert(r);
      const ids = async (search: string) => (await users.listUsers({ tenant, search, limit: 10 })).map((u) => u.id).sort();
      assert.deepEqual(await ids('%'), [pct.id]);
      assert.deepEqual(await ids('_'), [under.id]);
      assert.deepEqual(await ids('\\'), [slash.id]);
      assert.deepEqual(await ids('ANN 50'), [pct.id, plain.id].sort());
      assert.deepEqual(await ids('ann 50%'), [pct.id]);
      assert.deepEqual(await ids('SLASH-'), [slash.id]);
      assert.deepEqual(await ids("'; drop table users; --"), []);
    });

    it('setRoles replaces the roles and updated_at only; false for an unknown id', async () => {
      const users = createKyselyUserStore(database.db);
      const target = userRecord();
      await users.insert(target);
      const at = new Date(T0 + 5_000);
      assert.equal(await users.setRoles(target.id, ['user', 'admin', 'security-analyst'], at), true);
      assert.deepEqual(await users.findById(target.id), { ...target, roles: ['user', 'admin', 'security-analyst'], updatedAt: at });
      assert.equal(await users.setRoles(uniqueId(), ['admin'], at), false);
    });

    it('setLocked reports a change only when the state changes, and a second lock keeps the first time', async () => {
      const users = createKyselyUserStore(database.db);
      const target = userRecord();
      await users.insert(target);
      const first = new Date(T0 + 1_000);
      const second = new Date(T0 + 2_000);
      assert.equal(await users.setLocked(target.id, first, first), true);
      assert.equal(await users.setLocked(target.id, second, second), false);
      assert.deepEqual(await users.findById(target.id), { ...target, lockedAt: first, updatedAt: first });
      assert.equal(await users.setLocked(target.id, null, second), true);
      assert.equal(await users.setLocked(target.id, null, second), false);
      assert.deepEqual(await users.findById(target.id), { ...target, lockedAt: null, updatedAt: second });
      assert.equal(await users.setLocked(uniqueId(), first, first), false);
    });

    it('counts the unlocked admins that can administer a tenant: global ones plus that tenant\'s, excluding one', async () => {
      const fresh = await target.open();
      try {
        const users = createKyselyUserStore(fresh.db);
        const admin = (overrides: Partial<UserRecord>) => userRecord({ roles: ['user', 'admin'], ...overrides });
        const globalA = admin({});
        const rows = [
          globalA, admin({}), admin({ lockedAt: new Date(T0) }), admin({ tenant: 'acme' }), admin({ tenant: 'other' }),
          userRecord({ roles: ['user', 'admins'] }), userRecord({ roles: ['Admin'] }), userRecord({ tenant: 'acme', roles: ['security-analyst'] }),
        ];
        for (const r of rows) await users.insert(r);
        assert.equal(await users.countActiveAdmins({ tenant: null, excludeId: 'nobody' }), 2);
        assert.equal(await users.countActiveAdmins({ tenant: null, excludeId: globalA.id }), 1);
        assert.equal(await users.countActiveAdmins({ tenant: 'acme', excludeId: 'nobody' }), 3);
        assert.equal(await users.countActiveAdmins({ tenant: 'nowhere', excludeId: globalA.id }), 1);
      } finally {
        await fresh.close();
      }
    });

    it('lockAdminRoster holds a second transaction until the first one ends', async () => {
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      let signalLocked!: () => void;
      const locked = new Promise<void>((resolve) => { signalLocked = resolve; });
      const first = database.db.transaction().execute(async (tx) => {
        await createKyselyUserStore(tx).lockAdminRoster();
        order.push('first holds the lock');
        signalLocked();
        await held;
        order.push('first commits');
      });
      await locked;
      const second = database.db.transaction().execute(async (tx) => {
        await createKyselyUserStore(tx).lockAdminRoster();
        order.push('second holds the lock');
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      order.push('first released');
      release();
      await Promise.all([first, second]);
      assert.deepEqual(order, ['first holds the lock', 'first released', 'first commits', 'second holds the lock']);
    });

    it('findByIdForShare makes a concurrent lock wait until the reading transaction ends', async () => {
      const users = createKyselyUserStore(database.db);
      const subject = userRecord();
      await users.insert(subject);
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      let signalRead!: () => void;
      const read = new Promise<void>((resolve) => { signalRead = resolve; });
      const reader = database.db.transaction().execute(async (tx) => {
        assert.deepEqual(await createKyselyUserStore(tx).findByIdForShare(subject.id), subject);
        signalRead();
        await held;
        order.push('reader commits');
      });
      await read;
      const locker = users.setLocked(subject.id, new Date(T0 + 9), new Date(T0 + 9)).then((changed) => { order.push(`locked: ${changed}`); });
      await new Promise((resolve) => setTimeout(resolve, 150));
      order.push('reader released');
      release();
      await Promise.all([reader, locker]);
      assert.deepEqual(order, ['reader released', 'reader commits', 'locked: true']);
      assert.equal(await createKyselyUserStore(database.db).findByIdForShare(uniqueId()), undefined);
    });
  });
}
