/*
 * Threat: the admin API is the most powerful surface Portcullis has: it grants roles, locks
 * accounts, ends sessions and reads every tenant's security history. Attackers here are an
 * ordinary user probing admin routes (including granting itself `admin`), a security analyst
 * trying to write, a tenant admin reaching into another tenant or the global log, anyone
 * forging, editing or replaying pagination cursors to read rows their query did not select,
 * and two admins (or one compromised admin racing another) trying to leave the installation
 * with no administrator. Each gets an exact refusal (401, 403, 404 or 409 problem+json, or 400
 * for a cursor), nothing changes, and every privilege change and refusal is in the audit log,
 * whose chain still verifies. A locked account must be dead at once: login, refresh and live
 * access tokens.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { asCaller, createAccount, createAdmin, loginAgain, type Account } from '../fixtures/admin.js';
import { databaseTargets } from '../fixtures/database.js';
import { createTestApp, GOOD_PASSWORD, json, type TestApp } from '../fixtures/test-app.js';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
interface Route { method: Method; url: string; body?: unknown; headers?: Record<string, string>; write: boolean }
interface Problem { type: string; title: string; status: number; requestId: string; detail?: string }
interface UserPage { items: Array<{ id: string; email: string; tenant?: string; roles: string[]; locked: boolean }>; nextCursor: string | null }

const PROBLEM = /^application\/problem\+json/;
const TYPES = {
  forbidden: 'https://portcullis.dev/problems/forbidden',
  notFound: 'https://portcullis.dev/problems/user-not-found',
  lastAdmin: 'https://portcullis.dev/problems/last-admin',
  invalidCursor: 'https://portcullis.dev/problems/invalid-cursor',
  invalidToken: 'https://portcullis.dev/problems/invalid-token',
  invalidCredentials: 'https://portcullis.dev/problems/invalid-credentials',
  invalidRefreshToken: 'https://portcullis.dev/problems/invalid-refresh-token',
};

/** Every admin route, aimed at one account. */
function adminRoutes(userId: string): Route[] {
  return [
    { method: 'GET', url: '/v1/admin/users', write: false },
    { method: 'GET', url: '/v1/admin/users?query=a&limit=5', write: false },
    { method: 'GET', url: '/v1/admin/audit-events', write: false },
    { method: 'GET', url: '/v1/admin/audit-events?type=user.locked', headers: { accept: 'application/x-ndjson' }, write: false },
    { method: 'GET', url: '/v1/admin/audit-events/verify', write: false },
    { method: 'PUT', url: `/v1/admin/users/${userId}/roles`, body: { roles: ['user', 'admin'] }, write: true },
    { method: 'POST', url: `/v1/admin/users/${userId}/lock`, write: true },
    { method: 'POST', url: `/v1/admin/users/${userId}/unlock`, write: true },
    { method: 'DELETE', url: `/v1/admin/users/${userId}/sessions`, write: true },
  ];
}

function assertProblem(res: LightMyRequestResponse, status: number, type: string, what: string): Problem {
  assert.equal(res.statusCode, status, `${what}: ${res.body}`);
  assert.match(String(res.headers['content-type']), PROBLEM, what);
  const body = json<Problem>(res);
  assert.equal(body.type, type, what);
  return body;
}

function withoutRequestId(res: LightMyRequestResponse): Record<string, unknown> {
  const { requestId: _ignored, ...rest } = json<Problem>(res);
  return rest;
}

function randomIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

