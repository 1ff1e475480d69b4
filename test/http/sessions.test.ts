import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, json, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

const refresh = (t: TestApp, refreshToken: string) => t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } });

describe('session lifetimes and revocation', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { PORTCULLIS_TOKENS__SESSION_IDLE_TTL_SECONDS: '3600', PORTCULLIS_TOKENS__SESSION_ABSOLUTE_TTL_SECONDS: '10800' } });
  });
  after(async () => { await t.close(); });

  it('ends a session that sat idle longer than the idle lifetime', async () => {
    const s = await registerAndLogin(t.app);
    t.clock.advanceMs(3600_000 + 1);
    const res = await refresh(t, s.refreshToken);
    assert.equal(res.statusCode, 401);
    assert.match(json<{ type: string }>(res).type, /invalid-refresh-token$/);
  });

  it('extends the idle lifetime on each refresh but never past the absolute lifetime', async () => {
    let { refreshToken } = await registerAndLogin(t.app);
    for (let hour = 1; hour <= 2; hour++) {
      t.clock.advanceMs(3000_000);
      const res = await refresh(t, refreshToken);
      assert.equal(res.statusCode, 200, `refresh after ${hour} x 50 min`);
      refreshToken = json<{ refreshToken: string }>(res).refreshToken;
    }
    t.clock.advanceMs(3000_000);
    const third = await refresh(t, refreshToken);
    assert.equal(third.statusCode, 200);
    refreshToken = json<{ refreshToken: string }>(third).refreshToken;
    t.clock.advanceMs(3000_000); // 200 minutes after login: past the 180-minute absolute lifetime
    assert.equal((await refresh(t, refreshToken)).statusCode, 401);
  });

  it('keeps revocations across a restart: the revocation set is rebuilt from the database', async () => {
    const s = await registerAndLogin(t.app);
    const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' } });
    assert.equal(logout.statusCode, 204, 'an empty JSON body is accepted');
    const restarted = await createTestApp({ database: t.database, masterKey: t.masterKey, startMs: t.clock.nowMs() });
    try {
      const res = await restarted.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${s.accessToken}` } });
      assert.equal(res.statusCode, 401);
    } finally {
      await restarted.close();
    }
  });

  it('refuses a refresh after the account was locked and revokes the session', async () => {
    const s = await registerAndLogin(t.app);
    await t.database.db.updateTable('users').set({ locked_at: new Date(t.clock.nowMs()) }).where('id', '=', s.userId).execute();
    assert.equal((await refresh(t, s.refreshToken)).statusCode, 401);
    const who = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${s.accessToken}` } });
    assert.equal(who.statusCode, 401, 'the locked account\'s live access token dies with the session');
  });

  it('issues new roles at the next refresh', async () => {
    const s = await registerAndLogin(t.app);
    await t.database.db.updateTable('users').set({ roles: JSON.stringify(['user', 'auditor']) }).where('id', '=', s.userId).execute();
    const res = await refresh(t, s.refreshToken);
    const who = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${json<{ accessToken: string }>(res).accessToken}` } });
    assert.deepEqual(json<{ roles: string[] }>(who).roles, ['user', 'auditor']);
  });

  it('does not let logout end another user\'s session through their refresh token', async () => {
    const alice = await registerAndLogin(t.app);
    const bob = await registerAndLogin(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${alice.accessToken}` }, payload: { refreshToken: bob.refreshToken } });
    assert.equal(res.statusCode, 204);
    const bobWho = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${bob.accessToken}` } });
    assert.equal(bobWho.statusCode, 200);
  });
});
