import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, GOOD_PASSWORD, json, registerAndLogin, type TestApp, uniqueEmail } from '../fixtures/test-app.js';

describe('register -> login -> me -> refresh -> logout', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp(); });
  after(async () => { await t.close(); });

  it('registers an account with role user and a normalised email', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: '  Mixed.Case@Example.COM ', password: GOOD_PASSWORD, name: 'Mixed' } });
    assert.equal(res.statusCode, 400, 'surrounding whitespace is not a valid email');
    const ok = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'Mixed.Case@Example.COM', password: GOOD_PASSWORD, name: 'Mixed' } });
    assert.equal(ok.statusCode, 201);
    const { user } = json<{ user: Record<string, unknown> }>(ok);
    assert.equal(user.email, 'mixed.case@example.com');
    assert.deepEqual(user.roles, ['user']);
    assert.equal(user.name, 'Mixed');
    assert.equal(user.mfaEnabled, false);
    assert.equal(typeof user.id, 'string');
    assert.ok(!('passwordHash' in user) && !('password_hash' in user));
    const again = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'mixed.case@example.com', password: GOOD_PASSWORD } });
    assert.equal(again.statusCode, 409);
    assert.equal(json(again).type, 'https://portcullis.dev/problems/email-taken');
  });

  it('logs in, reads me and whoami, refreshes, and logs out on every endpoint', async () => {
    const s = await registerAndLogin(t.app);
    const auth = { authorization: `Bearer ${s.accessToken}` };
    const me = await t.app.inject({ url: '/v1/auth/me', headers: auth });
    assert.equal(me.statusCode, 200);
    assert.equal(json<{ user: { email: string } }>(me).user.email, s.email);

    const who = await t.app.inject({ url: '/v1/auth/whoami', headers: auth });
    assert.equal(who.statusCode, 200);
    const claims = json<{ sub: string; sid: string; roles: string[]; exp: string }>(who);
    assert.equal(claims.sub, s.userId);
    assert.deepEqual(claims.roles, ['user']);
    assert.equal(new Date(claims.exp).getTime(), Math.floor(t.clock.nowMs() / 1000) * 1000 + 600_000);

    const refreshed = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: s.refreshToken } });
    assert.equal(refreshed.statusCode, 200);
    const pair = json<{ accessToken: string; refreshToken: string; tokenType: string; expiresIn: number }>(refreshed);
    assert.equal(pair.tokenType, 'Bearer');
    assert.equal(pair.expiresIn, 600);
    assert.notEqual(pair.refreshToken, s.refreshToken);
    assert.equal(refreshed.headers['cache-control'], 'no-store');

    const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${pair.accessToken}` }, payload: { refreshToken: pair.refreshToken } });
    assert.equal(logout.statusCode, 204);
    for (const token of [s.accessToken, pair.accessToken]) {
      const res = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 401, 'both access tokens of the session die with it');
    }
    const reuse = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
    assert.equal(reuse.statusCode, 401);
  });

  it('answers unknown email and wrong password with the identical status and body', async () => {
    const s = await registerAndLogin(t.app, uniqueEmail());
    const wrong = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: s.email, password: 'not the right password at all' }, headers: { 'x-request-id': 'same-id' } });
    const unknown = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: uniqueEmail('ghost'), password: 'not the right password at all' }, headers: { 'x-request-id': 'same-id' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.equal(wrong.body, unknown.body);
    assert.equal(json(wrong).type, 'https://portcullis.dev/problems/invalid-credentials');
  });
});