for (const target of databaseTargets()) {
  describe(`admin API attacks (${target.name})`, () => {
    let t: TestApp;
    let admin: Account;
    let analyst: Account;
    let plain: Account;

    before(async () => {
      t = await createTestApp({ database: await target.open() });
      admin = await createAdmin(t);
      analyst = await createAccount(t, { roles: ['user', 'security-analyst'] });
      plain = await createAccount(t);
    });
    after(async () => {
      await t.close();
      await t.database.close();
    });

    const call = (token: string, route: Route) => asCaller(t, token, route.method, route.url, route.body, route.headers);
    const whoami = (token: string) => t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });
    const stateOf = async (userId: string) => t.database.db.selectFrom('users').select(['roles', 'locked_at', 'updated_at']).where('id', '=', userId).executeTakeFirstOrThrow();
    const liveSessions = async (userId: string) => (await t.database.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()).length;

    it('answers 401 problem+json on every admin route without a valid bearer token', async () => {
      const victim = await createAccount(t);
      for (const route of adminRoutes(victim.userId)) {
        for (const authorization of [undefined, 'Bearer', 'Bearer not.a.jwt', `Basic ${Buffer.from('admin:admin').toString('base64')}`, `Bearer ${admin.refreshToken}`]) {
          const res = await t.app.inject({ method: route.method, url: route.url, headers: { ...route.headers, ...(authorization ? { authorization } : {}) }, ...(route.body ? { payload: route.body as Record<string, unknown> } : {}) });
          assertProblem(res, 401, TYPES.invalidToken, `${route.method} ${route.url} with ${authorization ?? 'no header'}`);
        }
      }
      assert.deepEqual((await stateOf(victim.userId)).roles, ['user']);
    });

    it('refuses a plain user 403 on every admin route, even on its own account, changes nothing and audits each refusal', async () => {
      const victim = await createAccount(t);
      const before = await stateOf(victim.userId);
      const ownBefore = await stateOf(plain.userId);
      const deniedBefore = await t.database.db.selectFrom('audit_events').select('id').where('type', '=', 'policy.denied').where('actor', '=', plain.userId).execute();
      const routes = [...adminRoutes(victim.userId), ...adminRoutes(plain.userId).filter((r) => r.write)];
      for (const route of routes) {
        const body = assertProblem(await call(plain.accessToken, route), 403, TYPES.forbidden, `${route.method} ${route.url}`);
        assert.equal(body.title, 'Not allowed');
      }
      // Not even whether the account exists: an unknown id is refused the same way.
      assertProblem(await asCaller(t, plain.accessToken, 'POST', '/v1/admin/users/01NOSUCHUSER0000000000000/lock'), 403, TYPES.forbidden, 'unknown id');
      assert.deepEqual(await stateOf(victim.userId), before);
      assert.deepEqual(await stateOf(plain.userId), ownBefore, 'no self-granted admin');
      assert.equal((await whoami(victim.accessToken)).statusCode, 200, 'the victim keeps its session');
      assert.equal((await whoami(plain.accessToken)).statusCode, 200);
      assert.deepEqual(json<{ roles: string[] }>(await whoami(json<{ accessToken: string }>(await loginAgain(t, plain.email)).accessToken)).roles, ['user']);
      const denied = await t.database.db.selectFrom('audit_events').select(['subject', 'data']).where('type', '=', 'policy.denied').where('actor', '=', plain.userId).execute();
      assert.equal(denied.length - deniedBefore.length, routes.length + 1);
    });

    it('lets a security analyst read accounts and the audit log and verify it, but refuses every write with 403 and changes nothing', async () => {
      const victim = await createAccount(t);
      const before = await stateOf(victim.userId);
      for (const route of adminRoutes(victim.userId)) {
        const res = await call(analyst.accessToken, route);
        if (route.write) assertProblem(res, 403, TYPES.forbidden, `${route.method} ${route.url}`);
        else assert.equal(res.statusCode, 200, `${route.method} ${route.url}: ${res.body}`);
      }
      for (const route of adminRoutes(analyst.userId).filter((r) => r.write)) {
        assertProblem(await call(analyst.accessToken, route), 403, TYPES.forbidden, `own account: ${route.method} ${route.url}`);
      }
      assert.deepEqual(await stateOf(victim.userId), before);
      assert.deepEqual((await stateOf(analyst.userId)).roles, ['user', 'security-analyst']);
      assert.equal(await liveSessions(victim.userId), 1);
    });

    it('keeps a tenant admin inside its tenant: other tenants and global accounts are invisible (404, filtered), the global log refused', async () => {
      const tenantA = `a-${randomBytes(3).toString('hex')}`;
      const tenantB = `b-${randomBytes(3).toString('hex')}`;
      const tenantAdmin = await createAdmin(t, { tenant: tenantA });
      const inA = await createAccount(t, { tenant: tenantA });
      const inB = await createAccount(t, { tenant: tenantB });
      const global = await createAccount(t);
      const listed = json<UserPage>(await asCaller(t, tenantAdmin.accessToken, 'GET', '/v1/admin/users?limit=200'));
      assert.deepEqual(listed.items.map((u) => u.id).sort(), [tenantAdmin.userId, inA.userId].sort());
      assert.ok(listed.items.every((u) => u.tenant === tenantA));
      for (const email of [inB.email, global.email, admin.email]) {
        const search = json<UserPage>(await asCaller(t, tenantAdmin.accessToken, 'GET', `/v1/admin/users?query=${encodeURIComponent(email)}`));
        assert.deepEqual(search.items, [], email);
      }

      const unknown = '01NOSUCHUSER0000000000000';
      for (const victim of [inB, global, admin]) {
        const before = await stateOf(victim.userId);
        for (const route of adminRoutes(victim.userId).filter((r) => r.write)) {
          const res = await call(tenantAdmin.accessToken, route);
          assertProblem(res, 404, TYPES.notFound, `${route.method} ${route.url}`);
          // Byte for byte what an id that exists nowhere gets: existence does not leak.
          const missing = await call(tenantAdmin.accessToken, { ...route, url: route.url.replace(victim.userId, unknown) });
          assert.deepEqual(withoutRequestId(res), withoutRequestId(missing));
        }
        assert.deepEqual(await stateOf(victim.userId), before);
        assert.equal(await liveSessions(victim.userId), 1);
      }
      const crossTenant = await t.database.db.selectFrom('audit_events').select('subject').where('type', '=', 'policy.denied')
        .where('actor', '=', tenantAdmin.userId).execute();
      assert.ok(crossTenant.some((e) => e.subject === `admin:user/${inB.userId}`), 'cross-tenant attempts are audited');

      for (const url of ['/v1/admin/audit-events', '/v1/admin/audit-events/verify']) {
        assertProblem(await asCaller(t, tenantAdmin.accessToken, 'GET', url), 403, TYPES.forbidden, url);
      }
      const lock = await asCaller(t, tenantAdmin.accessToken, 'POST', `/v1/admin/users/${inA.userId}/lock`);
      assert.equal(lock.statusCode, 204, 'within its tenant it administers');
      assert.notEqual((await stateOf(inA.userId)).locked_at, null);
    });

    it('binds a cursor to the scope it was issued in: a tenant admin\'s cursor is refused to a global admin and the other way round', async () => {
      const tenant = `c-${randomBytes(3).toString('hex')}`;
      const tenantAdmin = await createAdmin(t, { tenant });
      for (let i = 0; i < 3; i++) await createAccount(t, { tenant });
      const tenantPage = json<UserPage>(await asCaller(t, tenantAdmin.accessToken, 'GET', '/v1/admin/users?limit=1'));
      const globalPage = json<UserPage>(await asCaller(t, admin.accessToken, 'GET', '/v1/admin/users?limit=1'));
      assertProblem(await asCaller(t, admin.accessToken, 'GET', `/v1/admin/users?limit=1&cursor=${tenantPage.nextCursor}`), 400, TYPES.invalidCursor, 'tenant cursor, global admin');
      assertProblem(await asCaller(t, tenantAdmin.accessToken, 'GET', `/v1/admin/users?limit=1&cursor=${globalPage.nextCursor}`), 400, TYPES.invalidCursor, 'global cursor, tenant admin');
    });

    it('refuses forged, edited, swapped, garbage and oversized cursors with 400 problem+json and never a row', async () => {
      for (let i = 0; i < 4; i++) await t.registry.transact(({ audit }) => audit.record({ type: 'test.cursor', outcome: 'success', actor: 'cursor-actor', data: { i } }));
      for (let i = 0; i < 3; i++) await createAccount(t, { email: `cursor-${i}-${randomBytes(3).toString('hex')}@example.com` });
      const auditPage = json<{ nextCursor: string }>(await asCaller(t, admin.accessToken, 'GET', '/v1/admin/audit-events?type=test.cursor&limit=1'));
      const userPage = json<UserPage>(await asCaller(t, admin.accessToken, 'GET', '/v1/admin/users?query=cursor-&limit=1'));
      const audit = auditPage.nextCursor;
      const users = userPage.nextCursor!;
      assert.match(audit, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);

      const [payload, tag] = audit.split('.') as [string, string];
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { p: { q: string } };
      const reencode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const edited = reencode({ ...decoded, p: { q: String(BigInt(decoded.p.q) + 1000n) } });
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const cases: Array<[string, string, string]> = [
        ['a flipped payload character', `${flip(payload, 5)}.${tag}`, 'type=test.cursor'],
        ['a flipped tag character', `${payload}.${flip(tag, 10)}`, 'type=test.cursor'],
        ['the last tag character changed', `${payload}.${flip(tag, tag.length - 1)}`, 'type=test.cursor'],
        ['a re-encoded payload with another seq, the old tag', `${edited}.${tag}`, 'type=test.cursor'],
        ['a payload signed with a guessed key', `${edited}.${createHmac('sha256', randomBytes(32)).update(edited).digest('base64url')}`, 'type=test.cursor'],
        ['a payload signed with the master-key-less empty key', `${edited}.${createHmac('sha256', Buffer.alloc(0)).update(edited).digest('base64url')}`, 'type=test.cursor'],
        ['a truncated cursor', audit.slice(0, -1), 'type=test.cursor'],
        ['a cursor without its tag', payload, 'type=test.cursor'],
        ['the cursor of another type filter', audit, 'type=user.locked'],
        ['the cursor with a filter added', audit, 'type=test.cursor&actor=cursor-actor'],
        ['the cursor with its filter dropped', audit, ''],
        ['the cursor with a time window added', audit, 'type=test.cursor&from=2000-01-01T00:00:00Z'],
        ['a users cursor on the audit log', users, 'type=test.cursor'],
        ['two cursors joined', `${audit}.${audit}`, 'type=test.cursor'],
        ['garbage', 'not-a-cursor', 'type=test.cursor'],
        ['a dot', '.', 'type=test.cursor'],
        ['JSON', '{"p":{"q":"1"}}', 'type=test.cursor'],
        ['a NUL', '%00', 'type=test.cursor'],
        ['an emoji', '%F0%9F%99%82', 'type=test.cursor'],
        ['oversized', 'A'.repeat(513), 'type=test.cursor'],
        ['huge', `${'A'.repeat(8000)}.${tag}`, 'type=test.cursor'],
      ];
      for (const [what, cursor, filters] of cases) {
        const url = `/v1/admin/audit-events?${filters}${filters ? '&' : ''}cursor=${cursor.includes('%') ? cursor : encodeURIComponent(cursor)}`;
        for (const headers of [{}, { accept: 'application/x-ndjson' }] as Array<Record<string, string>>) {
          const res = await asCaller(t, admin.accessToken, 'GET', url, undefined, headers);
          assert.equal(res.statusCode, 400, `${what}: ${res.body.slice(0, 300)}`);
          assert.match(String(res.headers['content-type']), PROBLEM, what);
          assert.ok(!res.body.includes('"items"') && !res.body.includes('test.cursor'), `${what} leaks no row`);
        }
      }
      const userCases: Array<[string, string, string]> = [
        ['another search', users, 'query=cursor-x'],
        ['no search', users, ''],
        ['an audit cursor', audit, 'query=cursor-'],
        ['a flipped character', flip(users, 3), 'query=cursor-'],
      ];
      for (const [what, cursor, filters] of userCases) {
        const res = await asCaller(t, admin.accessToken, 'GET', `/v1/admin/users?${filters}${filters ? '&' : ''}cursor=${encodeURIComponent(cursor)}`);
        assertProblem(res, 400, TYPES.invalidCursor, what);
      }
      // The genuine cursors still work, unchanged.
      assert.equal((await asCaller(t, admin.accessToken, 'GET', `/v1/admin/audit-events?type=test.cursor&limit=1&cursor=${encodeURIComponent(audit)}`)).statusCode, 200);
      assert.equal((await asCaller(t, admin.accessToken, 'GET', `/v1/admin/users?query=cursor-&limit=1&cursor=${encodeURIComponent(users)}`)).statusCode, 200);
    });

    it('makes a locked account dead at once: login 401 with the bad-credentials body, refresh 401, live access tokens 401', async () => {
      const victim = await createAccount(t);
      assert.equal((await asCaller(t, admin.accessToken, 'POST', `/v1/admin/users/${victim.userId}/lock`)).statusCode, 204);
      const locked = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: victim.email, password: GOOD_PASSWORD }, remoteAddress: randomIp() });
      const wrong = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: victim.email, password: `${GOOD_PASSWORD} nope` }, remoteAddress: randomIp() });
      assertProblem(locked, 401, TYPES.invalidCredentials, 'locked login');
      assert.deepEqual(withoutRequestId(locked), withoutRequestId(wrong), 'a lock is not revealed');
      assert.equal(locked.headers['www-authenticate'], wrong.headers['www-authenticate']);
      assertProblem(await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: victim.refreshToken } }), 401, TYPES.invalidRefreshToken, 'refresh');
      for (const url of ['/v1/auth/me', '/v1/auth/whoami']) {
        assertProblem(await t.app.inject({ url, headers: { authorization: `Bearer ${victim.accessToken}` } }), 401, TYPES.invalidToken, url);
      }
      const reasons = await t.database.db.selectFrom('audit_events').select('data').where('type', '=', 'auth.login.failed').where('actor', '=', victim.userId).execute();
      assert.deepEqual(reasons.map((r) => r.data.reason).sort(), ['bad_password', 'locked'], 'the real reason is in the audit log only');
    });

    it('leaves no live session behind when logins race a lock', async () => {
      const victim = await createAccount(t);
      for (let round = 0; round < 3; round++) {
        const logins = Array.from({ length: 6 }, () => t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: victim.email, password: GOOD_PASSWORD }, remoteAddress: randomIp() }));
        const lock = asCaller(t, admin.accessToken, 'POST', `/v1/admin/users/${victim.userId}/lock`);
        const [locked, ...results] = await Promise.all([lock, ...logins]);
        assert.equal(locked!.statusCode, 204, locked!.body);
        for (const res of results) {
          if (res.statusCode === 200) assert.equal((await whoami(json<{ accessToken: string }>(res).accessToken)).statusCode, 401, 'a token won in the race is dead');
          else assertProblem(res, 401, TYPES.invalidCredentials, 'login after the lock');
        }
        assert.equal(await liveSessions(victim.userId), 0, `round ${round}`);
        assert.equal((await asCaller(t, admin.accessToken, 'POST', `/v1/admin/users/${victim.userId}/unlock`)).statusCode, 204);
      }
    });

    it('refuses to demote or lock the last active admin (409), and allows it once another admin exists', async () => {
      const fresh = await createTestApp({ database: await target.open() });
      try {
        const only = await createAdmin(fresh);
        const demote = await asCaller(fresh, only.accessToken, 'PUT', `/v1/admin/users/${only.userId}/roles`, { roles: ['user'] });
        assertProblem(demote, 409, TYPES.lastAdmin, 'demote self');
        assertProblem(await asCaller(fresh, only.accessToken, 'POST', `/v1/admin/users/${only.userId}/lock`), 409, TYPES.lastAdmin, 'lock self');
        const row = await fresh.database.db.selectFrom('users').select(['roles', 'locked_at']).where('id', '=', only.userId).executeTakeFirstOrThrow();
        assert.deepEqual(row, { roles: ['user', 'admin'], locked_at: null });
        assert.equal((await whoamiOn(fresh, only.accessToken)).statusCode, 200, 'the refused change revoked nothing');

        // A tenant admin does not count for global accounts: the global admin is still the last one.
        await createAdmin(fresh, { tenant: 'acme' });
        assertProblem(await asCaller(fresh, only.accessToken, 'PUT', `/v1/admin/users/${only.userId}/roles`, { roles: ['user'] }), 409, TYPES.lastAdmin, 'tenant admins do not cover global accounts');

        const second = await createAdmin(fresh);
        const ok = await asCaller(fresh, second.accessToken, 'PUT', `/v1/admin/users/${only.userId}/roles`, { roles: ['user'] });
        assert.equal(ok.statusCode, 200, ok.body);
        assertProblem(await asCaller(fresh, second.accessToken, 'POST', `/v1/admin/users/${second.userId}/lock`), 409, TYPES.lastAdmin, 'now the second is the last');
      } finally {
        await fresh.close();
        await fresh.database.close();
      }
    });

    it('never leaves zero admins when two admins race to demote or lock each other or themselves', async () => {
      const fresh = await createTestApp({ database: await target.open() });
      try {
        const activeAdmins = async () => (await fresh.database.db.selectFrom('users').select(['id', 'roles', 'locked_at']).execute())
          .filter((u) => u.roles.includes('admin') && u.locked_at === null).map((u) => u.id);
        let survivor = await createAdmin(fresh);
        // In a mutual race the loser is no longer an admin when its turn comes: 403 from the re-check
        // against its stored account, or 401 when the winner's revocation of its session came first.
        const scenarios: Array<[string, (a: Account, b: Account) => Array<Promise<LightMyRequestResponse>>, number[][]]> = [
          ['mutual demotion', (a, b) => [
            asCaller(fresh, a.accessToken, 'PUT', `/v1/admin/users/${b.userId}/roles`, { roles: ['user'] }),
            asCaller(fresh, b.accessToken, 'PUT', `/v1/admin/users/${a.userId}/roles`, { roles: ['user'] }),
          ], [[200, 401], [200, 403]]],
          // Both stay admins until their own change: the second would remove the last one, 409.
          ['self-demotion', (a, b) => [
            asCaller(fresh, a.accessToken, 'PUT', `/v1/admin/users/${a.userId}/roles`, { roles: ['user'] }),
            asCaller(fresh, b.accessToken, 'PUT', `/v1/admin/users/${b.userId}/roles`, { roles: ['user'] }),
          ], [[200, 409]]],
          ['mutual lock', (a, b) => [
            asCaller(fresh, a.accessToken, 'POST', `/v1/admin/users/${b.userId}/lock`),
            asCaller(fresh, b.accessToken, 'POST', `/v1/admin/users/${a.userId}/lock`),
          ], [[204, 401], [204, 403]]],
          ['self-lock', (a, b) => [
            asCaller(fresh, a.accessToken, 'POST', `/v1/admin/users/${a.userId}/lock`),
            asCaller(fresh, b.accessToken, 'POST', `/v1/admin/users/${b.userId}/lock`),
          ], [[204, 409]]],
        ];
        for (const [name, race, outcomes] of scenarios) {
          for (let round = 0; round < 3; round++) {
            // A fresh token for the survivor: a lost race may have revoked its session.
            const a = { ...survivor, ...json<{ accessToken: string }>(await loginAgain(fresh, survivor.email)) };
            const b = await createAdmin(fresh);
            assert.deepEqual((await activeAdmins()).sort(), [a.userId, b.userId].sort());
            const results = await Promise.all(race(a, b));
            const statuses = results.map((r) => r.statusCode).sort();
            assert.ok(outcomes.some((o) => o.join() === statuses.join()), `${name}, round ${round}: ${statuses.join()} ${results.map((r) => r.body).join(' | ')}`);
            for (const refused of results.filter((r) => r.statusCode >= 400)) assert.match(String(refused.headers['content-type']), PROBLEM);
            const left = await activeAdmins();
            assert.equal(left.length, 1, `${name}, round ${round}: exactly one active admin left`);
            survivor = left[0] === a.userId ? a : b;
          }
        }
        const verification = await asCaller(fresh, json<{ accessToken: string }>(await loginAgain(fresh, survivor.email)).accessToken, 'GET', '/v1/admin/audit-events/verify');
        assert.equal(json<{ ok: boolean }>(verification).ok, true, verification.body);
        const changes = await fresh.database.db.selectFrom('audit_events').select('type').where('type', 'in', ['user.roles.changed', 'user.locked']).execute();
        assert.equal(changes.length, 12, 'one audited change per round, none for the refused ones');
      } finally {
        await fresh.close();
        await fresh.database.close();
      }
    });

    it('records every privilege change in the audit log, and the chain verifies afterwards', async () => {
      const victim = await createAccount(t);
      const requests: Array<[Method, string, unknown, string]> = [
        ['PUT', `/v1/admin/users/${victim.userId}/roles`, { roles: ['user', 'security-analyst'] }, 'user.roles.changed'],
        ['POST', `/v1/admin/users/${victim.userId}/lock`, undefined, 'user.locked'],
        ['POST', `/v1/admin/users/${victim.userId}/unlock`, undefined, 'user.unlocked'],
        ['DELETE', `/v1/admin/users/${victim.userId}/sessions`, undefined, 'user.sessions.revoked'],
        ['PUT', `/v1/admin/users/${victim.userId}/roles`, { roles: ['user'] }, 'user.roles.changed'],
      ];
      const requestIds: string[] = [];
      for (const [method, url, body] of requests) {
        const res = await asCaller(t, admin.accessToken, method, url, body);
        assert.ok(res.statusCode === 200 || res.statusCode === 204, `${method} ${url}: ${res.body}`);
        requestIds.push(String(res.headers['x-request-id']));
      }
      const events = await t.database.db.selectFrom('audit_events').select(['type', 'actor', 'request_id', 'outcome'])
        .where('subject', '=', victim.userId).where('type', 'like', 'user.%').where('type', '!=', 'user.registered').orderBy('seq').execute();
      assert.deepEqual(events, requests.map(([, , , type], i) => ({ type, actor: admin.userId, request_id: requestIds[i], outcome: 'success' })));
      await t.registry.sealAuditChain();
      const verified = await t.registry.verifyAuditChain();
      assert.equal(verified.ok, true, JSON.stringify(verified));
      assert.ok(verified.checked > 0);
    });
  });
}

function whoamiOn(t: TestApp, token: string) {
  return t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });
}
