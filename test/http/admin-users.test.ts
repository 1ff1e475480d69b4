/**
 * The admin API on accounts (API.md "Administration"): listing and search with keyset pages,
 * role changes, locks and session revocation, each audited. Runs on PGlite and, when
 * DATABASE_URL is set, on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { asCaller, createAccount, createAdmin, loginAgain, type Account } from '../fixtures/admin.js';
import { databaseTargets } from '../fixtures/database.js';
import { createTestApp, json, type TestApp } from '../fixtures/test-app.js';

interface AdminUser { id: string; email: string; name?: string; roles: string[]; tenant?: string; mfaEnabled: boolean; createdAt: string; locked: boolean }
interface UserPage { items: AdminUser[]; nextCursor: string | null }
interface AuditEvent { id: string; type: string; actor?: string; subject?: string; outcome: string; requestId?: string; data: Record<string, unknown> }

const PROBLEM = /^application\/problem\+json/;

function marker(): string {
  return `m${randomBytes(5).toString('hex')}`;
}

for (const target of databaseTargets()) {
  describe(`admin API on accounts (${target.name})`, () => {
    let t: TestApp;
    let admin: Account;

    before(async () => {
      t = await createTestApp({ database: await target.open() });
      admin = await createAdmin(t);
    });
    after(async () => {
      await t.close();
      await t.database.close();
    });

    const get = (url: string, token = admin.accessToken) => asCaller(t, token, 'GET', url);
    const listAll = async (query: string, limit: number): Promise<{ ids: string[]; pages: number }> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/admin/users?query=${encodeURIComponent(query)}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await get(url);
        assert.equal(res.statusCode, 200, res.body);
        const page = json<UserPage>(res);
        assert.ok(page.items.length <= limit);
        ids.push(...page.items.map((u) => u.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null && pages < 100);
      return { ids, pages };
    };
    const auditFor = async (subject: string, type: string): Promise<AuditEvent[]> => {
      const res = await get(`/v1/admin/audit-events?type=${type}&limit=200`);
      assert.equal(res.statusCode, 200, res.body);
      return json<{ items: AuditEvent[] }>(res).items.filter((e) => e.subject === subject);
    };
    const whoami = (token: string) => t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });
    const refresh = (refreshToken: string) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } });

    it('lists accounts newest first with the user fields of API.md plus locked, and never a hash', async () => {
      const m = marker();
      const older = await createAccount(t, { email: `${m}-older@example.com`, name: 'Older' });
      t.clock.advanceMs(1_000);
      const newer = await createAccount(t, { email: `${m}-newer@example.com`, tenant: 'acme' });
      const res = await get(`/v1/admin/users?query=${m}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const page = json<UserPage>(res);
      assert.deepEqual(page.items.map((u) => u.id), [newer.userId, older.userId]);
      assert.equal(page.nextCursor, null);
      const [first, second] = page.items;
      assert.deepEqual(Object.keys(first!).sort(), ['createdAt', 'email', 'id', 'locked', 'mfaEnabled', 'roles', 'tenant']);
      assert.deepEqual({ ...first, createdAt: undefined }, { id: newer.userId, email: newer.email, roles: ['user'], tenant: 'acme', mfaEnabled: false, locked: false, createdAt: undefined });
      assert.equal(second!.name, 'Older');
      assert.ok(Date.parse(first!.createdAt) > Date.parse(second!.createdAt));
      assert.ok(!/argon2|password/i.test(res.body));
    });

    it('pages through every matching account exactly once, in order, with an index-backed keyset', async () => {
      const m = marker();
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Two accounts per millisecond: ties on created_at are broken by id, never duplicated or skipped.
        if (i % 2 === 0) t.clock.advanceMs(1);
        created.push((await createAccount(t, { email: `${m}-${i}@example.com` })).userId);
      }
      const expected = (await t.database.db.selectFrom('users').select('id').where('email', 'like', `${m}-%`)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((r) => r.id);
      assert.deepEqual([...expected].sort(), [...created].sort());
      for (const limit of [1, 2, 3, 7, 50]) {
        const { ids, pages } = await listAll(m, limit);
        assert.deepEqual(ids, expected, `limit ${limit}`);
        // One row is read ahead, so a full last page is known to be the last: no empty trailing page.
        assert.equal(pages, Math.ceil(7 / limit), `pages at limit ${limit}`);
        assert.equal(new Set(ids).size, 7);
      }
    });

    it('searches email and name case-insensitively and takes LIKE metacharacters literally', async () => {
      const m = marker();
      const pct = await createAccount(t, { email: `${m}-a@example.com`, name: `Rate 100% ${m}` });
      const digit = await createAccount(t, { email: `${m}-b@example.com`, name: `Rate 1000 ${m}` });
      const underscore = await createAccount(t, { email: `${m}_c@example.com`, name: 'Plain' });
      const search = async (q: string) => json<UserPage>(await get(`/v1/admin/users?query=${encodeURIComponent(q)}`)).items.map((u) => u.id).sort();
      assert.deepEqual(await search(`RATE 100% ${m.toUpperCase()}`), [pct.userId]);
      assert.deepEqual(await search(`100%`).then((ids) => ids.filter((id) => [pct.userId, digit.userId].includes(id))), [pct.userId]);
      assert.deepEqual(await search(`${m}_`), [underscore.userId], 'an underscore is not a wildcard');
      assert.deepEqual(await search(`${m}-`), [pct.userId, digit.userId].sort());
      assert.deepEqual(await search(`${m}%`), [], 'a percent sign is not a wildcard');
      assert.deepEqual(await search(`${m}\\`), []);
      assert.deepEqual(await search(`  ${m}_C@EXAMPLE.COM  `), [underscore.userId], 'trimmed, case-insensitive');
    });

    it('replaces roles, audits before and after, and revokes the sessions when a role is removed', async () => {
      const target = await createAccount(t, { roles: ['user', 'security-analyst'] });
      const res = await asCaller(t, admin.accessToken, 'PUT', `/v1/admin/users/${target.userId}/roles`, { roles: ['user'] });
      assert.equal(res.statusCode, 200, res.body);
      const { user } = json<{ user: AdminUser }>(res);
      assert.deepEqual(user.roles, ['user']);
      assert.equal(user.id, target.userId);
      assert.equal(user.locked, false);

      // Access tokens carry roles: the removed role must not live on in one.
      assert.equal((await whoami(target.accessToken)).statusCode, 401);
      assert.equal((await refresh(target.refreshToken)).statusCode, 401);
      const relogin = await loginAgain(t, target.email);
      assert.deepEqual(json<{ roles: string[] }>(await whoami(json<{ accessToken: string }>(relogin).accessToken)).roles, ['user']);

      const [event, ...others] = await auditFor(target.userId, 'user.roles.changed');
      assert.equal(others.length, 0);
      assert.equal(event!.actor, admin.userId);
      assert.equal(event!.outcome, 'success');
      assert.deepEqual(event!.data, { before: ['user', 'security-analyst'], after: ['user'], sessionsRevoked: 1 });
      assert.equal(event!.requestId, res.headers['x-request-id']);
    });

    it('grants a role without ending sessions; the next refresh carries it', async () => {
      const target = await createAccount(t);
      const res = await asCaller(t, admin.accessToken, 'PUT', `/v1/admin/users/${target.userId}/roles`, { roles: ['user', 'security-analyst'] });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await whoami(target.accessToken)).statusCode, 200);
      const refreshed = await refresh(target.refreshToken);
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      const claims = json<{ roles: string[] }>(await whoami(json<{ accessToken: string }>(refreshed).accessToken));
      assert.deepEqual(claims.roles, ['user', 'security-analyst']);
      assert.deepEqual((await auditFor(target.userId, 'user.roles.changed'))[0]!.data, { before: ['user'], after: ['user', 'security-analyst'], sessionsRevoked: 0 });
    });

    it('answers the same roles with 200 and writes no audit event', async () => {
      const target = await createAccount(t);
      const res = await asCaller(t, admin.accessToken, 'PUT', `/v1/admin/users/${target.userId}/roles`, { roles: ['user'] });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(await auditFor(target.userId, 'user.roles.changed'), []);
      assert.equal((await whoami(target.accessToken)).statusCode, 200);
    });

    it('refuses invalid role lists with 400 problem+json and changes nothing', async () => {
      const target = await createAccount(t);
      const bodies: unknown[] = [
        {}, { roles: 'admin' }, { roles: ['Admin'] }, { roles: ['user', 'user'] }, { roles: [''] }, { roles: ['has space'] },
        { roles: ['x'.repeat(65)] }, { roles: Array.from({ length: 33 }, (_, i) => `r${i}`) }, { roles: ['user'], tenant: 'other' },
        { roles: [1] }, { roles: [null] }, { roles: ['user\u0000'] },
      ];
      for (const body of bodies) {
        const res = await asCaller(t, admin.accessToken, 'PUT', `/v1/admin/users/${target.userId}/roles`, body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.match(String(res.headers['content-type']), PROBLEM);
      }
      const row = await t.database.db.selectFrom('users').select('roles').where('id', '=', target.userId).executeTakeFirstOrThrow();
      assert.deepEqual(row.roles, ['user']);
    });

    it('locks: login fails like a wrong password, refresh and live tokens fail; unlock restores login; both audited', async () => {
      const target = await createAccount(t);
      const lock = await asCaller(t, admin.accessToken, 'POST', `/v1/admin/users/${target.userId}/lock`);
      assert.equal(lock.statusCode, 204, lock.body);
      assert.equal(lock.body, '');
      assert.equal((await whoami(target.accessToken)).statusCode, 401);
      assert.equal((await refresh(target.refreshToken)).statusCode, 401);
      assert.equal((await loginAgain(t, target.email)).statusCode, 401);
      const listed = json<UserPage>(await get(`/v1/admin/users?query=${encodeURIComponent(target.email)}`)).items;
      assert.deepEqual(listed.map((u) => u.locked), [true]);
      assert.deepEqual((await auditFor(target.userId, 'user.locked')).map((e) => e.data), [{ sessionsRevoked: 1, wasLocked: false }]);

      const unlock = await asCaller(t, admin.accessToken, 'POST', `/v1/admin/users/${target.userId}/unlock`);
      assert.equal(unlock.statusCode, 204);
      assert.equal((await loginAgain(t, target.email)).statusCode, 200);
      assert.equal((await auditFor(target.userId, 'user.unlocked')).length, 1);
      // Unlocking an unlocked account is a no-op: 204, nothing audited.
      assert.equal((await asCaller(t, admin.accessToken, 'POST', `/v1/admin/users/${target.userId}/unlock`)).statusCode, 204);
      assert.equal((await auditFor(target.userId, 'user.unlocked')).length, 1);
    });

    it('revokes every session of an account: each access and refresh token stops, and it is audited', async () => {
      const target = await createAccount(t);
      const second = json<{ accessToken: string; refreshToken: string }>(await loginAgain(t, target.email));
      const bystander = await createAccount(t);
      const res = await asCaller(t, admin.accessToken, 'DELETE', `/v1/admin/users/${target.userId}/sessions`);
      assert.equal(res.statusCode, 204, res.body);
      for (const token of [target.accessToken, second.accessToken]) assert.equal((await whoami(token)).statusCode, 401);
      for (const token of [target.refreshToken, second.refreshToken]) assert.equal((await refresh(token)).statusCode, 401);
      assert.equal((await whoami(bystander.accessToken)).statusCode, 200, 'other accounts keep their sessions');
      assert.equal((await loginAgain(t, target.email)).statusCode, 200, 'the account itself is not locked');
      assert.deepEqual((await auditFor(target.userId, 'user.sessions.revoked')).map((e) => e.data), [{ sessionsRevoked: 2 }]);
    });

    it('answers 404 problem+json for an unknown account and 400 for an id that cannot be one', async () => {
      const calls: Array<[method: 'PUT' | 'POST' | 'DELETE', suffix: string, body?: unknown]> = [
        ['PUT', '/roles', { roles: ['user'] }], ['POST', '/lock'], ['POST', '/unlock'], ['DELETE', '/sessions'],
      ];
      for (const [method, suffix, body] of calls) {
        const missing = await asCaller(t, admin.accessToken, method, `/v1/admin/users/01NOSUCHUSER0000000000000${suffix}`, body);
        assert.equal(missing.statusCode, 404, `${method} ${suffix}: ${missing.body}`);
        assert.match(String(missing.headers['content-type']), PROBLEM);
        assert.equal(json(missing).type, 'https://portcullis.dev/problems/user-not-found');
        const bad = await asCaller(t, admin.accessToken, method, `/v1/admin/users/${encodeURIComponent("x' or '1'='1")}${suffix}`, body);
        assert.equal(bad.statusCode, 400, `${method} ${suffix}: ${bad.body}`);
        assert.match(String(bad.headers['content-type']), PROBLEM);
      }
    });

    it('refuses malformed list queries with 400 problem+json', async () => {
      for (const query of ['limit=0', 'limit=201', 'limit=abc', 'limit=-1', 'limit=1.5', 'query=' + 'q'.repeat(129), 'unknown=1', 'cursor=', 'query=a&query=b']) {
        const res: LightMyRequestResponse = await get(`/v1/admin/users?${query}`);
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        assert.match(String(res.headers['content-type']), PROBLEM);
      }
    });

    it('documents every admin route in the OpenAPI document', async () => {
      const doc = json<{ paths: Record<string, Record<string, unknown>> }>(await t.app.inject({ url: '/docs/json' }));
      assert.ok(doc.paths['/v1/admin/users']?.get);
      assert.ok(doc.paths['/v1/admin/users/{id}/roles']?.put);
      assert.ok(doc.paths['/v1/admin/users/{id}/lock']?.post);
      assert.ok(doc.paths['/v1/admin/users/{id}/unlock']?.post);
      assert.ok(doc.paths['/v1/admin/users/{id}/sessions']?.delete);
      assert.ok(doc.paths['/v1/admin/audit-events']?.get);
      assert.ok(doc.paths['/v1/admin/audit-events/verify']?.get);
    });
  });
}
